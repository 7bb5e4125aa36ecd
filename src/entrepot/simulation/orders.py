"""Weeks of shopping: buyers in every market place, pay for, receive, cancel and return orders,
through the same services the API calls, with daily seasonality and the 11.11 and 12.12 peaks."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.kernel.errors import DomainError
from entrepot.logistics import events as logistics_events
from entrepot.ordering import checkout, placing, queries
from entrepot.ordering import events as ordering_events
from entrepot.ordering import service as ordering
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.shipping import DeliveryOptionUnavailable
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry
from entrepot.platform.principal import Principal
from entrepot.simulation import carriers
from entrepot.simulation.demo import DemoSize, Progress, Seeded

OPERATOR = Principal("operator", "demo-operator")
MARKET_WEIGHT = {"taobao": 30.0, "tmall": 25.0, "lazada": 3.0, "aliexpress": 2.0}
# What buyers pick at checkout; None takes the default option (the cheapest standard delivery).
DELIVERY_CHOICES = (None, "express-cheapest", "standard-greenest", "economy-cheapest")
DELIVERY_WEIGHTS = (70, 12, 10, 8)


def day_factor(day: dt.date) -> float:
    """Weekends are busier; Singles' Day and Double 12 are the peaks, with presales the day before."""
    peaks = {(11, 10): 2.0, (11, 11): 6.0, (11, 12): 1.5, (11, 28): 1.4, (12, 11): 1.5, (12, 12): 3.0}
    weekend = 1.15 if day.weekday() >= 5 else 1.0
    return peaks.get((day.month, day.day), 1.0) * weekend


@dataclass(frozen=True)
class Declines:
    """How often the demo's buyers' payments are declined, and why: drawn from the demo's seed."""

    rate: float
    reasons: list[str]

    def method(self, rng: random.Random) -> str:
        """The payment method a buyer uses: a card, or one the simulated provider must decline."""
        if rng.random() < self.rate:
            return f"decline_{rng.choice(self.reasons)}"
        return "card"


def drive(
    ctx: OrderingContext, seeded: Seeded, size: DemoSize, progress: Progress, declines: Declines
) -> Counter[str]:
    """Place, pay, ship and settle the demo's orders, day by day. `ctx`'s provider must decline only
    what `declines` tells it to (a `decline_<reason>` method), so the same seed gives the same orders."""
    rng = random.Random(size.seed + 1)
    stats: Counter[str] = Counter()
    markets = [m for m in seeded.listings if seeded.buyers.get(m.rsplit("-", 1)[1].upper())]
    weights = [MARKET_WEIGHT[m.rsplit("-", 1)[0]] for m in markets]
    days = [size.start + dt.timedelta(days=d) for d in range(size.days)]
    total = sum(round(size.orders_per_day * day_factor(d)) for d in days)
    done = 0
    end = dt.datetime.combine(size.end, dt.time(0), dt.UTC)
    for day in days:
        count = round(size.orders_per_day * day_factor(day))
        start = dt.datetime.combine(day, dt.time(0), dt.UTC)
        for moment in sorted(start + dt.timedelta(seconds=rng.uniform(0, 86_400)) for _ in range(count)):
            market = rng.choices(markets, weights)[0]
            _one_order(ctx, seeded, rng, declines, market, moment, end, stats, f"demo-{size.seed}-{done}")
            done += 1
            if done % 50 == 0:
                progress("orders", done, total)
        _sweep(ctx, start + dt.timedelta(days=1), stats)
    progress("orders", total, total)
    return stats


def _sweep(ctx: OrderingContext, now: dt.datetime, stats: Counter[str]) -> None:
    stats["expired unpaid"] += ordering.expire_overdue(ctx.db, ctx.payments, now, batch=10_000)


def _one_order(
    ctx: OrderingContext,
    seeded: Seeded,
    rng: random.Random,
    declines: Declines,
    market: str,
    now: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
    key: str,
) -> None:
    buyer = rng.choice(seeded.buyers[market.rsplit("-", 1)[1].upper()])
    listing = rng.choice(seeded.listings[market])
    skus = rng.sample(listing.skus, k=min(len(listing.skus), rng.choice([1, 1, 1, 2, 3])))
    basket = checkout.Basket(market, None, [(sku, rng.choice([1, 1, 1, 2, 3])) for sku in skus])
    option = rng.choices(DELIVERY_CHOICES, DELIVERY_WEIGHTS)[0]
    try:
        placed = _place(ctx, buyer, basket, key, now, option, stats)
    except DomainError as exc:
        stats[f"rejected: {exc.code}"] += 1
        return
    stats["placed"] += 1
    order_id = placed.order.public_id
    if rng.random() < 0.04:
        stats["left unpaid"] += 1
        return
    method = declines.method(rng)
    if not _pay(ctx, buyer, order_id, method, now + dt.timedelta(minutes=rng.uniform(0.2, 5)), stats):
        return
    _after_payment(ctx, seeded, rng, buyer, order_id, placed.order.seller_id, now, end, stats)


def _place(
    ctx: OrderingContext,
    buyer: Principal,
    basket: checkout.Basket,
    key: str,
    now: dt.datetime,
    option: str | None,
    stats: Counter[str],
) -> checkout.Placed:
    """Place with the buyer's delivery choice; one the basket does not offer, the buyer takes the default."""
    try:
        with ctx.db.transaction() as session:
            return placing.place_order(
                session, buyer, basket, key, key, ctx.limits, ctx.fx, now, None, ctx.shipping, option
            )
    except DeliveryOptionUnavailable:
        stats["delivery option unavailable: default taken"] += 1
        return _place(ctx, buyer, basket, key, now, None, stats)


def _pay(
    ctx: OrderingContext, buyer: Principal, order_id: str, method: str, now: dt.datetime, stats: Counter[str]
) -> bool:
    with ctx.db.transaction() as session:
        _, delivery = ordering.start_payment(session, buyer, order_id, method, ctx.payments, now)
    secrets, tolerance = (ctx.settings.webhook_secret,), ctx.settings.webhook_tolerance_seconds
    outcome = ordering.receive_webhook(ctx.db, secrets, tolerance, delivery.body, delivery.signature, now)
    stats[outcome] += 1
    return outcome == "paid"


def _after_payment(
    ctx: OrderingContext,
    seeded: Seeded,
    rng: random.Random,
    buyer: Principal,
    order_id: str,
    seller_id: int,
    paid_at: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
) -> None:
    seller = seeded.sellers[seller_id]
    fate = rng.random()
    if fate < 0.02:
        _act(ctx, buyer, order_id, "cancel", paid_at + dt.timedelta(hours=2), end, stats)
        return
    shipped, delivered_at = _ship(ctx, rng, order_id, end, stats)
    if not shipped:  # the network could not take it: the seller ships it by hand
        steps = [("fulfil", 0.5), ("ship", 1.0), ("deliver", 4.0)]
        if not all(
            _act(ctx, seller, order_id, a, paid_at + dt.timedelta(days=d), end, stats) for a, d in steps
        ):
            return
        delivered_at = paid_at + dt.timedelta(days=4)
    if delivered_at is None:
        return  # still on its way when the simulated weeks end, or sent back
    if not _act(ctx, buyer, order_id, "complete", delivered_at + dt.timedelta(days=3), end, stats):
        return
    if fate < 0.05:
        when = delivered_at + dt.timedelta(days=5)
        if _act(ctx, buyer, order_id, "request_return", when, end, stats):
            _act(ctx, seller, order_id, "receive_return", when + dt.timedelta(days=3), end, stats)
            _refund(ctx, seller, order_id, None, when + dt.timedelta(days=3), end, stats)
    elif fate < 0.06:
        _refund(ctx, seller, order_id, 0.2, delivered_at + dt.timedelta(days=4), end, stats)


def _ship(
    ctx: OrderingContext, rng: random.Random, order_id: str, end: dt.datetime, stats: Counter[str]
) -> tuple[bool, dt.datetime | None]:
    """The order.paid handler plans and books the shipments, as the relay runs it (and, idempotent, will
    ship nothing twice when the API's relay meets the event); then carriers scan the parcels along.
    Returns whether it was shipped, and when its last parcel was delivered if that was by the end."""
    with ctx.db.transaction() as session:
        row = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "order.paid", OutboxEvent.aggregate_id == order_id)
        ).one()
        paid = Event(row.public_id, row.type, row.aggregate_id, row.payload, row.occurred_at)
        try:
            with session.begin_nested():
                logistics_events.plan_shipments_on_paid(session, paid, ctx.fx)
        except DomainError as exc:
            stats[f"not shipped: {exc.code}"] += 1
            return False, None
    with ctx.db.transaction() as session:
        delivered_at = carriers.carry(session, order_id, rng, end)
        _follow_parcels(session, order_id)
    stats["shipped by the network"] += 1
    stats["orders delivered by the end" if delivered_at else "orders in transit or returned at the end"] += 1
    return True, delivered_at


def _follow_parcels(session: Session, order_id: str) -> None:
    """The order follows its parcels as the relay would move it: ordering's handlers of logistics'
    delivery events (shipped, delivered), run on this order's events now (idempotent, so the API's relay
    changes nothing when it meets them), so that the buyer can complete the delivered order."""
    registry = HandlerRegistry()
    ordering_events.register(registry)
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.aggregate_id == order_id, OutboxEvent.type.in_(registry.event_types()))
        .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
    ).all()
    for row in rows:
        for handler in registry.handlers_for(row.type):
            handler(session, Event(row.public_id, row.type, row.aggregate_id, row.payload, row.occurred_at))


def _act(
    ctx: OrderingContext,
    actor: Principal,
    order_id: str,
    action: str,
    when: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
) -> bool:
    if when >= end:  # the simulated weeks end before this step would happen
        return False
    with ctx.db.transaction() as session:
        ordering.transition(session, actor, order_id, action, when)
    stats[action] += 1
    return True


def _refund(
    ctx: OrderingContext,
    seller: Principal,
    order_id: str,
    share: float | None,
    when: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
) -> None:
    if when >= end:
        return
    with ctx.db.transaction() as session:
        order = queries.get_order(session, order_id, seller)
        remaining = order.total_minor - order.refunded_minor
        amount = remaining if share is None else max(1, int(remaining * share))
        ordering.refund(session, seller, order_id, amount, "returned" if share is None else "goodwill", when)
    stats["refund" if share is None else "partial refund"] += 1
