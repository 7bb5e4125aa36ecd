"""After payment, a day's orders at a time: some are cancelled, the rest shipped by the logistics
network (its `order.paid` handler plans and books their parcels as the relay runs it) and carried by the
simulated carriers, or, when the network cannot take them, shipped by hand by their sellers; delivered
orders are completed, a few returned and refunded. Each step is one transaction for the day's orders,
with the outbox relayed between them (`relaying`) as the served app's relay would have run meanwhile."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.ordering import queries
from entrepot.ordering import service as ordering
from entrepot.ordering.context import OrderingContext
from entrepot.platform.outbox import HandlerRegistry
from entrepot.platform.principal import Principal
from entrepot.simulation import carriers, relaying
from entrepot.simulation.demo import Seeded

# Shares of paid orders, by the fate drawn for each: cancelled before shipping, returned, refunded in part.
CANCELLED, RETURNED, REFUNDED_IN_PART = 0.02, 0.05, 0.06
BY_HAND = (("fulfil", 0.5), ("ship", 1.0), ("deliver", 4.0))  # the seller's steps, days after payment


@dataclass(frozen=True)
class Paid:
    """An order its buyer paid for, and what will become of it."""

    order_ref: str
    seller_id: int
    buyer: Principal
    at: dt.datetime
    fate: float


@dataclass(frozen=True)
class Day:
    """What a day's fulfilment works with: the seed, the app's handlers and the events they could not
    handle, the day's end (when its events are relayed) and the end of the simulated weeks."""

    seeded: Seeded
    registry: HandlerRegistry
    left: set[int]
    now: dt.datetime
    end: dt.datetime


def fulfil(ctx: OrderingContext, day: Day, rng: random.Random, paid: list[Paid], stats: Counter[str]) -> None:
    with ctx.db.transaction() as session:
        for p in paid:
            if p.fate < CANCELLED:
                _act(session, p.buyer, p.order_ref, "cancel", p.at + dt.timedelta(hours=2), day.end, stats)
    _relay(ctx, day)  # order.paid: parcels planned and booked; shipment.planned: their emissions
    shipping = [p for p in paid if p.fate >= CANCELLED]
    with ctx.db.transaction() as session:
        carried = carriers.carry(session, [p.order_ref for p in shipping], rng, day.end)
    _relay(ctx, day)  # the orders follow their parcels: shipped, delivered
    with ctx.db.transaction() as session:
        for p, (shipped, delivered_at) in zip(shipping, carried, strict=True):
            _count_shipping(stats, shipped, delivered_at)
            if not shipped:  # the network could not take it: the seller ships it by hand
                delivered_at = _by_hand(session, day, p, stats)
            if delivered_at is not None:  # else still on its way when the weeks end, or sent back
                _after_delivery(session, day, p, delivered_at, stats)


def _relay(ctx: OrderingContext, day: Day) -> None:
    relaying.drain(ctx.db, day.registry, day.now, day.left)


def _count_shipping(stats: Counter[str], shipped: bool, delivered_at: dt.datetime | None) -> None:
    if not shipped:
        stats["not shipped by the network"] += 1
        return
    stats["shipped by the network"] += 1
    stats["orders delivered by the end" if delivered_at else "orders in transit or returned at the end"] += 1


def _by_hand(session: Session, day: Day, p: Paid, stats: Counter[str]) -> dt.datetime | None:
    """The seller's fulfil, ship and deliver; when it was delivered, if that was by the end."""
    seller = day.seeded.sellers[p.seller_id]
    for action, days in BY_HAND:
        if not _act(session, seller, p.order_ref, action, p.at + dt.timedelta(days=days), day.end, stats):
            return None
    return p.at + dt.timedelta(days=BY_HAND[-1][1])


def _after_delivery(
    session: Session, day: Day, p: Paid, delivered_at: dt.datetime, stats: Counter[str]
) -> None:
    """Completed by the buyer three days after delivery; then a few returned (and refunded in full) or
    refunded in part as a goodwill gesture."""
    seller = day.seeded.sellers[p.seller_id]
    if not _act(
        session, p.buyer, p.order_ref, "complete", delivered_at + dt.timedelta(days=3), day.end, stats
    ):
        return
    if p.fate < RETURNED:
        when = delivered_at + dt.timedelta(days=5)
        if _act(session, p.buyer, p.order_ref, "request_return", when, day.end, stats):
            back = when + dt.timedelta(days=3)
            _act(session, seller, p.order_ref, "receive_return", back, day.end, stats)
            _refund(session, seller, p.order_ref, None, back, day.end, stats)
    elif p.fate < REFUNDED_IN_PART:
        _refund(session, seller, p.order_ref, 0.2, delivered_at + dt.timedelta(days=4), day.end, stats)


def _act(
    session: Session,
    actor: Principal,
    order_ref: str,
    action: str,
    when: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
) -> bool:
    if when >= end:  # the simulated weeks end before this step would happen
        return False
    ordering.transition(session, actor, order_ref, action, when)
    stats[action] += 1
    return True


def _refund(
    session: Session,
    seller: Principal,
    order_ref: str,
    share: float | None,
    when: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
) -> None:
    if when >= end:
        return
    order = queries.get_order(session, order_ref, seller)
    remaining = order.total_minor - order.refunded_minor
    amount = remaining if share is None else max(1, int(remaining * share))
    ordering.refund(session, seller, order_ref, amount, "returned" if share is None else "goodwill", when)
    stats["refund" if share is None else "partial refund"] += 1
