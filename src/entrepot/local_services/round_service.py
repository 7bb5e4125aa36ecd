"""A dispatch round on the stored state, in one transaction: trips taken back first (an offer left
unanswered, a courier late at its first store), then the orders waiting for a courier and the couriers
free on shift are loaded, the pure dispatch (`batching.batch`, `dispatch_match.match`) plans trips on the
city's travel times, and each committed match is written as a trip offered to its courier, its orders
assigned, with their events. Orders and couriers are read FOR UPDATE SKIP LOCKED on PostgreSQL, so two
rounds at once (two API processes) never offer one order or one courier twice, and a cancellation in
flight is not overwritten: what is locked waits for the next round.

Run every ENTREPOT_LOCAL_DISPATCH_INTERVAL_SECONDS by `entrepot serve` (`dispatch_rounds`), or once by
`entrepot local dispatch-round`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from prometheus_client import Counter, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from entrepot.kernel.ids import new_id
from entrepot.local_services.courier_service import release_trip
from entrepot.local_services.delivery import move_order
from entrepot.local_services.models import Courier, LocalStore, OnDemandOrder, Trip
from entrepot.local_services.ondemand import DROPOFF_S, Order, StopKind, Store
from entrepot.local_services.ondemand import Courier as CourierTerms
from entrepot.local_services.order_service import dispatch_rules, free_couriers
from entrepot.local_services.roads import Mode
from entrepot.platform.db import record_events
from entrepot.platform.metrics import count_on_commit

if TYPE_CHECKING:  # matching loads scipy.optimize: imported when a round first plans
    from entrepot.local_services.dispatch_match import Commit, DispatchRules
    from entrepot.platform.deps import AppContext

log = logging.getLogger("entrepot.local_services")
TRIP_PREFIX = "trp"
TRIP_OFFERED = "local.trip_offered"
ORDER_ASSIGNED = "local.order_assigned"
OFFER_TIMEOUT = dt.timedelta(seconds=90)  # an offer not accepted by then goes to another courier


ROUND_SECONDS = Histogram(
    "entrepot_dispatch_round_seconds",
    "On-demand dispatch rounds run by the serve job, by how long each took",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ROUND_OUTCOMES = Counter(
    "entrepot_dispatch",
    "What dispatch rounds did, counted when the round commits: trips offered, orders assigned, trips"
    " released (offers not taken in time, declined, couriers late)",
    ["what"],
)


@dataclass(frozen=True)
class RoundResult:
    trips_offered: int
    orders_assigned: int
    released: int
    waiting: int


def dispatch_round(session: Session, now: dt.datetime, rules: DispatchRules | None = None) -> RoundResult:
    rules = rules or dispatch_rules()
    released = release_overdue(session, now, rules)
    orders = _due(session, now, rules)
    couriers = free_couriers(session, now, lock=True) if orders else []
    commits: list[Commit] = []
    if orders and couriers:
        commits = _plan(session, orders, couriers, now, rules)
    assigned = sum(len(c.trip.orders) for c in commits)
    waiting = session.scalar(select(func.count()).where(OnDemandOrder.state == "placed")) or 0
    done = (("trips_offered", len(commits)), ("orders_assigned", assigned), ("released", released))
    for what, amount in done:
        if amount:
            count_on_commit(session, ROUND_OUTCOMES, what, amount)
    return RoundResult(len(commits), assigned, released, waiting)


def release_overdue(session: Session, now: dt.datetime, rules: DispatchRules) -> int:
    """Take back the offers nobody accepted within OFFER_TIMEOUT, and the trips whose courier has not
    picked anything up `late_grace_s` after it was expected at the first store: their orders are
    planned again this round."""
    lapsed = select(Trip).where(Trip.state == "offered", Trip.offered_at <= now - OFFER_TIMEOUT)
    late_at = now - dt.timedelta(seconds=rules.late_grace_s)
    # picked up or delivered: the courier reached a store (a cancelled order says nothing of where it is)
    on_board = select(OnDemandOrder.id).where(
        OnDemandOrder.trip_id == Trip.id, OnDemandOrder.state.in_(("picked_up", "delivered"))
    )
    late = select(Trip).where(Trip.state == "accepted", Trip.eta_first_at <= late_at, ~on_board.exists())
    count = 0
    for query, why in ((lapsed, "offer lapsed"), (late, "courier late")):
        for trip in session.scalars(query.with_for_update(skip_locked=True)):
            release_trip(session, trip, now, why)
            count += 1
    return count


def _due(session: Session, now: dt.datetime, rules: DispatchRules) -> list[OnDemandOrder]:
    horizon = now + dt.timedelta(seconds=rules.horizon_s)
    query = (
        select(OnDemandOrder)
        .where(OnDemandOrder.state == "placed", OnDemandOrder.ready_at <= horizon)
        .order_by(OnDemandOrder.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def _plan(
    session: Session,
    orders: Sequence[OnDemandOrder],
    couriers: Sequence[Courier],
    now: dt.datetime,
    rules: DispatchRules,
) -> list[Commit]:
    from entrepot.local_services.batching import batch
    from entrepot.local_services.citysim import CityTravel
    from entrepot.local_services.dispatch_match import CourierState, match
    from entrepot.local_services.locate import city

    stores = list(session.scalars(select(LocalStore).where(LocalStore.id.in_({o.store_id for o in orders}))))
    # places: couriers, then stores, then doors (row i of the travel table is place i)
    points = [(c.lat or 0.0, c.lon or 0.0) for c in couriers]
    store_place = {s.id: len(points) + i for i, s in enumerate(stores)}
    points += [(s.lat, s.lon) for s in stores]
    first_door = len(points)
    points += [(o.lat, o.lon) for o in orders]
    travel = CityTravel(city(), np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    t = now.timestamp()
    pure_stores = {
        s.id: Store(s.id, store_place[s.id], 0.0, float("inf"), s.prep_minutes * 60.0, s.kind) for s in stores
    }
    pure_orders = {
        o.id: Order(
            o.id,
            o.store_id,
            first_door + i,
            o.units,
            o.placed_at.timestamp(),
            o.ready_at.timestamp(),
            o.promised_at.timestamp(),
        )
        for i, o in enumerate(orders)
    }
    states = [
        CourierState(
            CourierTerms(c.id, Mode(c.mode), c.shift_starts_at.timestamp(), c.shift_ends_at.timestamp(), i),
            i,
            t,
        )
        for i, c in enumerate(couriers)
    ]
    trips = batch(list(pure_orders.values()), pure_stores, travel, t, rules.batching)
    commits = match(trips, pure_orders, states, travel, t, rules)
    by_id = {o.id: o for o in orders}
    modes = {c.id: Mode(c.mode) for c in couriers}
    if commits:
        _offer(session, commits, by_id, points, modes, now)
    return commits


def _at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _offer(
    session: Session,
    commits: Sequence[Commit],
    orders: dict[int, OnDemandOrder],
    points: Sequence[tuple[float, float]],
    modes: dict[int, Mode],
    now: dt.datetime,
) -> None:
    """Each commit as a trip offered to its courier, its orders assigned with their ETA: the trips
    inserted together, the events written two statements for the round (not a flush per trip)."""
    trips = [_trip(commit, orders, points, now) for commit in commits]
    session.add_all(trips)
    session.flush()
    assigned: list[tuple[str, dict[str, object]]] = []
    for commit, trip in zip(commits, trips, strict=True):
        for stop, start in zip(commit.trip.stops, commit.starts, strict=True):
            if stop.kind is not StopKind.DROPOFF:
                continue
            for ref in stop.orders:
                order = orders[ref]
                order.state = move_order(order.public_id, order.state, "assigned")
                order.trip_id = trip.id
                order.eta_at = _at(start + DROPOFF_S[modes[commit.courier]])
                assigned.append(
                    (order.public_id, {"trip": trip.public_id, "eta_at": order.eta_at.isoformat()})
                )
    offered = [
        (
            trip.public_id,
            {"courier_id": commit.courier, "orders": [orders[o].public_id for o in commit.trip.orders]},
        )
        for commit, trip in zip(commits, trips, strict=True)
    ]
    record_events(session, TRIP_OFFERED, offered, now)
    record_events(session, ORDER_ASSIGNED, assigned, now)


def _trip(
    commit: Commit, orders: dict[int, OnDemandOrder], points: Sequence[tuple[float, float]], now: dt.datetime
) -> Trip:
    stops = [
        {
            "kind": stop.kind.value,
            "orders": [orders[o].public_id for o in stop.orders],
            "lat": points[stop.place][0],
            "lon": points[stop.place][1],
            "at": _at(start).isoformat(),
        }
        for stop, start in zip(commit.trip.stops, commit.starts, strict=True)
    ]
    return Trip(
        public_id=new_id(TRIP_PREFIX),
        courier_id=commit.courier,
        state="offered",
        stops=stops,
        offered_at=now,
        eta_first_at=_at(commit.eta_first),
        free_at=_at(commit.free_at),
    )


def run_round(ctx: AppContext) -> RoundResult:
    with ROUND_SECONDS.time(), ctx.db.transaction() as session:
        return dispatch_round(session, ctx.clock())


async def dispatch_rounds(ctx: AppContext) -> None:
    """A round every ENTREPOT_LOCAL_DISPATCH_INTERVAL_SECONDS (0: none), on the thread pool; a failed
    round is logged and the next one tried, as the relay and sweeper do."""
    interval = ctx.settings.local_dispatch_interval_seconds
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(run_round, ctx)
        except Exception:  # keep dispatching: the database may be back next round
            log.exception("dispatch round failed")
