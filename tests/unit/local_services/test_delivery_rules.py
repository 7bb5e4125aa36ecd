"""On-demand delivery's rules for stored orders (local_services.delivery): the state machines, what an
order's items come to and fill, opening hours in the market's time zone, possible shifts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import InvalidTransition, ValidationFailed
from entrepot.local_services.delivery import (
    MAX_UNITS,
    ORDER_MOVES,
    TRIP_MOVES,
    Item,
    backlog_s,
    check_open,
    check_shift,
    move_order,
    move_trip,
    opening_hours,
    order_total,
    units_of,
)

T = dt.datetime(2025, 11, 11, 3, 0, tzinfo=dt.UTC)  # 11:00 in Singapore


def test_an_order_moves_forward_only_and_is_cancelled_only_before_pick_up() -> None:
    path = ["placed", "assigned", "picked_up", "delivered"]
    for before, after in itertools.pairwise(path):
        assert move_order("lor_1", before, after) == after
    assert move_order("lor_1", "assigned", "placed") == "placed"  # taken back: planned again
    for state in ("picked_up", "delivered", "cancelled"):
        with pytest.raises(InvalidTransition) as refused:
            move_order("lor_1", state, "cancelled")
        assert refused.value.status == 409 and state in refused.value.detail
    assert not ORDER_MOVES["delivered"] and not ORDER_MOVES["cancelled"]


@given(st.sampled_from(sorted(TRIP_MOVES)), st.sampled_from(sorted(TRIP_MOVES)))
def test_a_trip_moves_only_along_its_table(state: str, to: str) -> None:
    if to in TRIP_MOVES[state]:
        assert move_trip("trp_1", state, to) == to
    else:
        with pytest.raises(InvalidTransition):
            move_trip("trp_1", state, to)


def test_items_come_to_their_total_and_fill_a_bag() -> None:
    items = [Item("soup", 2, 1250), Item("bread", 1, 300)]
    assert order_total(items, "SGD") == 2800
    assert units_of("restaurant", items) == 1
    assert units_of("grocery", [Item("milk", 11, 200)]) == 4
    with pytest.raises(ValidationFailed):
        units_of("restaurant", [Item("pizza", 4 * MAX_UNITS + 1, 900)])
    with pytest.raises(ValidationFailed):
        order_total([Item("gold", 1, 10**13)], "SGD")


def test_opening_hours_are_checked_in_the_markets_time_zone() -> None:
    assert opening_hours("10:00", "22:00") == (600, 1320)
    assert opening_hours("00:00", "24:00") == (0, 1440)
    for opens, closes in (("22:00", "10:00"), ("10:00", "10:00"), ("25:00", "26:00"), ("9:60", "10:00")):
        with pytest.raises(ValidationFailed):
            opening_hours(opens, closes)
    assert check_open("sto_1", 600, 1320, T, "Asia/Singapore") == 11 * 3600
    with pytest.raises(ValidationFailed) as closed:
        check_open("sto_1", 600, 1320, T, "Europe/Helsinki")  # 05:00 there
    assert "closed at 05:00" in closed.value.detail


def test_a_shift_must_be_possible() -> None:
    check_shift(T, T + dt.timedelta(hours=8), T)
    for ends in (T, T - dt.timedelta(hours=1), T + dt.timedelta(hours=17)):
        with pytest.raises(ValidationFailed):
            check_shift(T, ends, T)
    with pytest.raises(ValidationFailed):
        check_shift(T - dt.timedelta(hours=9), T - dt.timedelta(hours=1), T)  # over already


@given(st.integers(0, 500), st.integers(0, 100), st.integers(0, 200))
def test_the_backlog_is_never_negative_and_zero_when_couriers_suffice(
    due: int, free: int, on_shift: int
) -> None:
    wait = backlog_s(due, free, on_shift, 1.6, 600.0)
    assert wait >= 0
    if free * 1.6 >= due:
        assert wait == 0
