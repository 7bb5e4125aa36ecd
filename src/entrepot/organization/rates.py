"""Use cases of FX rates: loading the ECB's files and operators' rates, and how fresh each currency is.

Loaded ECB rates are stored (fx_published_rates) as well as added to the process's rate book, so that
every API process picks them up on its next refresh (`sync_book`) and a restart keeps them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.kernel.ecb import PublishedRate
from entrepot.kernel.errors import DomainError, ValidationFailed
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.fx import FxRates, RateBook, load_ecb
from entrepot.organization.models import FxManualRate, FxPublishedRate, Market
from entrepot.organization.service import set_manual_rate
from entrepot.platform.db import record_event
from entrepot.platform.settings import Settings

# Written whenever rates arrive, so whoever states amounts in other currencies (ordering's provisional
# orders) can state them again.
RATES_LOADED = "fx.rates_loaded"
OPERATOR_COLUMNS = ("currency", "on", "per_usd")  # and an optional note
MAX_OPERATOR_ROWS = 100_000


def rates_of(settings: Settings) -> FxRates:
    """Rates to convert with: the ECB history (bundled, or ENTREPOT_FX_ECB_FILE) in a book of their own,
    to which `sync_book` adds the rates stored in the database, and the settings' staleness limit."""
    return FxRates(load_ecb(settings.fx_ecb_file).copy(), settings.fx_max_staleness_days)


@dataclass(frozen=True)
class Loaded:
    rates: int  # rates in the file
    stored: int  # new or corrected ones (the rest the book already held, same value)
    newest: dt.date


def load_ecb_rates(
    session: Session, book: RateBook, rates: list[PublishedRate], source: str, now: dt.datetime
) -> Loaded:
    """Store the rates the book does not hold yet (or holds with another value) and add them to it."""
    fresh = [r for r in rates if book.on_or_before(r.currency, r.on) != (r.on, r.per_eur)]
    for rate in fresh:
        _upsert_published(session, rate, source[:200], now)
    session.flush()
    book.add(fresh)
    loaded = Loaded(len(rates), len(fresh), max(r.on for r in rates))
    announce(session, sorted({r.currency for r in fresh}), loaded.newest, now)
    return loaded


def announce(session: Session, currencies: list[str], newest: dt.date, now: dt.datetime) -> None:
    """Tell the other contexts that rates for these currencies arrived (nothing if none did)."""
    if currencies:
        payload = {"currencies": currencies, "newest": newest.isoformat()}
        record_event(session, DomainEvent(RATES_LOADED, "fx", payload), now)


def _upsert_published(session: Session, rate: PublishedRate, source: str, now: dt.datetime) -> None:
    existing = session.scalar(
        select(FxPublishedRate).where(
            FxPublishedRate.currency == rate.currency, FxPublishedRate.on == rate.on
        )
    )
    if existing is None:
        session.add(
            FxPublishedRate(
                currency=rate.currency, on=rate.on, per_eur=rate.per_eur, source=source, loaded_at=now
            )
        )
    else:
        existing.per_eur, existing.source, existing.loaded_at = rate.per_eur, source, now


def sync_book(session: Session, book: RateBook) -> int:
    """Add to the book the stored rates loaded since it last looked (by any process); how many."""
    since = book.synced_through
    rows = session.execute(
        select(FxPublishedRate.id, FxPublishedRate.currency, FxPublishedRate.on, FxPublishedRate.per_eur)
        .where(FxPublishedRate.id > since)
        .order_by(FxPublishedRate.id)
    ).all()
    if rows:
        book.add(PublishedRate(r.currency, r.on, Decimal(r.per_eur)) for r in rows)
        book.synced_through = rows[-1].id
    return len(rows)


def load_operator_csv(session: Session, text: str, now: dt.datetime) -> Loaded:
    """Operator rates from a CSV with columns currency, on, per_usd (and optionally note), one rate a
    row; the first bad row rejects the whole file, naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in OPERATOR_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"an operator rate file needs the columns {', '.join(OPERATOR_COLUMNS)}")
    currencies, newest = set(), dt.date.min
    rows = _bounded_rows(reader)
    if not rows:
        raise ValidationFailed("the operator rate file has no rows")
    for line, row in enumerate(rows, start=2):
        currency, on = _operator_row(session, row, line)
        currencies.add(currency)
        newest = max(newest, on)
    announce(session, sorted(currencies), newest, now)
    return Loaded(len(rows), len(rows), newest)


def _bounded_rows(reader: csv.DictReader[str]) -> list[dict[str, str]]:
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_OPERATOR_ROWS:
                raise ValidationFailed(f"an operator rate file holds at most {MAX_OPERATOR_ROWS:,} rows")
    except csv.Error as error:
        raise ValidationFailed(f"line {reader.line_num}: {error}") from None
    return rows


def _operator_row(session: Session, row: dict[str, str], line: int) -> tuple[str, dt.date]:
    currency = (row["currency"] or "").strip().upper()
    try:
        on = dt.date.fromisoformat((row["on"] or "").strip())
        per_usd = Decimal((row["per_usd"] or "").strip())
        set_manual_rate(session, currency, on, per_usd, (row.get("note") or "")[:200])
    except (ValueError, InvalidOperation):
        raise ValidationFailed(
            f"line {line}: 'on' must be a date (YYYY-MM-DD) and 'per_usd' a number"
        ) from None
    except DomainError as error:
        raise ValidationFailed(f"line {line}: {error.detail}", error.field_errors) from None
    return currency, on


@dataclass(frozen=True)
class Freshness:
    currency: str
    newest: dt.date | None  # the newest rate held (None: no rate at all)
    source: str  # ECB, operator, identity (EUR) or none
    age_days: int | None
    stale: bool  # older than the staleness limit today: new amounts in it are provisional


def fx_status(session: Session, fx: FxRates, today: dt.date) -> list[Freshness]:
    """How old the newest rate is for every currency a market sells in, and USD and CNY (the
    currencies every order is also stated in)."""
    currencies = sorted({"USD", "CNY", *session.scalars(select(Market.currency).distinct())})
    newest_rows = session.execute(
        select(FxManualRate.currency, func.max(FxManualRate.on))
        .where(FxManualRate.on <= today)
        .group_by(FxManualRate.currency)
    )
    operator_newest: dict[str, dt.date] = {currency: on for currency, on in newest_rows}
    return [_freshness(fx, c, operator_newest.get(c), today) for c in currencies]


def _freshness(fx: FxRates, currency: str, operator_newest: dt.date | None, today: dt.date) -> Freshness:
    if currency == "EUR":
        return Freshness(currency, today, "identity", 0, False)
    in_book = currency in fx.ecb_currencies()
    newest = fx.newest_day(currency, today) if in_book else operator_newest  # the newest today uses
    if newest is None:
        return Freshness(currency, None, "none", None, True)
    age = (today - newest).days
    return Freshness(currency, newest, "ECB" if in_book else "operator", age, fx.is_stale(newest, today))


def stale_currencies(status: list[Freshness]) -> list[str]:
    return [f.currency for f in status if f.stale]
