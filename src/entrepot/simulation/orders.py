"""Weeks of shopping: buyers in every market place, pay for, receive, cancel and return orders,
through the same services the API calls, with daily seasonality and the 11.11 and 12.12 peaks.

Orders go through checkout as the API's coalescer sends them: the orders of an hour of a day are one
batch, placed in one transaction (`placing.place_orders`, paid at placement) and settled by their
provider's signed webhooks, verified and applied as a batch (`apply_payment_events`); the orders of a
batch share its moment, as the requests a coalescer groups do. What follows payment (shipping, carriers'
scans, completion, returns) is `fulfilment`'s, a day at a time, with the app's outbox handlers run as
it goes (`relaying`), so the demo leaves no backlog of events behind."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass

from entrepot.bootstrap import relay_registry
from entrepot.kernel.errors import DomainError
from entrepot.ordering import checkout, placing
from entrepot.ordering import service as ordering
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.payments import parse_event, verify
from entrepot.ordering.shipping import DeliveryOptionUnavailable
from entrepot.platform.principal import Principal
from entrepot.simulation import fulfilment, relaying
from entrepot.simulation.demo import DemoSize, Progress, Seeded
from entrepot.simulation.fulfilment import Paid

MARKET_WEIGHT = {"taobao": 30.0, "tmall": 25.0, "lazada": 3.0, "aliexpress": 2.0}
# What buyers pick at checkout; None takes the default option (the cheapest standard delivery).
DELIVERY_CHOICES = (None, "express-cheapest", "standard-greenest", "economy-cheapest")
DELIVERY_WEIGHTS = (70, 12, 10, 8)
LEFT_UNPAID = 0.04  # of orders placed: the buyer never pays (the sweeper cancels them)


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


@dataclass(frozen=True)
class Shopper:
    """One order as the buyer will ask for it, drawn before it is placed."""

    key: str
    at: dt.datetime
    buyer: Principal
    basket: checkout.Basket
    option: str | None
    method: str | None  # None: placed and never paid
    fate: float  # what happens after payment (see fulfilment.after_payment)


def drive(
    ctx: OrderingContext, seeded: Seeded, size: DemoSize, progress: Progress, declines: Declines
) -> Counter[str]:
    """Place, pay, ship and settle the demo's orders, day by day. `ctx`'s provider must decline only
    what `declines` tells it to (a `decline_<reason>` method), so the same seed gives the same orders."""
    rng = random.Random(size.seed + 1)
    stats: Counter[str] = Counter()
    days = [size.start + dt.timedelta(days=d) for d in range(size.days)]
    total = sum(round(size.orders_per_day * day_factor(d)) for d in days)
    registry, left = relay_registry(ctx.fx), set[int]()
    end = dt.datetime.combine(size.end, dt.time(0), dt.UTC)
    drawn = 0
    for day in days:
        shoppers = _draw_day(seeded, rng, declines, day, size, drawn)
        paid: list[Paid] = []
        for _, group in itertools.groupby(shoppers, key=lambda s: s.at.hour):
            hour = list(group)
            paid += _pay(ctx, _place(ctx, hour, stats), hour[0].at, rng, stats)
        drawn += len(shoppers)
        progress("orders", drawn, total)
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), dt.UTC)
        fulfilment.fulfil(ctx, fulfilment.Day(seeded, registry, left, midnight, end), rng, paid, stats)
        stats["expired unpaid"] += ordering.expire_overdue(ctx.db, ctx.payments, midnight, batch=10_000)
    relaying.drain(ctx.db, registry, end, left)
    return stats


def _draw_day(
    seeded: Seeded, rng: random.Random, declines: Declines, day: dt.date, size: DemoSize, drawn: int
) -> list[Shopper]:
    """The day's orders in the order they come, each with its buyer, basket, choices and fate."""
    markets = [m for m in seeded.listings if seeded.buyers.get(m.rsplit("-", 1)[1].upper())]
    weights = [MARKET_WEIGHT[m.rsplit("-", 1)[0]] for m in markets]
    count = round(size.orders_per_day * day_factor(day))
    start = dt.datetime.combine(day, dt.time(0), dt.UTC)
    moments = sorted(start + dt.timedelta(seconds=rng.uniform(0, 86_400)) for _ in range(count))
    shoppers = []
    for index, moment in enumerate(moments):
        market = rng.choices(markets, weights)[0]
        buyer = rng.choice(seeded.buyers[market.rsplit("-", 1)[1].upper()])
        listing = rng.choice(seeded.listings[market])
        skus = rng.sample(listing.skus, k=min(len(listing.skus), rng.choice([1, 1, 1, 2, 3])))
        basket = checkout.Basket(market, None, [(sku, rng.choice([1, 1, 1, 2, 3])) for sku in skus])
        option = rng.choices(DELIVERY_CHOICES, DELIVERY_WEIGHTS)[0]
        method = None if rng.random() < LEFT_UNPAID else declines.method(rng)
        key = f"demo-{size.seed}-{drawn + index}"
        shoppers.append(Shopper(key, moment, buyer, basket, option, method, rng.random()))
    return shoppers


def _place(
    ctx: OrderingContext, hour: list[Shopper], stats: Counter[str]
) -> list[tuple[Shopper, checkout.Placed]]:
    """An hour's orders as one batch at its first moment; a delivery option a basket does not offer is
    asked again with the default one, in the same transaction (a refused request leaves nothing).
    Returns the orders placed to be paid, with the provider's webhook for each."""
    terms = placing.Placing(ctx.limits, ctx.fx, hour[0].at, ctx.shipping)
    with ctx.db.transaction() as session:
        outcomes = placing.place_orders(session, [_request(ctx, s, s.option) for s in hour], terms)
        again = [i for i, o in enumerate(outcomes) if isinstance(o, DeliveryOptionUnavailable)]
        stats["delivery option unavailable: default taken"] += len(again)
        retried = placing.place_orders(session, [_request(ctx, hour[i], None) for i in again], terms)
        for i, outcome in zip(again, retried, strict=True):
            outcomes[i] = outcome
    to_pay = []
    for shopper, outcome in zip(hour, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            stats[f"rejected: {outcome.code}"] += 1
            continue
        stats["placed"] += 1
        if shopper.method is None:
            stats["left unpaid"] += 1
        else:
            to_pay.append((shopper, outcome))
    return to_pay


def _request(ctx: OrderingContext, shopper: Shopper, option: str | None) -> placing.PlaceRequest:
    pay_now = None if shopper.method is None else checkout.PayNow(shopper.method, ctx.payments)
    return placing.PlaceRequest(shopper.buyer, shopper.basket, shopper.key, shopper.key, pay_now, option)


def _pay(
    ctx: OrderingContext,
    placed: list[tuple[Shopper, checkout.Placed]],
    placed_at: dt.datetime,
    rng: random.Random,
    stats: Counter[str],
) -> list[Paid]:
    """The provider's webhooks for a batch, verified as the API's route verifies them and applied as its
    coalescer applies them: in one transaction, a few minutes after placement. Returns the orders paid."""
    if not placed:
        return []
    secrets, tolerance = (ctx.settings.webhook_secret,), ctx.settings.webhook_tolerance_seconds
    events = []
    for _, outcome in placed:
        delivery = outcome.delivery
        assert delivery is not None, "paid at placement, the provider answers with a webhook"
        verify(secrets, delivery.body, delivery.signature, time.time(), tolerance)
        events.append(parse_event(delivery.body))
    at = placed_at + dt.timedelta(minutes=rng.uniform(0.2, 5))
    with ctx.db.transaction() as session:
        outcomes = ordering.apply_payment_events(session, events, at)
    paid = []
    for (shopper, outcome), settled in zip(placed, outcomes, strict=True):
        stats[settled if isinstance(settled, str) else f"payment refused: {settled.code}"] += 1
        if settled == "paid":
            order = outcome.order
            paid.append(Paid(order.public_id, order.seller_id, shopper.buyer, at, shopper.fate))
    return paid
