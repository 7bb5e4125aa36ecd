"""One transaction for a sale's queued payment events and buyers' requests: the hot path of a rush.

It holds the sale row's lock from its first statement to its commit, and the other API servers' batches
for the same sale wait for it, so what matters is how many round trips it holds the lock for. The
reads come first (the sale row, the payments' orders, the requests' earlier orders and holdings), the
decisions are made in Python, and every write then goes out in one round trip (`db.pipelined`):
five round trips and the commit, whatever the batch's size.

The events are applied before the requests, so units a declined payment gives back are already there
for the requests behind them. A decline (or money for an order that had lapsed) serves the waiting
queue, which reads in turn; a batch with one is written statement by statement, as the webhook path is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from entrepot.db import pipelined
from entrepot.ordering import flash, flash_settle
from entrepot.ordering.flash_rules import SaleCounters


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
) -> SaleBatch:
    sale = flash.lock_sale(session, sale_id)
    orders = flash_settle.payment_orders(session, [e.payment_id for e in events], sale_id) if events else {}
    outcomes = flash_settle.classify_events(events, orders, {sale.id: sale})
    paid: list[Any] = []
    if flash_settle.moves_units_back(outcomes):  # rare: applied now, the queue served, the row read again
        flash_settle.apply_outcomes(session, events, outcomes, orders, {sale.id: sale}, now)
        sale = flash.lock_sale(session, sale_id)
    else:
        paid = flash_settle.paid_orders(events, outcomes, orders)
    units = sum(order.quantity for order in paid)
    locked = flash.counters_of(sale)
    counters = replace(locked, reserved=locked.reserved - units, sold=locked.sold + units)
    decided = flash.decide_batch(session, sale, counters, tickets, now) if tickets else None
    after = decided.after if decided is not None else counters
    with pipelined(session):
        flash_settle.record_paid(session, paid, {sale.id: sale}, now)
        if decided is not None:
            flash.write_batch(session, sale_id, tickets, decided, now)
        if after != locked:
            flash.set_counters(session, sale_id, after)
    taken = _paid_in_this_batch(decided.taken, paid) if decided is not None else []
    return SaleBatch(outcomes, taken, after, sale.strategy)


def _paid_in_this_batch(taken: list[flash.Taken], paid: list[Any]) -> list[flash.Taken]:
    """A replayed order whose payment this very batch records was read before the payment's write:
    answer it as paid, as a replay after the commit would be."""
    paid_ids = {order.payment_id for order in paid}
    return [replace(t, status="paid") if t.replayed and t.payment_id in paid_ids else t for t in taken]
