"""Quoting, batching and dispatch rounds on a toy grid where every time is worked out by hand
(tests/unit/local_services/dispatch_world.py: an e-bike takes 60 s a step)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from entrepot.kernel.errors import ValidationFailed
from entrepot.local_services.batching import BatchRules, batch
from entrepot.local_services.dispatch import Dispatcher, GreedyDispatcher, Status
from entrepot.local_services.dispatch_match import DispatchRules
from entrepot.local_services.ondemand import (
    BATCH_DETOUR_S,
    DROPOFF_S,
    PICKUP_S,
    PROMISE_Z,
    Order,
    StopKind,
    quote,
)
from entrepot.local_services.roads import Mode
from tests.unit.local_services.dispatch_world import GridTravel, courier, store

# places: 0 and 1 are stores next to each other, 2..5 doors, 6 a far corner, 7 and 8 doors on either side
POINTS = [(0, 0), (1, 0), (2, 0), (2, 1), (3, 0), (0, 9), (9, 9), (8, 0), (-8, 0)]
TRAVEL = GridTravel(POINTS)


def order(id: int, store_id: int, place: int, ready: float, promised: float, units: int = 1) -> Order:
    return Order(id, store_id, place, units, 0.0, ready, promised)


# -- quoting ---------------------------------------------------------------------------------------------
def test_quote_is_kitchen_ride_handling_detour_and_a_95_percent_margin() -> None:
    q = quote(store(0, 0, prep_s=600.0), placed_at=1000.0, ride_s=300.0, reach_s=100.0, backlog_s=0.0)
    assert q.eta == 1000 + 600 + PICKUP_S + 300 + DROPOFF_S[Mode.EBIKE] + BATCH_DETOUR_S
    spread = math.sqrt(150.0**2 + 45.0**2 + 90.0**2)
    assert q.spread_s == pytest.approx(spread)
    assert q.promised_at == pytest.approx(q.eta + PROMISE_Z * spread)
    assert q.window[0] < q.eta < q.window[1] == q.promised_at


def test_quote_waits_for_a_courier_farther_than_the_kitchen_and_for_the_backlog() -> None:
    kitchen = store(0, 0, prep_s=600.0)
    base = quote(kitchen, 0.0, 300.0, reach_s=100.0, backlog_s=0.0)
    assert quote(kitchen, 0.0, 300.0, reach_s=900.0, backlog_s=0.0).eta == base.eta + 300
    assert quote(kitchen, 0.0, 300.0, reach_s=100.0, backlog_s=240.0).eta == base.eta + 240


def test_an_order_outside_opening_hours_is_refused_and_nothing_is_recorded() -> None:
    lunch = store(0, 0, opens=36_000.0, closes=54_000.0)
    with pytest.raises(ValidationFailed, match=r"closed at that time: it takes orders from 10:00 to 15:00"):
        quote(lunch, 35_999.0, 300.0, 0.0, 0.0)
    dispatcher = Dispatcher([lunch], [courier(0, 2)], TRAVEL)
    with pytest.raises(ValidationFailed) as refused:
        dispatcher.place(1, 0, 2, 1, now=54_000.0)
    assert refused.value.field_errors[0].field == "store"
    assert dispatcher.orders == {}
    assert dispatcher.waiting == 0


def test_an_order_no_bag_holds_or_an_unknown_store_is_refused() -> None:
    dispatcher = Dispatcher([store(0, 0)], [courier(0, 2)], TRAVEL)
    with pytest.raises(ValidationFailed, match="1 to 4 units"):
        dispatcher.place(1, 0, 2, 5, now=0.0)
    with pytest.raises(ValidationFailed, match="no store 9"):
        dispatcher.place(1, 9, 2, 1, now=0.0)
    assert dispatcher.orders == {}


# -- batching --------------------------------------------------------------------------------------------
STORES = {0: store(0, 0), 1: store(1, 1)}


def test_orders_of_one_store_ready_together_to_near_doors_share_a_trip() -> None:
    orders = [order(1, 0, 2, 600.0, 5000.0), order(2, 0, 3, 650.0, 5000.0)]
    (trip,) = batch(orders, STORES, TRAVEL, 0.0, BatchRules())
    assert sorted(trip.orders) == [1, 2]
    assert [s.kind for s in trip.stops] == [StopKind.PICKUP, StopKind.DROPOFF, StopKind.DROPOFF]
    assert trip.stops[0].place == 0 and sorted(trip.stops[0].orders) == [1, 2]


def test_near_stores_are_one_pickup_round_in_the_order_their_food_is_ready() -> None:
    orders = [order(1, 1, 4, 600.0, 5000.0), order(2, 0, 2, 500.0, 5000.0)]
    (trip,) = batch(orders, STORES, TRAVEL, 0.0, BatchRules())
    assert [s.place for s in trip.stops[:2]] == [0, 1]  # store 0's food first


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (order(2, 0, 8, 600.0, 5000.0), "doors apart: together is longer than alone"),
        (order(2, 0, 3, 600.0 + 301.0, 5000.0), "ready more than the slack apart"),
        (order(2, 0, 3, 600.0, 5000.0, units=4), "more units than a bag"),
        (order(2, 0, 3, 600.0, 1300.0), "a promise would break, whichever door is first"),
    ],
)
def test_orders_that_cannot_share_go_alone(second: Order, why: str) -> None:
    # leaving the store at 660: door 2 first is there at 900 (door 3 then 1080, over 1300 - 330 of
    # safety); door 3 first is there at 960 (door 2 then 1140, over 1200 - 330)
    first = order(1, 0, 7 if second.place == 8 else 2, 600.0, 1200.0 if second.place == 3 else 5000.0)
    trips = batch([first, second], STORES, TRAVEL, 0.0, BatchRules())
    assert sorted(t.orders for t in trips) == [(1,), (2,)], why


def test_a_trip_grows_to_three_orders_and_no_more() -> None:
    orders = [order(i, 0, 2 + i % 2, 600.0, 9000.0) for i in range(1, 6)]
    trips = batch(orders, STORES, TRAVEL, 0.0, BatchRules())
    assert sorted(len(t.orders) for t in trips) == [2, 3]
    assert sorted(o for t in trips for o in t.orders) == [1, 2, 3, 4, 5]


# -- rounds ----------------------------------------------------------------------------------------------
def test_a_courier_is_sent_only_when_it_must_leave_to_meet_the_food() -> None:
    dispatcher = Dispatcher([store(0, 0, prep_s=600.0)], [courier(7, 1)], TRAVEL)
    placed = dispatcher.place(1, 0, 2, 1, now=0.0)
    assert placed.ready_at == 600.0
    assert dispatcher.round(0.0).commits == []  # it would leave at 420: too early to decide
    (commit,) = dispatcher.round(405.0).commits
    # one step away (60 s), aiming to arrive 120 s before the food: leaves at 420, there at 480
    assert (commit.courier, commit.depart_at, commit.eta_first) == (7, 420.0, 480.0)
    assert commit.starts == (600.0, 600.0 + PICKUP_S + 120.0)  # the pickup waits for the food
    assert dispatcher.orders[1].status is Status.COMMITTED
    assert dispatcher.round(420.0).commits == []  # never twice


def test_the_nearest_courier_takes_the_trip_and_an_unstarted_plan_is_made_again() -> None:
    far, near = courier(1, 6), courier(2, 5)
    dispatcher = Dispatcher([store(0, 0, prep_s=900.0)], [far, near], TRAVEL)
    dispatcher.couriers[2].free_at = 2000.0  # on another trip until 2000
    dispatcher.couriers[2].trip = None
    dispatcher.place(1, 0, 2, 1, now=0.0)
    assert dispatcher.round(0.0).commits == []
    dispatcher.freed(2, 1, now=300.0)  # the near courier is free early, next door to the store
    (commit,) = dispatcher.round(705.0).commits
    assert commit.courier == 2


def test_a_cancelled_order_is_never_dispatched_and_a_picked_up_one_cannot_be_cancelled() -> None:
    dispatcher = Dispatcher([store(0, 0, prep_s=60.0)], [courier(1, 1)], TRAVEL)
    dispatcher.place(1, 0, 2, 1, now=0.0)
    dispatcher.place(2, 0, 3, 1, now=0.0)
    assert dispatcher.cancel(1, now=1.0) is None
    (commit,) = dispatcher.round(15.0).commits
    assert commit.trip.orders == (2,)
    assert dispatcher.cancel(2, now=20.0) == 1  # the courier on its way loses the order
    dispatcher.place(3, 0, 3, 1, now=30.0)
    dispatcher.picked_up([3], now=100.0)
    with pytest.raises(ValidationFailed, match="too late to cancel"):
        dispatcher.cancel(3, now=101.0)


def test_a_late_courier_is_released_and_its_orders_go_to_another() -> None:
    rules = DispatchRules()
    dispatcher = Dispatcher([store(0, 0, prep_s=60.0)], [courier(1, 1), courier(2, 6)], TRAVEL, rules)
    dispatcher.place(1, 0, 2, 1, now=0.0)
    (first,) = dispatcher.round(0.0).commits
    assert first.courier == 1
    late = first.eta_first + rules.late_grace_s
    assert dispatcher.round(late).released == []
    decided = dispatcher.round(late + 15.0)
    assert decided.released == [1]
    assert [c.courier for c in decided.commits] == [2]  # the other courier, in the same round
    assert dispatcher.round(late + 30.0).commits == []  # not free until it stops somewhere
    dispatcher.freed(1, 0, now=late + 40.0)
    assert dispatcher.couriers[1].released is False


def test_a_courier_never_gets_a_trip_it_cannot_carry_or_finish_in_its_shift() -> None:
    ends_soon = courier(1, 1, shift=(0.0, 200.0))
    dispatcher = Dispatcher([store(0, 0, prep_s=60.0)], [ends_soon], TRAVEL)
    dispatcher.place(1, 0, 2, 1, now=0.0)
    assert dispatcher.round(0.0).commits == []


def test_the_greedy_baseline_sends_the_nearest_free_courier_at_once() -> None:
    dispatcher = GreedyDispatcher([store(0, 0, prep_s=900.0)], [courier(1, 6), courier(2, 2)], TRAVEL)
    dispatcher.place(1, 0, 4, 1, now=0.0)
    (commit,) = dispatcher.round(0.0).commits
    assert (commit.courier, commit.depart_at, commit.eta_first) == (2, 0.0, 120.0)
    assert commit.starts[0] == 900.0  # it waits at the store for the food


def test_travel_lookups_agree_pair_by_pair_and_as_a_matrix() -> None:
    places = np.arange(len(POINTS), dtype=np.intp)
    whole = TRAVEL.matrix(Mode.CAR, places, places)
    assert np.array_equal(TRAVEL.between(Mode.CAR, places, places[::-1]), whole[places, places[::-1]])
