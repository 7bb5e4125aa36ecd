"""One settings object, read from ENTREPOT_* environment variables."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse as parse_rate_limit
from pydantic import AwareDatetime, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrepot.kernel.bounds import MAX_LINE_QUANTITY
from entrepot.kernel.clock import Clock, pinned, system_clock

DEFAULT_SQLITE_PATH = Path("var") / "entrepot.platform.db"


# The development default, published with the code: production refuses to start with it.
DEV_WEBHOOK_SECRET = "whsec_dev_only_change_me"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
Environment = Literal["production", "development", "test"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTREPOT_", extra="ignore")

    env: Environment = Field(
        default="production",
        description="production (the default) refuses to start with a published default (the development "
        "webhook secret, the default SQLite file); development (the demo) and test accept them.",
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://... in production.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    api_threads: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Threads for the API's blocking work (database calls), shared by requests, the "
        "relay, sweepers and live-feed polls; by default db_pool_size.",
    )
    reservation_ttl_seconds: int = Field(default=900, ge=5, le=7 * 24 * 3600)
    sweeper_interval_seconds: float = Field(default=5.0, gt=0)
    local_dispatch_interval_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="Seconds between on-demand dispatch rounds in `entrepot serve` (0: none; then run "
        "`entrepot local dispatch-round` from a scheduler).",
    )
    run_sweeper: bool = True
    run_relay: bool = Field(default=True, description="Hand outbox events to their handlers in the API.")
    relay_interval_seconds: float = Field(default=1.0, gt=0)
    # A round's claims and reads cost about the same for 100 events as for 500: under the checkout bench
    # (1,800 events/s) 500 gave 977-1,000 paid orders/s against 907-962 with 100 (2026-12-07).
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_max_attempts: int = Field(default=10, ge=1, le=1000)
    relay_backoff_seconds: float = Field(default=5.0, gt=0, description="Wait after the first failure.")
    relay_backoff_max_seconds: float = Field(default=1800.0, gt=0, description="Longest wait between tries.")
    webhook_secret: str = Field(default=DEV_WEBHOOK_SECRET, min_length=16)
    webhook_previous_secret: str | None = Field(
        default=None,
        min_length=16,
        description="While rotating: the secret being retired, still accepted until "
        "webhook_previous_secret_until, so webhooks signed before the switch are not lost.",
    )
    webhook_previous_secret_until: AwareDatetime | None = Field(
        default=None, description="The end of the rotation's overlap window (ISO 8601 with a time zone)."
    )
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    payment_decline_rate: float = Field(default=0.03, ge=0.0, le=1.0)
    payment_decline_reasons: str = "insufficient_funds,card_declined,expired_card,fraud_suspected"
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_line_quantity: int = Field(default=MAX_LINE_QUANTITY, ge=1)
    max_order_lines: int = Field(default=100, ge=1)
    fx_ecb_file: str | None = Field(
        default=None, description="A newer ECB eurofxref-hist file (zip or csv) than the bundled one."
    )
    fx_max_staleness_days: int = Field(
        default=45,
        ge=0,
        le=3660,
        description="A rate older than this for the day it converts is still used, and the amount marked "
        "provisional until a rate for the day is loaded.",
    )
    fx_refresh_seconds: float = Field(
        default=60.0, gt=0, description="How often each API process picks up rates loaded by any process."
    )
    gc_freeze_at_start: bool = Field(
        default=True,
        description="Once started, keep the start-up objects out of garbage collection (see api.app).",
    )
    routes_precompute_at_start: bool = Field(
        default=True,
        description="Once started, compute the route planner's lower bounds for the stored network in the "
        "background where none were written for it (as `entrepot logistics precompute` does, in var/routes).",
    )
    api_key_cache_seconds: float = Field(default=30.0, ge=0)
    rate_limits: bool = Field(
        default=True, description="Limit how fast each API key and each address signing in may call (429)."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        pattern=r"^(memory|redis|rediss)://",
        description="Where the counts live: memory:// (this process only: the demo) or redis://host:port/db "
        "(shared by every worker and server: production). Redis out of reach: requests go through unchecked.",
    )
    rate_limit_strategy: Literal["sliding", "fixed", "moving"] = Field(
        default="sliding", description="The `limits` strategy: sliding window counter, fixed or moving."
    )
    rate_limit_operator: str = Field(default="1200/minute", description="Requests a key may make, by role.")
    rate_limit_seller: str = "600/minute"
    rate_limit_buyer: str = "300/minute"
    rate_limit_carrier: str = "1200/minute"  # scanners post a scan per parcel
    rate_limit_sign_in: str = Field(
        default="10/minute", description="Console sign-in attempts per client address."
    )

    @field_validator(
        "rate_limit_operator",
        "rate_limit_seller",
        "rate_limit_buyer",
        "rate_limit_carrier",
        "rate_limit_sign_in",
    )
    @classmethod
    def _a_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # the notation the limiter reads: `100/minute`, `10 per second`
        return value

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`entrepot serve`'s log lines: text, or one JSON object a line with the request's id.",
    )
    page_size_max: int = Field(default=200, ge=1)
    console_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=7 * 24 * 60,
        description="A console session unused for this long is ended: the next page asks to sign in again.",
    )
    console_session_hours: int = Field(
        default=12,
        ge=1,
        le=30 * 24,
        description="A console session ends this long after signing in, however much it is used.",
    )
    console_sessions_kept_days: int = Field(
        default=30,
        ge=1,
        le=3660,
        description="Ended console sessions (who was signed in when) are deleted by the sweeper after this.",
    )
    console_secure_cookies: bool = Field(
        default=False,
        description="Mark the console's cookies Secure on every answer, not only on those asked for over "
        "https: behind a TLS proxy whose X-Forwarded-Proto the server does not trust (FORWARDED_ALLOW_IPS).",
    )
    reporting_snapshot_dir: str = Field(
        default="var/snapshot", description="Folder of the reporting Parquet snapshot."
    )
    fiscal_year_end_month: int = Field(default=3, ge=1, le=12, description="Fiscal year end (3: March).")
    clock: AwareDatetime | None = Field(
        default=None,
        description="Pin the product's clock: it starts at this instant (ISO 8601 with a time zone, e.g. "
        "2027-06-01T09:00:00Z) and runs at real speed from there. Unset: the system clock.",
    )

    def published_defaults(self) -> list[str]:
        """The settings still at a value anyone who reads the code knows, each with why it matters."""
        found = []
        if self.webhook_secret == DEV_WEBHOOK_SECRET:
            found.append(
                "ENTREPOT_WEBHOOK_SECRET is the published development value: anyone can sign a payment"
            )
        if self.webhook_previous_secret == DEV_WEBHOOK_SECRET:
            found.append("ENTREPOT_WEBHOOK_PREVIOUS_SECRET is the published development value")
        if self.database_url == DEFAULT_DATABASE_URL:
            found.append("ENTREPOT_DATABASE_URL is the default SQLite file (use PostgreSQL in production)")
        return found

    def refuse_published_defaults(self) -> None:
        """In production, stop with every published default named; elsewhere, accept them."""
        found = self.published_defaults()
        if self.env == "production" and found:
            raise PublishedDefaults(
                "ENTREPOT_ENV=production will not start with published defaults: "
                + "; ".join(found)
                + " (ENTREPOT_ENV=development for a local trial)"
            )

    def decline_reasons(self) -> list[str]:
        """The simulated provider's decline reasons, as listed in payment_decline_reasons."""
        return [r.strip() for r in self.payment_decline_reasons.split(",") if r.strip()]

    def webhook_secrets(self, now: dt.datetime) -> tuple[str, ...]:
        """The secrets a webhook may be signed with now: the current one, and during a rotation the
        previous one until its overlap window closes."""
        previous = self.webhook_previous_secret
        if previous and self.webhook_previous_secret_until and now < self.webhook_previous_secret_until:
            return (self.webhook_secret, previous)
        return (self.webhook_secret,)

    def make_clock(self) -> Clock:
        """The clock every "now" and "today" comes from: pinned if ENTREPOT_CLOCK says so."""
        return system_clock if self.clock is None else pinned(self.clock)


class PublishedDefaults(RuntimeError):
    """Production settings left at a value published with the code."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
