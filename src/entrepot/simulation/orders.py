"""Weeks of shopping: buyers in every market place, pay for, receive, cancel and return orders,
through the same services the API calls, with daily seasonality and the 11.11 and 12.12 peaks."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from entrepot.api.deps import AppContext
from entrepot.identity.domain import Principal
from entrepot.kernel.errors import DomainError
from entrepot.ordering import checkout
from entrepot.ordering import service as ordering
from entrepot.simulation.demo import DemoSize, Progress, Seeded

OPERATOR = Principal("operator", "demo-operator")
MARKET_WEIGHT = {"taobao": 30.0, "tmall": 25.0, "lazada": 3.0, "aliexpress": 2.0}


def day_factor(day: dt.date) -> float:
    """Weekends are busier; Singles' Day and Double 12 are the peaks, with presales the day before."""
    peaks = {(11, 10): 2.0, (11, 11): 6.0, (11, 12): 1.5, (11, 28): 1.4, (12, 11): 1.5, (12, 12): 3.0}
    weekend = 1.15 if day.weekday() >= 5 else 1.0
    return peaks.get((day.month, day.day), 1.0) * weekend


def drive(ctx: AppContext, seeded: Seeded, size: DemoSize, progress: Progress) -> Counter[str]:
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
            _one_order(ctx, seeded, rng, market, moment, end, stats, f"demo-{size.seed}-{done}")
            done += 1
            if done % 50 == 0:
                progress("orders", done, total)
        _sweep(ctx, start + dt.timedelta(days=1), stats)
    progress("orders", total, total)
    return stats


def _sweep(ctx: AppContext, now: dt.datetime, stats: Counter[str]) -> None:
    with ctx.db.transaction() as session:
        stats["expired unpaid"] += ordering.expire_overdue(session, now, batch=10_000)


def _one_order(
    ctx: AppContext,
    seeded: Seeded,
    rng: random.Random,
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
    try:
        with ctx.db.transaction() as session:
            placed = checkout.place_order(session, buyer, basket, key, key, ctx.limits, ctx.fx, now)
    except DomainError as exc:
        stats[f"rejected: {exc.code}"] += 1
        return
    stats["placed"] += 1
    order_id = placed.order.public_id
    if rng.random() < 0.04:
        stats["left unpaid"] += 1
        return
    if not _pay(ctx, buyer, order_id, now + dt.timedelta(minutes=rng.uniform(0.2, 5)), stats):
        return
    _after_payment(ctx, seeded, rng, buyer, order_id, placed.order.seller_id, now, end, stats)


def _pay(ctx: AppContext, buyer: Principal, order_id: str, now: dt.datetime, stats: Counter[str]) -> bool:
    with ctx.db.transaction() as session:
        _, delivery = ordering.start_payment(session, buyer, order_id, "card", ctx.payments, now)
    secret, tolerance = ctx.settings.webhook_secret, ctx.settings.webhook_tolerance_seconds
    outcome = ordering.receive_webhook(ctx.db, secret, tolerance, delivery.body, delivery.signature, now)
    stats[outcome] += 1
    return outcome == "paid"


def _after_payment(
    ctx: AppContext,
    seeded: Seeded,
    rng: random.Random,
    buyer: Principal,
    order_id: str,
    seller_id: int,
    paid_at: dt.datetime,
    end: dt.datetime,
    stats: Counter[str],
) -> None:
    seller = next(p for p in seeded.sellers.values() if p.seller_id == seller_id)
    fate = rng.random()
    if fate < 0.02:
        _act(ctx, buyer, order_id, "cancel", paid_at + dt.timedelta(hours=2), end, stats)
        return
    steps = [("fulfil", 0.5), ("ship", 1.0), ("deliver", 4.0), ("complete", 10.0)]
    for action, after_days in steps:
        actor = buyer if action == "complete" else seller
        if not _act(ctx, actor, order_id, action, paid_at + dt.timedelta(days=after_days), end, stats):
            return
    if fate < 0.05:
        when = paid_at + dt.timedelta(days=12)
        if _act(ctx, buyer, order_id, "request_return", when, end, stats):
            _act(ctx, seller, order_id, "receive_return", when + dt.timedelta(days=3), end, stats)
            _refund(ctx, seller, order_id, None, when + dt.timedelta(days=3), end, stats)
    elif fate < 0.06:
        _refund(ctx, seller, order_id, 0.2, paid_at + dt.timedelta(days=11), end, stats)


def _act(
    ctx: AppContext,
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
    ctx: AppContext,
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
        order = ordering.get_order(session, order_id, seller)
        remaining = order.total_minor - order.refunded_minor
        amount = remaining if share is None else max(1, int(remaining * share))
        ordering.refund(session, seller, order_id, amount, "returned" if share is None else "goodwill", when)
    stats["refund" if share is None else "partial refund"] += 1
