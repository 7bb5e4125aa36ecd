"""Re-stating orders whose USD and CNY amounts rest on a stale rate, once a rate for their date arrives.

Checkout never waits for a fresh rate: it states an order in USD and CNY with the newest rate held and
marks it provisional (see entrepot.kernel.fx). When newer rates are loaded, each provisional order whose
day now has a rate within the staleness limit gets its USD and CNY amounts computed again, exactly as
checkout would have, and the change is recorded in fx_restatements. Orders whose day still has only a
stale rate stay provisional for the next load.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, func, insert, select, true, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from entrepot.kernel.fx import FxRates
from entrepot.kernel.money import Money
from entrepot.ordering.checkout import stated_in_usd_and_cny
from entrepot.ordering.models import FxRestatement, Order
from entrepot.organization import rates
from entrepot.organization import service as organization
from entrepot.platform.outbox import Event, HandlerRegistry

BATCH = 1_000  # orders read at a time, so a long backlog never sits in memory whole


@dataclass(frozen=True)
class Restated:
    orders: int  # re-stated now
    still_provisional: int  # their day has no fresh rate yet


def restate_provisional(session: Session, fx: FxRates, now: dt.datetime) -> Restated:
    days = session.execute(
        select(Order.currency, Order.order_date).where(Order.fx_provisional == true()).distinct()
    ).all()
    restated = waiting = 0
    for currency, day in days:
        rates = organization.rates_for(session, fx, currency, day)
        if _still_stale(rates, currency, day):
            waiting += _count_provisional(session, currency, day)
            continue
        restated += _restate_day(session, rates, currency, day, now)
    return Restated(restated, waiting)


def provisional_orders(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Order).where(Order.fx_provisional == true())) or 0


def _still_stale(rates: FxRates, currency: str, day: dt.date) -> bool:
    probe = Money(1, currency)
    return any(rates.convert(probe, target, day).provisional for target in ("USD", "CNY"))


def _count_provisional(session: Session, currency: str, day: dt.date) -> int:
    counted = select(func.count()).select_from(Order).where(*_provisional_on(currency, day))
    return session.scalar(counted) or 0


def _provisional_on(currency: str, day: dt.date) -> tuple[ColumnElement[bool], ...]:
    return (Order.fx_provisional == true(), Order.currency == currency, Order.order_date == day)


def _restate_day(session: Session, rates: FxRates, currency: str, day: dt.date, now: dt.datetime) -> int:
    restated = 0
    last_id = 0
    while True:
        orders = session.scalars(
            select(Order)
            .where(*_provisional_on(currency, day), Order.id > last_id)
            .order_by(Order.id)
            .limit(BATCH)
        ).all()
        for order in orders:
            restated += _restate(session, rates, order, now)
        if len(orders) < BATCH:
            return restated
        last_id = orders[-1].id


def _restate(session: Session, rates: FxRates, order: Order, now: dt.datetime) -> int:
    subtotal, total = Money(order.subtotal_minor, order.currency), Money(order.total_minor, order.currency)
    stated = stated_in_usd_and_cny(rates, subtotal, total, order.order_date)
    # Only while still provisional: a second process re-stating the same order changes nothing.
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.fx_provisional == true())
        .values(**stated, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a cursor's
    if changed:
        session.execute(insert(FxRestatement).values(_audit(order, stated, now)))
    return changed


def _audit(order: Order, stated: dict[str, object], now: dt.datetime) -> dict[str, object]:
    return {
        "order_id": order.id,
        "old_rate_date": order.fx_rate_date,
        "new_rate_date": stated["fx_rate_date"],
        "old_usd_rate": order.usd_rate,
        "new_usd_rate": stated["usd_rate"],
        "old_cny_rate": order.cny_rate,
        "new_cny_rate": stated["cny_rate"],
        "old_total_usd_minor": order.total_usd_minor,
        "new_total_usd_minor": stated["total_usd_minor"],
        "old_total_cny_minor": order.total_cny_minor,
        "new_total_cny_minor": stated["total_cny_minor"],
        "restated_at": now,
    }


def register(registry: HandlerRegistry, fx: FxRates) -> None:
    """Re-state provisional orders whenever rates arrive, with the process's rates brought up to date
    with every rate stored (the load may have happened in another process)."""

    def on_rates_loaded(session: Session, event: Event) -> None:
        rates.sync_book(session, fx.book)
        restate_provisional(session, fx, event.occurred_at)

    registry.register(rates.RATES_LOADED, on_rates_loaded)
