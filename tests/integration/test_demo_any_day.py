"""The demo on a day long after its bundled rates: with the clock pinned to 2027-06-01 and no new rate
file, every market with buyers takes orders, stated in USD and CNY provisionally; the currencies the ECB
does not publish (VND, SAR) are priced on the operator rates the demo seeded up to that day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from entrepot.bootstrap import build_context
from entrepot.ordering import checkout, placing
from entrepot.ordering.models import Order
from entrepot.organization.models import FxManualRate
from entrepot.platform.db import Database
from entrepot.platform.settings import Settings
from entrepot.simulation import demo, scenario

pytestmark = pytest.mark.slow  # the demo, end to end

PINNED = dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC)


def test_the_demo_takes_orders_in_every_market_in_2027_with_provisional_conversions(
    database: Database,
) -> None:
    settings = Settings(database_url=database.url, run_sweeper=False, clock=PINNED)
    ctx = build_context(settings, database)
    size = demo.DemoSize(sellers=12, products_per_seller=2, buyers=60, orders_per_day=1, days=3)
    seeded = demo.seed(ctx, size, lambda *_: None)
    now = ctx.clock()
    placed: dict[str, Order] = {}
    for market, listings in sorted(seeded.listings.items()):
        buyers = seeded.buyers.get(market.rsplit("-", 1)[1].upper())
        if not buyers or not listings:
            continue
        basket = checkout.Basket(market, None, [(listings[0].skus[0], 1)])
        with ctx.db.transaction() as session:
            order = placing.place_order(
                session, buyers[0], basket, f"k-{market}", f"k-{market}", ctx.limits, ctx.fx, now
            ).order
            placed[market] = order
    currencies = {o.currency for o in placed.values()}
    every = {m.currency for markets in scenario.MARKETS.values() for m in markets}
    assert currencies == every, every - currencies
    assert all(o.fx_provisional for o in placed.values())  # USD and CNY orders too: the other side is stale
    with ctx.db.transaction() as session:
        newest = {
            c: session.scalar(
                select(FxManualRate.on).where(FxManualRate.currency == c).order_by(FxManualRate.on.desc())
            )
            for c in scenario.MANUAL_RATES
        }
    assert newest == dict.fromkeys(scenario.MANUAL_RATES, PINNED.date())
