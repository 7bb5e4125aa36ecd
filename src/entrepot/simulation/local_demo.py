"""The demo's city day (issue 22): a grocery store and restaurants owned by demo sellers, each with its
menu (Helsinki prices), couriers bound to carrier keys of their own, and a day of on-demand orders
played through the real services: orders placed by demo buyers from the stores' menus (quoted as checkout
quotes them), dispatch rounds (round_service.dispatch_round), couriers accepting, picking up and
delivering with proof (courier_service, order_service). The clock is simulated: the loop jumps from one
thing that happens to the next, so a day takes seconds, not a day."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.catalog.models import Seller
from entrepot.identity import service as identity
from entrepot.identity.models import Buyer
from entrepot.kernel.errors import ValidationFailed
from entrepot.local_services import courier_service, menu_service, order_service, round_service, store_service
from entrepot.local_services.delivery import Line
from entrepot.local_services.locate import city, locate
from entrepot.local_services.models import Courier, OnDemandOrder, Trip
from entrepot.local_services.roads import Mode
from entrepot.logistics import service as logistics
from entrepot.organization.models import Market
from entrepot.platform.deps import AppContext
from entrepot.platform.principal import Principal

Progress = Callable[[str, int, int], None]  # (task, done, total), as the demo's seeding reports

OPERATOR = Principal(role="operator", key_id="demo-local")
CENTRE = (60.1716, 24.9443)  # the middle of the bundled map (central Helsinki)
STORES = (  # name, kind, where, prep minutes, menu (name, price in minor units: euro cents in Helsinki)
    (
        "Kauppahalli Grocer",
        "grocery",
        (60.1672, 24.9505),
        10,
        (
            ("Milk 1 l", 159),
            ("Rye bread", 349),
            ("Apples 1 kg", 299),
            ("Eggs, 10", 389),
            ("Coffee 500 g", 749),
            ("Cloudberry jam", 595),
        ),
    ),
    (
        "Kamppi Noodles",
        "restaurant",
        (60.1690, 24.9390),
        15,
        (("Shoyu ramen", 1490), ("Gyoza, 6", 790), ("Tantanmen", 1590), ("Edamame", 550), ("Iced tea", 390)),
    ),
    (
        "Kaisaniemi Pizza",
        "restaurant",
        (60.1765, 24.9420),
        18,
        (
            ("Margherita", 1290),
            ("Salami pizza", 1490),
            ("Reindeer pizza", 1790),
            ("Caesar salad", 1190),
            ("Lemonade", 450),
        ),
    ),
)
MODES = (Mode.EBIKE, Mode.SCOOTER, Mode.CAR)


@dataclass(frozen=True)
class LocalSize:
    """How big the city day is: `day` is the local date played (the demo's last day, say)."""

    day: dt.date
    orders: int = 60
    couriers: int = 6
    drop_radius_m: float = 1200.0
    seed: int = 20211206


@dataclass
class LocalSeeded:
    stores: list[str] = field(default_factory=list)
    menus: list[list[str]] = field(default_factory=list)  # each store's menu items, by store
    couriers: list[str] = field(default_factory=list)
    placed: int = 0
    refused: int = 0  # a quote the store or the map turned down
    delivered: int = 0
    trips: int = 0

    def line(self) -> str:
        return (
            f"local services: {len(self.stores)} stores, {len(self.couriers)} couriers,"
            f" {self.placed} orders placed ({self.refused} refused), {self.delivered} delivered in"
            f" {self.trips} trips"
        )


@dataclass(order=True)
class _Action:
    at: dt.datetime
    sequence: int
    kind: str = field(compare=False)  # "pickup" | "deliver"
    courier: Principal = field(compare=False)
    courier_ref: str = field(compare=False)
    order: str = field(compare=False)
    point: tuple[float, float] = field(compare=False)


def seed_local_services(ctx: AppContext, size: LocalSize, progress: Progress) -> LocalSeeded:
    """Seed the stores and couriers, then play the day; what was left behind is told in the result."""
    rng = random.Random(size.seed)
    seeded = LocalSeeded()
    with ctx.db.transaction() as session:
        market = _market(session)
        zone = ZoneInfo(market.time_zone)
        opens = dt.datetime.combine(size.day, dt.time(10), zone).astimezone(dt.UTC)
        sellers = _sellers(session, len(STORES))
        for n, (name, kind, place, prep, menu) in enumerate(STORES):
            where = locate(None, place, "place")
            seller = sellers[n % len(sellers)]  # a small demo's sellers may run two
            spec = store_service.StoreSpec(name, kind, market.code, where, "10:00", "22:00", prep, seller)
            store = store_service.open_store(session, OPERATOR, spec, opens).public_id
            seeded.stores.append(store)
            seeded.menus.append(_menu(session, store, menu, opens))
        riders = _couriers(session, size.couriers, opens)
        seeded.couriers = [ref for ref, _ in riders]
    progress("local stores and couriers", len(seeded.stores) + len(riders), len(seeded.stores) + len(riders))
    _Day(ctx, size, rng, seeded, dict(riders), opens, progress).play()
    return seeded


def _menu(session: Session, store: str, menu: tuple[tuple[str, int], ...], at: dt.datetime) -> list[str]:
    """The store's menu, its items' ids in order."""
    return [
        menu_service.add_item(session, OPERATOR, store, menu_service.ItemSpec(name, price), at).public_id
        for name, price in menu
    ]


def _market(session: Session) -> Market:
    """A European market if there is one (the map is Helsinki's): its clock keeps the shop hours sane."""
    markets = list(session.scalars(select(Market).order_by(Market.id)))
    if not markets:
        raise ValidationFailed("no market to open local stores in: seed the markets first", [])
    return next((m for m in markets if m.time_zone.startswith("Europe/")), markets[0])


def _sellers(session: Session, count: int) -> list[str]:
    found = list(session.scalars(select(Seller.public_id).order_by(Seller.id).limit(count)))
    if not found:
        raise ValidationFailed("the demo has no sellers to own local stores", [])
    return found


def _couriers(session: Session, count: int, opens: dt.datetime) -> list[tuple[str, Principal]]:
    """Couriers on a twelve-hour shift from opening, each bound to a carrier key of its own, waiting at
    the centre."""
    known = logistics.carriers(session)
    if not known:
        raise ValidationFailed("no carrier in the logistics network to make courier keys for", [])
    riders = []
    for n in range(count):
        key, _secret = identity.create_api_key(
            session, "carrier", f"courier {n + 1}", opens, carrier=known[0], carriers=lambda _: known
        )
        shift = (opens, opens + dt.timedelta(hours=12))
        courier = courier_service.register_courier(
            session, f"Courier {n + 1}", MODES[n % len(MODES)], key.public_id, shift, opens
        )
        principal = Principal(role="carrier", key_id=key.public_id, carrier=known[0])
        courier_service.ping(session, principal, courier.public_id, *CENTRE, opens)
        riders.append((courier.public_id, principal))
    return riders


class _Day:
    """The day's loop: orders placed at their times, a dispatch round whenever one is due, each offered
    trip accepted by its courier, picked up and delivered at the times the trip planned."""

    def __init__(
        self,
        ctx: AppContext,
        size: LocalSize,
        rng: random.Random,
        seeded: LocalSeeded,
        riders: dict[str, Principal],
        opens: dt.datetime,
        progress: Progress,
    ) -> None:
        self.ctx, self.size, self.rng, self.seeded, self.riders = ctx, size, rng, seeded, riders
        self.progress = progress
        # a round every two minutes, not every 15 s: an eighth of the rounds, couriers at most two
        # minutes early at a store
        self.rules = replace(order_service.dispatch_rules(), period_s=120.0)
        self.buyers = self._buyers()
        self.drops = self._drop_points()
        first, last = opens + dt.timedelta(hours=1), opens + dt.timedelta(hours=11)
        span = (last - first).total_seconds()
        self.placings = sorted(first + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(size.orders))
        self.actions: list[_Action] = []
        self.sequence = itertools.count()

    def _buyers(self) -> list[Principal]:
        with self.ctx.db.transaction() as session:
            rows = session.execute(select(Buyer.id, Buyer.public_id).order_by(Buyer.id).limit(50)).all()
        if not rows:
            raise ValidationFailed("the demo has no buyers to order from local stores", [])
        return [Principal(role="buyer", key_id="demo-local", buyer_id=i, buyer_public_id=p) for i, p in rows]

    def _drop_points(self) -> list[tuple[float, float]]:
        """Street corners of the map within the radius of the centre: where buyers are."""
        the_city = city()
        centre = the_city.project(np.array([CENTRE[0]]), np.array([CENTRE[1]]))[0]
        near = np.flatnonzero(np.hypot(*(the_city.xy - centre).T) <= self.size.drop_radius_m)
        picked = self.rng.sample(list(near), min(len(near), 4 * self.size.orders))
        return [(float(the_city.lat[i]), float(the_city.lon[i])) for i in picked]

    def play(self) -> None:
        now, first_ready = self.placings[0], None
        while self.placings or self.actions or first_ready is not None:
            with self.ctx.db.transaction() as session:
                self._place_due(session, now)
                self._act_due(session, now)
                round_service.dispatch_round(session, now, self.rules)
                self._accept_offers(session, now)
                first_ready = session.scalar(
                    select(func.min(OnDemandOrder.ready_at)).where(OnDemandOrder.state == "placed")
                )
            self.progress("local city day (orders delivered)", self.seeded.delivered, self.size.orders)
            now = self._next(now, first_ready)

    def _next(self, now: dt.datetime, first_ready: dt.datetime | None) -> dt.datetime:
        """The next round: a period on while an order waiting for a courier is within the rounds' horizon
        (a round plans it), else when the next thing happens: an order placed, a courier at a stop, a
        waiting order coming within the horizon. Rounds in between would find nothing to do."""
        period = now + dt.timedelta(seconds=self.rules.period_s)
        upcoming = self.placings[:1] + [a.at for a in self.actions[:1]]
        if first_ready is not None:
            upcoming.append(first_ready - dt.timedelta(seconds=self.rules.horizon_s))
        return max(period, min(upcoming)) if upcoming else period

    def _place_due(self, session: Session, now: dt.datetime) -> None:
        while self.placings and self.placings[0] <= now:
            self.placings.pop(0)
            self.seeded.placed += 1
            store = self.rng.randrange(len(STORES))
            menu = self.seeded.menus[store]  # a buyer picks two or three of the menu, one to three of each
            lines = [
                Line(item, self.rng.randint(1, 3)) for item in self.rng.sample(menu, self.rng.randint(2, 3))
            ]
            try:
                drop = locate(None, self.rng.choice(self.drops), "drop_off")
                buyer = self.rng.choice(self.buyers)
                order_service.place_order(session, buyer, self.seeded.stores[store], lines, drop, now)
            except ValidationFailed:
                self.seeded.refused += 1

    def _accept_offers(self, session: Session, now: dt.datetime) -> None:
        offered = session.execute(
            select(Trip, Courier.public_id)
            .join(Courier, Courier.id == Trip.courier_id)
            .where(Trip.state == "offered")
        ).all()
        for trip, courier_ref in offered:
            rider = self.riders[courier_ref]
            courier_service.accept_trip(session, rider, trip.public_id, now)
            self.seeded.trips += 1
            for stop in trip.stops:
                at = max(now, dt.datetime.fromisoformat(stop["at"]))
                kind = "pickup" if stop["kind"] == "pickup" else "deliver"
                point = (float(stop["lat"]), float(stop["lon"]))
                for ref in stop["orders"]:
                    action = _Action(at, next(self.sequence), kind, rider, courier_ref, ref, point)
                    heapq.heappush(self.actions, action)

    def _act_due(self, session: Session, now: dt.datetime) -> None:
        while self.actions and self.actions[0].at <= now:
            action = heapq.heappop(self.actions)
            courier_service.ping(session, action.courier, action.courier_ref, *action.point, action.at)
            if action.kind == "pickup":
                order_service.pick_up(session, action.courier, action.order, action.at)
                continue
            proof = order_service.Proof("code", f"door code {self.rng.randint(1000, 9999)}", action.point)
            order_service.deliver(session, action.courier, action.order, proof, action.at)
            self.seeded.delivered += 1
