"""The shipment state machine replayed from scans that come late, twice or out of order."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.logistics.tracking import (
    ALLOWED,
    EVENT_TYPES,
    NO_STATION,
    NOT_ACCEPTED,
    NOT_HOLDING,
    OFF_ROUTE,
    OUT_OF_ORDER,
    Holding,
    Leg,
    Scan,
    carrier_refusal,
    custody,
    replay,
    stints,
)
from entrepot.simulation.carriers import Hop, journey_scans

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


# Carriers' scans (issue 28): Hangzhou Trucks to the airport, Sky Cargo flies and trucks to the Manila
# hub, Manila Couriers delivers.
LEGS = [
    Leg("wh-hangzhou", "air-HGH", "Hangzhou Trucks"),
    Leg("air-HGH", "air-MNL", "Sky Cargo"),
    Leg("air-MNL", "hub-manila", "Sky Cargo"),
    Leg("hub-manila", "ds-manila", "Manila Couriers"),
]
TRUCKS, SKY, COURIERS = "Hangzhou Trucks", "Sky Cargo", "Manila Couriers"


def at(hours: float, event_id: str, kind: str, node: str | None) -> Scan:
    return Scan(event_id, kind, T0 + dt.timedelta(hours=hours), node)


def test_consecutive_legs_of_one_carrier_are_one_stint() -> None:
    route = stints(LEGS)
    assert [(s.carrier, s.start, s.end) for s in route] == [
        (TRUCKS, "wh-hangzhou", "air-HGH"),
        (SKY, "air-HGH", "hub-manila"),
        (COURIERS, "hub-manila", "ds-manila"),
    ]
    assert route[1].nodes == {"air-HGH", "air-MNL", "hub-manila"}
    assert stints([]) == []


def test_custody_moves_with_a_hand_over_and_its_acceptance_only() -> None:
    scans = [
        at(1, "a", "accepted", "air-HGH"),  # nothing handed over: kept out
        at(2, "b", "handed_over", "air-HGH"),
        at(3, "c", "departed", "air-HGH"),
        at(4, "d", "accepted", "air-HGH"),
        at(5, "e", "handed_over", "air-MNL"),  # Sky Cargo's legs end at the hub: kept out
    ]
    before, moved = custody(stints(LEGS), scans)
    assert moved == {"b", "d"}
    assert before["c"] == Holding(0, handing_over=True)
    assert before["e"] == Holding(1)
    assert replay(scans).status == "label_created"  # custody scans never move the status


def _journey_to_the_couriers() -> list[Scan]:
    return [
        at(0, "t1", "picked_up", "wh-hangzhou"),
        at(1, "t2", "handed_over", "air-HGH"),
        at(2, "s1", "accepted", "air-HGH"),
        at(3, "s2", "departed", "air-HGH"),
        at(6, "s3", "arrived", "air-MNL"),
        at(8, "s4", "at_hub", "hub-manila"),
        at(9, "s5", "handed_over", "hub-manila"),
        at(10, "c1", "accepted", "hub-manila"),
    ]


@pytest.mark.parametrize(
    ("stored", "scan", "carrier", "reason"),
    [
        (0, at(0, "x", "picked_up", None), TRUCKS, NO_STATION),
        (0, at(0, "x", "picked_up", "air-HGH"), TRUCKS, OFF_ROUTE),  # not the route's start
        (0, at(0, "x", "picked_up", "wh-hangzhou"), SKY, NOT_HOLDING),  # not its leg
        (1, at(1, "x", "at_hub", "hub-manila"), TRUCKS, OFF_ROUTE),  # not its node
        (1, at(1, "x", "out_for_delivery", "air-HGH"), TRUCKS, OFF_ROUTE),  # only the last stint
        (1, at(1, "x", "delivered", "ds-manila"), TRUCKS, OFF_ROUTE),
        (1, at(1, "x", "arrived", "air-HGH"), TRUCKS, OUT_OF_ORDER),  # arrived without departing
        (1, at(1, "x", "accepted", "air-HGH"), SKY, OUT_OF_ORDER),  # nothing handed over yet
        (1, at(1, "x", "handed_over", "wh-hangzhou"), TRUCKS, OFF_ROUTE),  # where its legs end
        (2, at(1.5, "x", "departed", "air-HGH"), SKY, NOT_ACCEPTED),
        (2, at(1.5, "x", "at_hub", "air-HGH"), TRUCKS, NOT_HOLDING),  # handed over already
        (2, at(0.5, "x", "accepted", "air-HGH"), SKY, OUT_OF_ORDER),  # before the hand-over
        (3, at(2.5, "x", "accepted", "air-HGH"), SKY, OUT_OF_ORDER),  # accepted twice
        (4, at(1.5, "x", "departed", "air-HGH"), SKY, NOT_ACCEPTED),  # dated back to before accepting
        (4, at(0.5, "x", "departed", "air-HGH"), SKY, NOT_HOLDING),  # or to the truck's time
        (5, at(3.5, "x", "departed", "air-HGH"), SKY, OUT_OF_ORDER),  # departed twice
        (5, at(2.5, "x", "exception", "air-HGH"), SKY, None),  # a late scan that fits is taken
        (5, at(2.5, "x", "at_hub", "air-HGH"), SKY, None),
        (6, at(5, "x", "at_hub", "air-MNL"), SKY, OUT_OF_ORDER),  # would undo the stored arrival
        (6, at(7, "x", "delivered", "ds-manila"), SKY, OFF_ROUTE),
        (6, at(7.5, "x", "handed_over", "hub-manila"), SKY, OUT_OF_ORDER),  # custody is never late
        (6, at(9, "x", "handed_over", "hub-manila"), SKY, None),
        (7, at(9.5, "x", "handed_over", "hub-manila"), SKY, NOT_HOLDING),  # handed over twice
        (8, at(11, "x", "out_for_delivery", "hub-manila"), COURIERS, None),
        (8, at(11, "x", "delivered", "hub-manila"), COURIERS, OFF_ROUTE),  # at the route's end only
        (8, at(11, "x", "delivered", "ds-manila"), COURIERS, OUT_OF_ORDER),  # not out for delivery
        (8, at(11, "x", "handed_over", "ds-manila"), COURIERS, OFF_ROUTE),  # nobody to hand over to
        (8, at(11, "x", "accepted", "hub-manila"), COURIERS, OUT_OF_ORDER),  # its own already
    ],
)
def test_a_carriers_scan_is_refused_for_its_reason(
    stored: int, scan: Scan, carrier: str, reason: str | None
) -> None:
    refusal = carrier_refusal(LEGS, _journey_to_the_couriers()[:stored], [scan], carrier)
    assert (refusal.reason if refusal else None) == reason, refusal
    if refusal is not None:
        assert refusal.event_id == "x" and refusal.detail


def test_the_journey_scan_by_scan_is_admitted_and_a_batch_stands_or_falls_whole() -> None:
    journey = _journey_to_the_couriers()
    carriers = [TRUCKS, TRUCKS, SKY, SKY, SKY, SKY, SKY, COURIERS]
    for index, (scan, carrier) in enumerate(zip(journey, carriers, strict=True)):
        assert carrier_refusal(LEGS, journey[:index], [scan], carrier) is None, scan
    assert carrier_refusal(LEGS, journey[:2], journey[2:7], SKY) is None
    bad = [*journey[2:7], at(7, "x", "out_for_delivery", "hub-manila")]
    refusal = carrier_refusal(LEGS, journey[:2], bad, SKY)
    assert refusal is not None and (refusal.event_id, refusal.reason) == ("x", OFF_ROUTE)


NODES = ["wh-hangzhou", "air-HGH", "air-MNL", "hub-manila", "ds-manila", None]


@given(
    st.lists(
        st.tuples(st.sampled_from(EVENT_TYPES), st.integers(0, 100), st.sampled_from(NODES), st.booleans()),
        max_size=25,
    )
)
def test_the_first_legs_carrier_never_takes_the_parcel_past_its_leg(
    posts: list[tuple[str, int, str | None, bool]],
) -> None:
    """Whatever the first leg's carrier posts, alone or in batches, what it is let store keeps the parcel
    on its leg: never out for delivery or delivered, and every scan of it moves the status or custody."""
    stored: list[Scan] = []
    batch: list[Scan] = []
    for index, (kind, minutes, node, ends_batch) in enumerate(posts):
        batch.append(Scan(f"p{index}", kind, T0 + dt.timedelta(minutes=minutes), node))
        if ends_batch or index == len(posts) - 1:
            if carrier_refusal(LEGS, stored, batch, TRUCKS) is None:
                stored += batch
            batch = []
    result = replay(stored)
    assert result.status not in ("out_for_delivery", "delivered")  # (it may send the parcel back)
    assert all(scan.node in {"wh-hangzhou", "air-HGH"} for scan in stored)
    _, moved = custody(stints(LEGS), stored)
    assert {s.event_id for s in stored} == result.applied | moved


def test_the_demos_simulated_carriers_keep_the_rules() -> None:
    """Every parcel the demo's carriers move (missed departures, customs holds, returns, failed
    attempts) is posted one carrier's run at a time, and each run is admitted."""
    hours = [(0, 2), (5, 9), (12, 13), (15, 17)]  # departs and arrives of each leg, from T0
    hops = [
        Hop(
            leg.origin,
            leg.destination,
            mode,
            T0 + dt.timedelta(hours=a),
            T0 + dt.timedelta(hours=b),
            crosses,
            leg.carrier,
        )
        for leg, mode, crosses, (a, b) in zip(
            LEGS, ("road", "air", "road", "last_mile"), (False, True, False, False), hours, strict=True
        )
    ]
    endings = set()
    for seed in range(2000):  # about 8 are sent back
        stored: list[Scan] = []
        posted = journey_scans(f"p{seed}", hops, random.Random(seed))
        for carrier, run in itertools.groupby(posted, key=lambda p: p[0]):
            scans = [scan for _, scan in run]
            assert carrier is not None and carrier_refusal(LEGS, stored, scans, carrier) is None, (
                seed,
                scans,
            )
            stored += scans
        endings.add(replay(stored).status)
        assert {"handed_over", "accepted"} <= {scan.type for scan in stored}
    assert endings == {"delivered", "returned_to_sender"}
