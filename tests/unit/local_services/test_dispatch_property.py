"""Dispatch rules held on random small worlds (Hypothesis): stores, couriers of every vehicle mode, orders
placed and cancelled at random times, rounds every 15 s, couriers doing their trips as planned except those
that never turn up (released, their orders planned again). Over every decision:
no courier over capacity, no order on two trips at once (nor delivered twice), every order's pickup
before its drop-off, never a pickup before the store expects the food, a courier only ever on one trip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrepot.local_services.batching import batch
from entrepot.local_services.citysim import CityDay, PlacedOrder
from entrepot.local_services.citysim_play import Player
from entrepot.local_services.dispatch import Dispatcher, GreedyDispatcher, Status
from entrepot.local_services.dispatch_match import (
    INFEASIBLE,
    Commit,
    CourierState,
    DispatchRules,
    _Padded,
    _timelines,
    approach_seconds,
    schedule,
)
from entrepot.local_services.ondemand import DROPOFF_S, Order, StopKind
from entrepot.local_services.roads import Mode
from tests.unit.local_services.dispatch_world import GridTravel, courier, store

VEHICLES = (Mode.EBIKE, Mode.SCOOTER, Mode.CAR)
PERIOD = 15.0


@dataclass(frozen=True)
class World:
    points: list[tuple[int, int]]
    stores: list[tuple[int, float]]  # place, prep seconds
    couriers: list[tuple[int, Mode, bool]]  # place, mode, turns up
    orders: list[tuple[float, int, int, int, bool]]  # placed at, store, door, units, cancelled later


@st.composite
def worlds(draw: st.DrawFn) -> World:
    points = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=3, max_size=10))
    place = st.integers(0, len(points) - 1)
    stores = draw(st.lists(st.tuples(place, st.sampled_from([60.0, 300.0, 900.0])), min_size=1, max_size=3))
    couriers = draw(
        st.lists(
            st.tuples(place, st.sampled_from(VEHICLES), st.booleans().map(lambda b: b or True)),
            min_size=1,
            max_size=4,
        )
    )
    couriers = [(p, m, draw(st.integers(0, 5)) > 0) for p, m, _ in couriers]  # one in six never turns up
    orders = draw(
        st.lists(
            st.tuples(
                st.integers(0, 80).map(lambda k: k * 15.0),
                st.integers(0, len(stores) - 1),
                place,
                st.integers(1, 4),
                st.integers(0, 9).map(lambda k: k == 0),
            ),
            min_size=1,
            max_size=10,
        )
    )
    return World(points, stores, couriers, orders)


def check_commit(commit: Commit, dispatcher: Dispatcher, now: float) -> None:
    state = dispatcher.couriers[commit.courier]
    orders = {o: dispatcher.orders[o].order for o in commit.trip.orders}
    assert sum(o.units for o in orders.values()) <= state.courier.capacity
    assert commit.depart_at >= now
    pickups = {o: i for i, s in enumerate(commit.trip.stops) if s.kind is StopKind.PICKUP for o in s.orders}
    drops = [o for s in commit.trip.stops if s.kind is StopKind.DROPOFF for o in s.orders]
    assert sorted(drops) == sorted(orders) == sorted(pickups)  # each order one pickup, one drop-off
    for i, stop in enumerate(commit.trip.stops):
        if stop.kind is StopKind.DROPOFF:
            assert pickups[stop.orders[0]] < i
        else:
            assert commit.starts[i] >= max(orders[o].ready_at for o in stop.orders)
            assert all(dispatcher.stores[orders[o].store].place == stop.place for o in stop.orders)


@settings(max_examples=60, deadline=None)
@given(worlds(), st.booleans())
def test_dispatch_decisions_keep_the_rules(world: World, greedy: bool) -> None:
    travel = GridTravel(world.points)
    stores = [store(i, p, prep) for i, (p, prep) in enumerate(world.stores)]
    riders = [courier(i, p, m) for i, (p, m, _) in enumerate(world.couriers)]
    kind = GreedyDispatcher if greedy else Dispatcher
    dispatcher = kind(stores, riders, travel)
    on_trip: dict[int, Commit] = {}  # courier -> its trip, until done
    carried: dict[int, int] = {}  # order -> courier carrying it now
    delivered: set[int] = set()
    pending = sorted(enumerate(world.orders), key=lambda item: item[1][0])
    now = 0.0
    while now <= 4 * 3600:
        while pending and pending[0][1][0] <= now:
            order_id, (placed, store_id, door, units, cancels) = pending.pop(0)
            dispatcher.place(order_id, store_id, door, units, placed)
            if cancels:
                dispatcher.cancel(order_id, placed)
        _finish_trips(dispatcher, world, on_trip, carried, delivered, now)
        decided = dispatcher.round(now)
        for courier_id in decided.released:
            commit = on_trip.pop(courier_id)
            for o in commit.trip.orders:
                carried.pop(o, None)
            dispatcher.freed(courier_id, commit.trip.first_place, now)
        for commit in decided.commits:
            check_commit(commit, dispatcher, now)
            assert commit.courier not in on_trip  # one trip at a time
            for o in commit.trip.orders:
                assert o not in carried and o not in delivered  # never on two trips, never twice
                carried[o] = commit.courier
            on_trip[commit.courier] = commit
        now += PERIOD
    assert not set(carried) & delivered


def _finish_trips(
    dispatcher: Dispatcher,
    world: World,
    on_trip: dict[int, Commit],
    carried: dict[int, int],
    delivered: set[int],
    now: float,
) -> None:
    """Couriers that turn up do their trips as planned; the others never reach the store."""
    for courier_id, commit in list(on_trip.items()):
        if not world.couriers[courier_id][2]:
            continue
        if commit.eta_first <= now:
            dispatcher.arrived(courier_id, commit.eta_first)
        if commit.free_at > now:
            continue
        live = [o for o in commit.trip.orders if dispatcher.orders[o].status is Status.COMMITTED]
        dispatcher.picked_up(live, commit.starts[0])
        for o in live:
            dispatcher.delivered(o, commit.free_at)
            delivered.add(o)
        for o in commit.trip.orders:
            carried.pop(o, None)
        dispatcher.freed(courier_id, commit.trip.stops[-1].place, commit.free_at)
        del on_trip[courier_id]


@settings(max_examples=25, deadline=None)
@given(worlds())
def test_a_small_day_played_through_delivers_every_order_not_cancelled_once(world: World) -> None:
    travel = GridTravel(world.points)
    stores = [store(i, p, prep) for i, (p, prep) in enumerate(world.stores)]
    riders = [courier(i, p, m) for i, (p, m, _) in enumerate(world.couriers)]
    orders = [
        PlacedOrder(i, s, door, units, placed, stores[s].prep_s * 1.2, placed + 30.0 if cancels else None)
        for i, (placed, s, door, units, cancels) in enumerate(sorted(world.orders))
    ]
    day = CityDay(3, stores, riders, orders, travel, len(world.points), 0.0, 6 * 3600.0)
    played = Player(day, Dispatcher(stores, riders, travel), "test").play()
    assert played.placed == len(orders)
    assert played.delivered + played.cancelled == len(orders)
    assert played.on_time <= played.delivered


@settings(max_examples=60, deadline=None)
@given(worlds(), st.integers(0, 1800).map(float))
def test_every_couriers_timeline_at_once_is_the_plain_schedule(world: World, now: float) -> None:
    """`_timelines` (arrays, every courier by every trip) against `schedule` (one courier, one trip, a
    plain loop): the same arrival, the same cost."""
    travel = GridTravel(world.points)
    stores = {i: store(i, p, prep) for i, (p, prep) in enumerate(world.stores)}
    riders = [courier(i, p, m) for i, (p, m, _) in enumerate(world.couriers)]
    states = [CourierState(c, c.place, now + 60.0 * c.id) for c in riders]
    orders = {
        i: Order(i, s, door, min(units, 4), placed, placed + stores[s].prep_s, placed + 2400.0)
        for i, (placed, s, door, units, _) in enumerate(world.orders)
    }
    rules = DispatchRules()
    trips = batch(list(orders.values()), stores, travel, now, rules.batching)
    firsts = np.array([t.first_place for t in trips], dtype=np.intp)
    reach = approach_seconds(states, firsts, travel)
    start = np.array([max(now, s.free_at) for s in states])
    plan = _timelines(_Padded.of(trips, orders), states, reach, start, travel, rules)
    for r, state in enumerate(states):
        for k, trip in enumerate(trips):
            arrive = float(plan.arrive[r, k])
            first_ready = max(orders[o].ready_at for o in trip.stops[0].orders)
            assert arrive == max(start[r] + reach[r, k], first_ready - rules.batching.early_s)
            starts, end = schedule(trip, orders, state.courier.mode, arrive, travel)
            late = sum(
                max(0.0, begun + DROPOFF_S[state.courier.mode] - orders[stop.orders[0]].promised_at)
                for stop, begun in zip(trip.stops, starts, strict=True)
                if stop.kind is StopKind.DROPOFF
            )
            units = sum(orders[o].units for o in trip.orders)
            if units > state.courier.capacity or end > state.courier.shift_end:
                assert plan.cost[r, k] == INFEASIBLE
            else:
                expected = reach[r, k] + end - arrive + rules.lateness_weight * late
                assert plan.cost[r, k] == pytest.approx(expected)
