"""One transaction for a sale's queued payment events and buyers' requests: the hot path of a rush.

It holds the sale row's lock from its first statement to its commit, and the other API servers' batches
for the same sale wait for it, so what matters is how long it holds the lock: in a rush it is held
nearly all the time, and every millisecond of a batch under it is a millisecond of every request's
wait. So the payments' orders are read BEFORE the lock (see below); under it come the sale row, the
buyers' holdings and the earlier orders of buyers who hold units (who alone can be retrying), all
planned for their actual values; the decisions are made in Python; every write then goes out in one
round trip (`db.pipelined`). In a rush that is three round trips and the commit under the lock whatever
the batch's size, where a statement at a time would be one round trip per write (what each step was
worth: docs/performance.md, Flash sales; why batches at all: docs/decisions/0002-batching-not-redis.md).

The events are applied before the requests, so units a declined payment gives back are already there
for the requests behind them. A decline serves the waiting queue, which reads in turn, and money for an
order that had lapsed is marked refunded: a batch with either is written statement by statement, as
the webhook path is, and its sale row read again.

Reading before the lock: an order's status, and a pending payment's, change only in a transaction
holding the sale's lock, so what was read can be stale only if one committed in between, and the
writes tell. The statement that marks orders paid pays only reserved ones and then changes fewer rows
than were read as payable; or a write breaks a CHECK (counters worked out from a stale read). Either
raises `StaleRead`: the caller rolls back and runs the batch again with everything read under the
lock. Outcomes that write from what they read (declines, refunds), or that no write would check (a
payment whose order was not found), are read again under the lock at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash import settlement as flash_settle
from entrepot.campaigns.flash.rules import SaleCounters
from entrepot.platform.db import pipelined, planned_each_time, rows_changed


class StaleRead(Exception):
    """Orders read before the lock changed before it was taken: run the batch again, reading under it."""


@dataclass(frozen=True)
class SaleBatch:
    outcomes: list[str]  # one per event
    taken: list[flash.Taken]  # one per ticket
    counters: SaleCounters  # the sale's, once the batch commits
    strategy: str


def run(
    session: Session,
    sale_id: int,
    events: list[flash_settle.PaymentEvent],
    tickets: list[flash.Ticket],
    now: dt.datetime,
    read_ahead: bool = True,
) -> SaleBatch:
    ahead = _read_ahead(session, sale_id, events) if read_ahead else None
    sale = flash.lock_sale(session, sale_id)
    with planned_each_time(session):  # reads by lists of ids (see db.planned_each_time)
        orders, outcomes = _classified(session, sale, events, ahead)
        sale, paid = _payments(session, sale, events, outcomes, orders, now)
        units = flash_settle.units_by_sale(paid).get(sale.id, 0)
        locked = flash.counters_of(sale)
        counters = replace(locked, reserved=locked.reserved - units, sold=locked.sold + units)
        decided = flash.decide_batch(session, sale, counters, tickets, now) if tickets else None
    after = decided.after if decided is not None else counters
    paid_from_ahead = orders is ahead and bool(paid)
    try:
        with pipelined(session):
            paying = flash_settle.record_paid(session, paid, {sale.id: sale}, now)
            if decided is not None:
                flash.write_batch(session, sale.id, tickets, decided, now)
            if after != locked:
                flash.set_counters(session, sale.id, after)
    except IntegrityError as exc:
        if paid_from_ahead:  # counters worked out from a stale read break their checks
            raise StaleRead(f"a check failed after paying orders read ahead of the lock: {exc}") from exc
        raise
    if paying is not None and rows_changed(paying) != len(paid):
        if not paid_from_ahead:
            raise RuntimeError("orders read under the sale's lock changed before it was released")
        raise StaleRead(f"{len(paid)} orders read as payable, {rows_changed(paying)} still were")
    taken = _paid_in_this_batch(decided.taken, paid) if decided is not None else []
    return SaleBatch(outcomes, taken, after, sale.strategy)


def _read_ahead(
    session: Session, sale_id: int, events: list[flash_settle.PaymentEvent]
) -> dict[str, Any] | None:
    """The payments' orders, read before the sale's lock (see the module's note)."""
    if not events:
        return None
    with planned_each_time(session):
        return flash_settle.payment_orders(session, [e.payment_id for e in events], sale_id)


def _classified(
    session: Session, sale: Any, events: list[flash_settle.PaymentEvent], ahead: dict[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """The payments' orders and each event's outcome: from the read ahead of the lock if it will do,
    else read under it. It will not do for declines and refunds, which write from what they read, nor
    for an order not found, which no write would check."""
    if not events:
        return {}, []
    if ahead is not None:
        outcomes = flash_settle.classify_events(events, ahead, {sale.id: sale})
        if not flash_settle.beyond_payments(outcomes) and "unknown" not in outcomes:
            return ahead, outcomes
    orders = flash_settle.payment_orders(session, [e.payment_id for e in events], sale.id)
    return orders, flash_settle.classify_events(events, orders, {sale.id: sale})


def _payments(
    session: Session,
    sale: Any,
    events: list[flash_settle.PaymentEvent],
    outcomes: list[str],
    orders: dict[str, Any],
    now: dt.datetime,
) -> tuple[Any, list[Any]]:
    """(The sale row, the orders to record as paid with the batch's writes.) Declines and refunds
    (rare) are applied at once, statement by statement, and the sale row read again."""
    if flash_settle.beyond_payments(outcomes):
        flash_settle.apply_outcomes(session, events, outcomes, orders, {sale.id: sale}, now)
        return flash.lock_sale(session, sale.id), []
    return sale, flash_settle.paid_orders(events, outcomes, orders)


def _paid_in_this_batch(taken: list[flash.Taken], paid: list[Any]) -> list[flash.Taken]:
    """A replayed order whose payment this very batch records was read before the payment's write:
    answer it as paid, as a replay after the commit would be."""
    paid_ids = {order.payment_id for order in paid}
    return [replace(t, status="paid") if t.replayed and t.payment_id in paid_ids else t for t in taken]
