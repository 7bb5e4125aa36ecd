"""The webhooks' settings, from ENTREPOT_WEBHOOKS_* environment variables (read where a worker or the API
is built, like the platform's settings)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrepot.integrations.domain import RetrySchedule
from entrepot.platform.deps import AppContext

SETTINGS = "integrations.settings"


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTREPOT_WEBHOOKS_", extra="ignore")

    allow_private: bool = Field(
        default=False,
        description="Let subscriptions and deliveries reach private, loopback and link-local addresses. "
        "Off in production: a seller types the URL and the worker calls it from inside the network (server-"
        "side request forgery). On for tests and local trials, whose receivers listen on 127.0.0.1.",
    )
    run_worker: bool = Field(default=True, description="Deliver webhooks from the API process too.")
    poll_seconds: float = Field(default=0.5, gt=0, description="Pause when no delivery is due.")
    concurrency: int = Field(default=32, ge=1, le=1000, description="Endpoints sent to at once per worker.")
    in_flight_per_endpoint: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Requests in flight to one endpoint at once. 1 sends an endpoint's messages in the order "
        "of their events; more is faster to a slow or distant receiver, in no promised order (the spec "
        "promises none).",
    )
    batch_per_endpoint: int = Field(default=100, ge=1, le=10_000, description="Deliveries per claim.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Per request, to the last byte.")
    lease_seconds: float = Field(default=120.0, gt=0, description="How long a worker holds an endpoint.")
    backoff_seconds: float = Field(default=10.0, gt=0, description="Wait after the first failure.")
    backoff_max_seconds: float = Field(default=4 * 3600.0, gt=0, description="Longest wait between tries.")
    max_attempts: int = Field(default=17, ge=1, le=100, description="Then the delivery is failed.")
    disable_after_seconds: float = Field(
        default=24 * 3600.0, gt=0, description="An endpoint failing every attempt this long is disabled..."
    )
    disable_after_failures: int = Field(default=10, ge=1, description="...once it failed this many in a row.")
    rotation_overlap_seconds: float = Field(
        default=24 * 3600.0, ge=0, le=30 * 24 * 3600, description="How long a rotated-out secret still signs."
    )

    def schedule(self) -> RetrySchedule:
        return RetrySchedule(
            self.backoff_seconds, max(self.backoff_max_seconds, self.backoff_seconds), self.max_attempts
        )

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_seconds)

    @property
    def disable_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.disable_after_seconds)


def settings_of(ctx: AppContext) -> WebhookSettings:
    """The webhooks' settings of this app's context: read from the environment on first use, or set by
    whoever built the context (tests allow private targets so)."""
    found = ctx.runtimes.get(SETTINGS)
    if not isinstance(found, WebhookSettings):
        found = ctx.runtimes[SETTINGS] = WebhookSettings()
    return found
