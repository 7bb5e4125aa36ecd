"""The peak day the demo leaves behind, so the console's peak-day pages have something to show at once.

In a Lazada market of the demo's first seller (the one with the demo's seller key and console user):
a flash sale running now (from an hour ago to a week ahead) with units sold and units reserved, one
that sold out and ended earlier, and another seller's scheduled for tomorrow; a group buy with a team
completed (its members charged) and one still filling; a livestream whose drops are closed, open and
queued.

Campaigns and the livestream are made by the campaigns context's services, as the seller's calls would
make them. Buyers take units and join teams through the API, in process, so their orders go through the
flash runtime's batches and payments and the group buy's authorisations: the paths of a real peak day.
The day is laid out around the demo's "now" on a clock the demo moves by hand, so that a sale can sell
out and end before the demo does; who buys what is drawn from the demo's seed, so the same seed leaves
the same campaigns (their ids, as every id, are random). The outbox events they write (paid flash
orders, captures) are relayed by the demo's runner once the day is laid out, as a served app's relay
would within seconds.
"""

from __future__ import annotations

import datetime as dt
import random
import warnings
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from entrepot.api.app import API_PREFIX, create_app
from entrepot.bootstrap import sweep_campaigns
from entrepot.campaigns.common import campaign_sku
from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash.models import FlashSale
from entrepot.campaigns.group_buys import service as group_buy
from entrepot.campaigns.livestream import service as livestream
from entrepot.identity import service as identity
from entrepot.platform.deps import AppContext
from entrepot.platform.principal import Principal
from entrepot.simulation.demo import DemoSize, Seeded

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 beside its test client; the pinned httpx serves it as before, and
    # the warning would be the first thing `make demo` shows a newcomer.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
TEAM_SIZE = 3
CROWD = 8  # buyers of the running sale
# Units a running sale's buyers reserve without paying stay reserved this long (the most a sale allows),
# so a newcomer who opens the console hours after the demo still sees some.
RESERVED_FOR = 24 * 3600


class HandClock:
    """The peak day's clock: the demo sets the moment each step happens at."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class PeakDay:
    """What the demo left: public ids, for the line it prints and for tests."""

    market: str
    seller: str
    flash_sales: dict[str, str] = field(default_factory=dict)  # running, ended, tomorrow -> sale id
    group_buy: str = ""
    teams: list[str] = field(default_factory=list)  # completed, then still filling
    live_session: str = ""
    drops: list[str] = field(default_factory=list)  # closed, open, queued

    def line(self) -> str:
        sales = ", ".join(f"{state} {ref}" for state, ref in self.flash_sales.items())
        return (
            f"peak day in {self.market} (console /peak): flash sales {sales}; group buy {self.group_buy}"
            f" (a team completed, one filling); livestream {self.live_session} (drops closed, open, queued)"
        )


@dataclass
class Day:
    """The peak day being played: the app its buyers call, its clock, their keys, the seed's draws."""

    ctx: AppContext
    client: TestClient
    clock: HandClock
    rng: random.Random
    buyers: list[Principal]
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # buyer id -> (key id, plaintext)
    requests: int = 0

    def at(self, moment: dt.datetime) -> Day:
        self.clock.now = moment
        return self

    def call(self, path: str, buyer: Principal, body: dict[str, Any], *, keyed: bool = False) -> Any:
        """A buyer's POST; anything but a success stops the demo (the day is the seed's, not chance's)."""
        assert buyer.buyer_public_id is not None
        headers = {"Authorization": f"Bearer {self._key(buyer.buyer_public_id)}"}
        if keyed:
            self.requests += 1
            headers["Idempotency-Key"] = f"demo-peak-{self.requests:05d}"
        answer = self.client.post(API_PREFIX + path, json=body, headers=headers)
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"peak day: POST {path} answered {answer.status_code}: {answer.text}")
        return answer.json()

    def _key(self, buyer: str) -> str:
        if buyer not in self.keys:
            with self.ctx.db.transaction() as session:
                key, plaintext = identity.create_api_key(
                    session, "buyer", "demo peak-day buyer", self.clock(), buyer_public_id=buyer
                )
                self.keys[buyer] = (key.public_id, plaintext)
        return self.keys[buyer][1]

    def revoke_keys(self) -> None:
        """The buyers' keys served this day only: nobody holds their plaintext afterwards."""
        with self.ctx.db.transaction() as session:
            for key_id, _ in self.keys.values():
                identity.revoke_api_key(session, key_id, self.clock())


def leave_peak_day(ctx: AppContext, seeded: Seeded, size: DemoSize) -> PeakDay:
    """Play the peak day around `ctx`'s now (see the module's note); needs at least TEAM_SIZE buyers."""
    now = ctx.clock()
    seller = seeded.sellers[min(seeded.sellers)]  # the first seller made: the demo's seller_1
    assert seller.seller_public_id is not None
    market, skus = _market_of(seeded, seller.seller_public_id)
    rng = random.Random(size.seed + 2)
    rng.shuffle(skus)
    clock = HandClock(now - 3 * HOUR)
    # payments declined only when asked to, as the demo's orders are (see runner._declining_only_when_told)
    app = create_app(ctx.settings.model_copy(update={"payment_decline_rate": 0.0}), ctx.db)
    app.state.ctx.clock = clock
    day = Day(app.state.ctx, TestClient(app), clock, rng, _buyers(seeded, market))
    if len(day.buyers) < TEAM_SIZE:
        raise RuntimeError(f"a peak day needs at least {TEAM_SIZE} buyers")
    peak = PeakDay(market, seller.seller_public_id)
    peak.flash_sales["ended"] = _sold_out_sale(day, seller, market, skus[0], now)
    peak.flash_sales["running"] = _running_sale(day, seller, market, skus[1 % len(skus)], now)
    peak.group_buy, peak.teams = _group_buy(day, seller, market, skus[2 % len(skus)], now)
    drop_skus = [skus[(3 + i) % len(skus)] for i in range(3)]
    peak.live_session, peak.drops = _livestream(day, seller, market, drop_skus, now)
    other, other_market, other_sku = _another_lazada_seller(seeded, seller, market, skus[0])
    peak.flash_sales["tomorrow"] = _tomorrows_sale(
        day.at(now - 5 * MINUTE), other, other_market, other_sku, now
    )
    # the sweeper's round at `now`: the ended sale and the closed drop's sale are settled and closed
    sweep_campaigns(day.at(now).ctx)
    day.revoke_keys()
    return peak


def _market_of(seeded: Seeded, seller: str) -> tuple[str, list[str]]:
    """The seller's Lazada market (any of its markets if it sells on none) and its SKUs there."""
    markets = sorted(
        (not market.startswith("lazada-"), market, listing.skus)
        for market, listings in seeded.listings.items()
        for listing in listings
        if listing.seller == seller and listing.skus
    )
    if not markets:
        raise RuntimeError(f"the demo's first seller {seller} lists nothing")
    _, market, skus = markets[0]
    return market, list(skus)


def _buyers(seeded: Seeded, market: str) -> list[Principal]:
    """The market's own buyers, when there are enough of them for a sale's crowd; else every buyer (a
    flash sale or a team takes anyone's order)."""
    home = seeded.buyers.get(market.rsplit("-", 1)[1].upper(), [])
    return home if len(home) >= CROWD else [b for buyers in seeded.buyers.values() for b in buyers]


def _another_lazada_seller(
    seeded: Seeded, seller: Principal, market: str, sku: str
) -> tuple[Principal, str, str]:
    """The next seller selling on Lazada, so the operator's list holds another seller's sale too (the
    first seller's own market and SKU when there is none)."""
    for row_id in sorted(seeded.sellers):
        other = seeded.sellers[row_id]
        if other.seller_public_id == seller.seller_public_id:
            continue
        for code, listings in sorted(seeded.listings.items()):
            mine = [lst for lst in listings if lst.seller == other.seller_public_id and lst.skus]
            if code.startswith("lazada-") and mine:
                return other, code, mine[0].skus[0]
    return seller, market, sku


def _sale_price(session: Session, seller: Principal, market: str, sku: str, percent_off: int) -> int:
    regular = campaign_sku(session, seller, market, sku, "flash sales").sku.unit_price_minor
    return max(regular * (100 - percent_off) // 100, 1)


@dataclass(frozen=True)
class Offer:
    """A flash sale's terms: units, the most one buyer holds, the discount, the time to pay."""

    stock: int
    per_buyer_limit: int
    percent_off: int
    reservation_ttl_seconds: int = 600


def _create_sale(
    day: Day, seller: Principal, market: str, sku: str, window: tuple[dt.datetime, dt.datetime], offer: Offer
) -> str:
    with day.ctx.db.transaction() as session:
        price = _sale_price(session, seller, market, sku, offer.percent_off)
        spec = flash.SaleSpec(
            sku, market, price, offer.stock, offer.per_buyer_limit, *window, offer.reservation_ttl_seconds
        )
        return flash.create_sale(session, seller, spec, day.clock()).public_id


def _take(day: Day, sale: str, buyer: Principal, quantity: int, pay: bool) -> None:
    body: dict[str, Any] = {"quantity": quantity} | ({"payment_method": "card"} if pay else {})
    day.call(f"/flash-sales/{sale}/orders", buyer, body, keyed=True)


def _sold_out_sale(day: Day, seller: Principal, market: str, sku: str, now: dt.datetime) -> str:
    """Three hours ago, for half an hour: every unit bought and paid in its first minutes."""
    start = now - 3 * HOUR
    sale = _create_sale(day.at(start), seller, market, sku, (start, start + 30 * MINUTE), Offer(6, 2, 50))
    for minute, buyer in enumerate(day.rng.sample(day.buyers, TEAM_SIZE), start=1):
        _take(day.at(start + minute * MINUTE), sale, buyer, 2, pay=True)
    return sale


def _running_sale(day: Day, seller: Principal, market: str, sku: str, now: dt.datetime) -> str:
    """From an hour ago to a week ahead: units paid for, and units reserved by buyers still to pay."""
    start = now - HOUR
    window = (start, now + dt.timedelta(days=7))
    sale = _create_sale(day.at(start), seller, market, sku, window, Offer(24, 3, 30, RESERVED_FOR))
    buyers = day.rng.sample(day.buyers, min(CROWD, len(day.buyers)))
    for index, buyer in enumerate(buyers):
        pays = index == 0 or (index != 1 and day.rng.random() < 0.7)  # at least one of each
        _take(day.at(start + (5 + 6 * index) * MINUTE), sale, buyer, day.rng.randint(1, 3), pays)
    return sale


def _group_buy(day: Day, seller: Principal, market: str, sku: str, now: dt.datetime) -> tuple[str, list[str]]:
    """Running for a week: one team filled (every member's payment captured), one still a member short."""
    start = now - HOUR
    with day.at(start).ctx.db.transaction() as session:
        spec = group_buy.GroupBuySpec(
            sku,
            market,
            _sale_price(session, seller, market, sku, 25),
            team_size=TEAM_SIZE,
            team_window_seconds=2 * 24 * 3600,  # a newcomer has two days to see the open team fill
            stock=12,
            starts_at=start,
            ends_at=now + dt.timedelta(days=7),
        )
        campaign = group_buy.create_group_buy(session, seller, spec, day.clock()).public_id
    teams = []
    for members, opened in ((TEAM_SIZE, start + 10 * MINUTE), (TEAM_SIZE - 1, start + 40 * MINUTE)):
        first, *others = day.rng.sample(day.buyers, members)
        team = day.at(opened).call(f"/group-buys/{campaign}/teams", first, {"payment_method": "card"})["id"]
        for minute, buyer in enumerate(others, start=1):
            day.at(opened + minute * MINUTE).call(
                f"/group-teams/{team}/members", buyer, {"payment_method": "card"}
            )
        teams.append(team)
    return campaign, teams


def _livestream(
    day: Day, seller: Principal, market: str, skus: list[str], now: dt.datetime
) -> tuple[str, list[str]]:
    """Live since an hour ago: the first drop sold and closed, the second open now, the third queued."""
    start = now - HOUR
    with day.at(start).ctx.db.transaction() as session:
        live = livestream.start_session(
            session, seller, market, "Mei", "Peak-day picks, live", day.clock()
        ).public_id
        drops = []
        for sku, stock in zip(skus, (6, 5, 8), strict=True):
            price = _sale_price(session, seller, market, sku, 40)
            spec = livestream.DropSpec(sku, price, stock, per_buyer_limit=1)
            drops.append(livestream.add_drop(session, seller, live, spec).public_id)
    _sell_drop(day, seller, live, drops[0], now - 50 * MINUTE, buyers=4)
    with day.at(now - 30 * MINUTE).ctx.db.transaction() as session:
        livestream.close_drop(session, seller, live, drops[0], day.clock())
    _sell_drop(day, seller, live, drops[1], now - 15 * MINUTE, buyers=2)
    return live, drops


def _sell_drop(day: Day, seller: Principal, live: str, drop: str, opened: dt.datetime, buyers: int) -> None:
    with day.at(opened).ctx.db.transaction() as session:
        sale = livestream.open_drop(session, seller, live, drop, day.clock()).sale_id
        assert sale is not None
        sale_ref = session.get_one(FlashSale, sale).public_id
    for minute, buyer in enumerate(day.rng.sample(day.buyers, min(buyers, len(day.buyers))), start=1):
        _take(day.at(opened + minute * MINUTE), sale_ref, buyer, 1, pay=True)


def _tomorrows_sale(day: Day, seller: Principal, market: str, sku: str, now: dt.datetime) -> str:
    start = now + dt.timedelta(days=1)
    return _create_sale(day, seller, market, sku, (start, start + 2 * HOUR), Offer(20, 2, 40))
