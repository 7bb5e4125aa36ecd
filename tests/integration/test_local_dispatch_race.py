"""Two dispatch rounds at once on PostgreSQL (two API processes' background jobs): real threads, each
round its own transaction. Orders and couriers are read FOR UPDATE SKIP LOCKED, so whatever the timing no
order is offered twice, no courier gets two trips, and every trip written is one an order points to."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from entrepot.local_services import round_service
from entrepot.local_services.models import OnDemandOrder, Trip
from entrepot.platform.db import Database
from tests.api.local_on_demand import Town, shipped_city
from tests.world import WORLDS, World

__all__ = ["shipped_city"]  # the fixture
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(pg_database: Database) -> World:
    return WORLDS.world_on(pg_database)


@pytest.mark.usefixtures("shipped_city")
@pytest.mark.parametrize("attempt", range(3))
def test_two_rounds_at_once_never_offer_an_order_or_a_courier_twice(pg_world: World, attempt: int) -> None:
    town = Town(pg_world)
    town.ping(0)
    town.ping(1)
    orders = [town.ok(town.order(who), 201)["id"] for who in ("buyer_a", "buyer_b", "buyer_a")]
    town.dispatched(orders[0])  # moves the clock to when the food is nearly ready (and runs one round)
    for ref in orders:  # back to waiting, so that both rounds below find all three
        with pg_world.db.transaction() as session:
            order = session.scalar(select(OnDemandOrder).where(OnDemandOrder.public_id == ref))
            assert order is not None
            order.state, order.trip_id = "placed", None
    with pg_world.db.transaction() as session:
        for trip in session.scalars(select(Trip)):
            trip.state = "released"
    start = threading.Barrier(2)
    done: list[round_service.RoundResult] = []

    def one_round() -> None:
        start.wait()
        with pg_world.db.transaction() as session:
            done.append(round_service.dispatch_round(session, pg_world.clock()))

    threads = [threading.Thread(target=one_round) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(done) == 2
    with pg_world.db.transaction() as session:
        offered = list(session.scalars(select(Trip).where(Trip.state == "offered")))
        pointed = set(
            session.scalars(select(OnDemandOrder.trip_id).where(OnDemandOrder.trip_id.is_not(None)))
        )
    assert {trip.id for trip in offered} == pointed  # every trip offered carries orders, and only those
    assert max(Counter(trip.courier_id for trip in offered).values(), default=0) <= 1
    assert sum(r.orders_assigned for r in done) == len(
        [o for trip in offered for stop in trip.stops if stop["kind"] == "dropoff" for o in stop["orders"]]
    )
    assert sum(r.trips_offered for r in done) == len(offered) >= 1
