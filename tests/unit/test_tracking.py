"""The shipment state machine replayed from scans that come late, twice or out of order."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from entrepot.logistics.tracking import ALLOWED, EVENT_TYPES, Scan, replay

T0 = dt.datetime(2025, 11, 12, 8, 0, tzinfo=dt.UTC)
HAPPY = [
    ("picked_up", "wh-hangzhou"),
    ("departed", "air-HGH"),
    ("arrived", "air-MNL"),
    ("customs_held", "air-MNL"),
    ("customs_cleared", "air-MNL"),
    ("at_hub", "hub-manila"),
    ("out_for_delivery", "ds-manila"),
    ("delivered", "ds-manila"),
]


def journey() -> list[Scan]:
    return [Scan(f"e{i}", kind, T0 + dt.timedelta(hours=6 * i), node) for i, (kind, node) in enumerate(HAPPY)]


def test_the_happy_path_ends_delivered() -> None:
    result = replay(journey())
    assert result.status == "delivered"
    assert result.delivered_at == T0 + dt.timedelta(hours=42)
    assert result.applied == {f"e{i}" for i in range(len(HAPPY))}


def test_out_of_order_arrival_gives_the_same_answer() -> None:
    scans = journey()
    for seed in range(20):
        shuffled = scans[:]
        random.Random(seed).shuffle(shuffled)
        assert replay(shuffled) == replay(scans)


def test_a_late_scan_slots_in_and_a_repeat_changes_nothing() -> None:
    scans = journey()
    without_customs = [s for s in scans if not s.type.startswith("customs")]
    assert replay(without_customs).status == "delivered"
    assert replay([*scans, scans[3], scans[3]]) == replay(scans)


def test_a_scan_the_state_machine_forbids_is_kept_out() -> None:
    scans = [*journey(), Scan("late-departure", "departed", T0 + dt.timedelta(days=3), "air-HGH")]
    result = replay(scans)
    assert result.status == "delivered"
    assert "late-departure" not in result.applied


def test_partial_progress_and_exceptions() -> None:
    scans = journey()[:3]
    assert replay(scans).status == "arrived"
    assert replay(scans).last_movement == scans[2]
    stuck = [*scans, Scan("x", "exception", T0 + dt.timedelta(hours=13), "air-MNL")]
    assert replay(stuck).status == "exception"
    resumed = [*stuck, Scan("y", "out_for_delivery", T0 + dt.timedelta(hours=20), "ds-manila")]
    assert replay(resumed).status == "out_for_delivery"
    assert replay([]).status == "label_created"


@given(st.lists(st.tuples(st.sampled_from(EVENT_TYPES), st.integers(0, 500)), max_size=30))
def test_every_applied_step_is_allowed_and_terminal_states_stay(events: list[tuple[str, int]]) -> None:
    scans = [Scan(f"s{i}", kind, T0 + dt.timedelta(minutes=m)) for i, (kind, m) in enumerate(events)]
    result = replay(scans)
    ordered = sorted(scans, key=lambda s: (s.occurred_at, EVENT_TYPES.index(s.type), s.event_id))
    status = "label_created"
    for scan in ordered:
        if scan.event_id in result.applied:
            assert scan.type in ALLOWED[status]
            status = scan.type
    assert status == result.status
    if result.status in ("delivered", "returned_to_sender"):
        assert ALLOWED[result.status] == frozenset()
