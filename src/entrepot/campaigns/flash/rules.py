"""Pure rules of flash sales: who gets units, who waits, who is turned away. No I/O.

The service applies them to a batch of requests under the sale row's lock, so the decisions of one
batch see every earlier batch, and within a batch requests are served in arrival order (first come,
first served). A buyer's waiting claim counts against the per-buyer limit, and nobody waits for units
that can no longer come back: only reserved-but-unpaid units can return to the sale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

RESERVED = "reserved"
WAITING = "waiting"
NOT_OPEN = "sale-not-open"
ENDED = "sale-ended"
OVER_LIMIT = "over-buyer-limit"
SOLD_OUT = "sold-out"
ADMITTED = (RESERVED, WAITING)


@dataclass(frozen=True)
class SaleCounters:
    stock: int
    reserved: int
    sold: int
    waiting: int
    per_buyer_limit: int
    starts_at: dt.datetime
    ends_at: dt.datetime

    @property
    def available(self) -> int:
        return self.stock - self.reserved - self.sold

    @property
    def could_return(self) -> int:
        """Units a newcomer could still get: free ones, and held ones not already promised to the queue."""
        return self.available + self.reserved - self.waiting

    def phase(self, now: dt.datetime) -> str:
        if now < self.starts_at:
            return "scheduled"
        if now >= self.ends_at:
            return "ended"
        if self.sold >= self.stock:
            return "sold_out"
        # Every unit is held unpaid (or promised to the line): some may still come back.
        if self.available == 0 or self.waiting > 0:
            return "waiting"
        return "open"


@dataclass(frozen=True)
class Ask:
    buyer_id: int
    quantity: int


@dataclass(frozen=True)
class Decision:
    outcome: str  # RESERVED, WAITING, or the code of the problem turning the request away
    detail: str = ""


def admit(
    sale: SaleCounters, asks: list[Ask], held: dict[int, int], now: dt.datetime
) -> tuple[list[Decision], SaleCounters, dict[int, int]]:
    """Decide each ask in order; returns the decisions, the sale's new counters, and the new units held
    per buyer (only buyers whose holding changed)."""
    if now < sale.starts_at:
        return [Decision(NOT_OPEN, f"the sale opens at {sale.starts_at.isoformat()}")] * len(asks), sale, {}
    if now >= sale.ends_at:
        return [Decision(ENDED, f"the sale ended at {sale.ends_at.isoformat()}")] * len(asks), sale, {}
    decisions = []
    changed: dict[int, int] = {}
    for ask in asks:
        holding = changed.get(ask.buyer_id, held.get(ask.buyer_id, 0))
        decision, sale = _one(sale, ask, holding)
        if decision.outcome in ADMITTED:
            changed[ask.buyer_id] = holding + ask.quantity
        decisions.append(decision)
    return decisions, sale, changed


def _one(sale: SaleCounters, ask: Ask, holding: int) -> tuple[Decision, SaleCounters]:
    if holding + ask.quantity > sale.per_buyer_limit:
        left = max(0, sale.per_buyer_limit - holding)
        return Decision(OVER_LIMIT, f"{sale.per_buyer_limit} per buyer; you may take {left} more"), sale
    if sale.waiting == 0 and ask.quantity <= sale.available:
        return Decision(RESERVED), replace(sale, reserved=sale.reserved + ask.quantity)
    if ask.quantity <= sale.could_return:
        # Every unit that could serve this ask is held by a buyer who has not paid yet: queue, in order.
        return Decision(WAITING), replace(sale, waiting=sale.waiting + ask.quantity)
    return Decision(SOLD_OUT, f"no {ask.quantity} unit(s) left and none can come back"), sale


def promote(sale: SaleCounters, queue: Iterable[tuple[int, int]]) -> tuple[list[int], SaleCounters]:
    """Give returned units to the waiting queue strictly in order: (order id, quantity) pairs, oldest
    first; stops at the first that does not fit, so nobody overtakes an earlier buyer."""
    promoted = []
    for order_id, quantity in queue:
        if quantity > sale.available:
            break
        promoted.append(order_id)
        sale = replace(sale, reserved=sale.reserved + quantity, waiting=sale.waiting - quantity)
    return promoted, sale
