"""The compiled planner against its specification, the plain-Python reference search: the same routes,
leg for leg and minute for minute, on random networks, across daylight-saving changes, with full
departures and tolerances, and on a synthetic network of realistic shape."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrepot.logistics import compiled, compiled_search
from entrepot.logistics.domain import Lane, Network, Node, Parcel, Schedule, to_minutes
from entrepot.logistics.routing import (
    EXACT,
    PRACTICAL,
    Route,
    Tolerance,
    _search,
    precompute,
    reference_search,
)
from entrepot.logistics.synthetic import synthetic_network

ZONES = ["Asia/Shanghai", "Europe/Madrid", "America/Sao_Paulo", "Asia/Kolkata", "UTC"]
CODES = ["A", "B", "C", "D", "E", "F"]
READY = to_minutes(dt.datetime(2026, 3, 27, 9, 0, tzinfo=dt.UTC))  # days before Europe's clocks go forward


def legs(route: Route) -> tuple[tuple[str, int, int, int], ...]:
    return tuple((leg.lane.id, leg.departs, leg.arrives, leg.cost_cents) for leg in route.legs)


def same_routes(a: list[Route], b: list[Route]) -> bool:
    return sorted(map(legs, a)) == sorted(map(legs, b))


lane_specs = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.sampled_from(CODES),
        st.integers(1, 120),  # hours in transit
        st.integers(0, 3000),  # fixed cents
        st.integers(0, 400),  # cents per kg
        st.sampled_from(["road", "air", "sea", "rail", "last_mile"]),
        st.one_of(
            st.none(),
            st.lists(
                st.tuples(st.integers(0, 6), st.integers(0, 23), st.sampled_from([0, 30])),
                min_size=1,
                max_size=3,
            ),
        ),
        st.integers(0, 2880),  # cut-off minutes
        st.sampled_from([5.0, 30.0]),  # max parcel kg
    ).filter(lambda spec: spec[0] != spec[1]),
    min_size=1,
    max_size=16,
)


def build(specs: list, handling: list[int], zones: list[str], stations: set[str]) -> Network:
    net = Network()
    for code, minutes, zone in zip(CODES, handling, zones, strict=True):
        kind = "delivery_station" if code in stations else "sortation_hub"
        net.add_node(Node(code, kind, "CN", 30.0, 120.0, zone, minutes))
    for i, (a, b, hours, fixed, per_kg, mode, times, cutoff, max_kg) in enumerate(specs):
        schedule = None
        if times is not None:
            schedule = Schedule(tuple((day, dt.time(hour, minute)) for day, hour, minute in times), cutoff)
        vehicle = {"air": "long_haul", "sea": "container_ship", "rail": "freight_train"}.get(mode, "truck")
        net.add_lane(
            Lane(f"l{i}", a, b, mode, vehicle, "test", 50.0 + 137 * i, hours * 60, fixed, per_kg, max_kg,
                 1000.0, schedule)
        )  # fmt: skip
    return net


@settings(max_examples=400, deadline=None)
@given(
    specs=lane_specs,
    handling=st.lists(st.integers(0, 600), min_size=6, max_size=6),
    zones=st.lists(st.sampled_from(ZONES), min_size=6, max_size=6),
    stations=st.sets(st.sampled_from(CODES[1:])),
    weight=st.sampled_from([0.2, 1.2, 7.5]),
    deadline_days=st.one_of(st.none(), st.integers(1, 25)),
    tolerance=st.sampled_from([EXACT, PRACTICAL, (60, 10, 5.0)]),
    full_share=st.sampled_from([0.0, 0.5]),
    seed=st.integers(0, 1000),
)
def test_the_compiled_search_returns_the_references_routes(
    specs: list,
    handling: list[int],
    zones: list[str],
    stations: set[str],
    weight: float,
    deadline_days: int | None,
    tolerance: Tolerance,
    full_share: float,
    seed: int,
) -> None:
    net = build(specs, handling, zones, stations)
    parcel = Parcel(weight, 40, 30, 20)
    deadline = None if deadline_days is None else READY + deadline_days * 1440
    full = _some_departures(net, random.Random(seed), full_share)
    for destination in ("E", "F", "B"):
        ours = _search(net, "A", destination, parcel, READY, deadline, full, tolerance)
        reference = reference_search(net, "A", destination, parcel, READY, deadline, full, tolerance)
        assert same_routes(ours, reference)


def _some_departures(net: Network, rng: random.Random, share: float) -> frozenset[tuple[str, int]]:
    """A share of each timetabled lane's departures in the next three weeks, marked full."""
    full = set()
    for lanes in net.lanes_from.values():
        for ln in lanes:
            at = READY
            while ln.schedule is not None and at < READY + 21 * 1440:
                departs = ln.departure(at, net.nodes[ln.origin].time_zone)
                if rng.random() < share:
                    full.add((ln.id, departs))
                at = departs + 1
    return frozenset(full)


@settings(max_examples=300, deadline=None)
@given(
    ready=st.integers(READY - 3 * 1440, READY + 10 * 1440),
    zone=st.sampled_from(ZONES),
    times=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 23)), min_size=1, max_size=4),
    cutoff=st.integers(0, 3000),
)
def test_departures_match_the_timetable_rule_across_daylight_saving_changes(
    ready: int, zone: str, times: list[tuple[int, int]], cutoff: int
) -> None:
    schedule = Schedule(tuple((day, dt.time(hour, 0)) for day, hour in times), cutoff)
    offsets = np.array(sorted({day * 1440 + hour * 60 for day, hour in times}), dtype=np.int64)
    first_day = READY // 1440 - 5
    table = compiled.offset_table([zone], first_day, 40)[0]
    departs = schedule.next_departure(ready, zone)
    at_cutoff = departs - cutoff  # ready exactly at the cut-off, and a minute after it
    for moment in (ready, at_cutoff, at_cutoff + 1):
        expected = schedule.next_departure(moment, zone)
        assert compiled_search.next_departure(moment, cutoff, offsets, table, first_day) == expected
    assert schedule.next_departure(at_cutoff, zone) == departs < schedule.next_departure(at_cutoff + 1, zone)


def test_the_compiled_search_matches_the_reference_on_a_synthetic_network() -> None:
    assert routes_compared_with_the_reference(synthetic_network(600, 6000, seed=3), 5, 12) > 12


def routes_compared_with_the_reference(net: Network, seed: int, queries: int) -> int:
    """Random warehouse-to-station queries (1.2 kg, 20 days, practical tolerance), each checked against
    the reference search; how many routes were compared."""
    rng = random.Random(seed)
    warehouses = sorted(c for c, n in net.nodes.items() if n.kind == "fulfilment_warehouse")
    stations = sorted(c for c, n in net.nodes.items() if n.kind == "delivery_station")
    parcel = Parcel(1.2, 30, 20, 10)
    compared = 0
    for _ in range(queries):
        origin, destination = rng.choice(warehouses), rng.choice(stations)
        ours = _search(net, origin, destination, parcel, READY, READY + 20 * 1440, tol=PRACTICAL)
        reference = reference_search(
            net, origin, destination, parcel, READY, READY + 20 * 1440, tol=PRACTICAL
        )
        assert same_routes(ours, reference)
        compared += len(ours)
    return compared


def test_the_compiled_network_is_rebuilt_when_the_network_changes() -> None:
    net = Network()
    for code in ("A", "B"):
        net.add_node(Node(code, "sortation_hub", "CN", 30.0, 120.0, "Asia/Shanghai"))
    parcel = Parcel(1.0, 10, 10, 10)
    assert _search(net, "A", "B", parcel, READY, None) == []
    net.add_lane(Lane("ab", "A", "B", "road", "truck", "test", 100.0, 120, 300, 10, 30.0, 1000.0))
    [route] = _search(net, "A", "B", parcel, READY, None)
    assert [leg.lane.id for leg in route.legs] == ["ab"] and route.arrives == READY + 120


def _same_bounds(a: compiled.Bounds, b: compiled.Bounds) -> bool:
    return all(np.array_equal(getattr(a, name), getattr(b, name)) for name in ("time", "cost", "grams"))


def test_bounds_put_together_from_precomputed_ones_equal_the_searched_ones() -> None:
    network = synthetic_network(600, 6000, seed=3)
    net = compiled.compiled(network)
    stations = [i for i, code in enumerate(net.codes) if code in network.delivery_stations]
    for floor in (1.0, 20.0):  # 20 kg: some lanes (vans) no longer take the parcel
        feeders = compiled.precompute(net, floor)
        assert feeders.time.shape[0] > 0 and feeders.nbytes > 0
        for station in stations:
            found = compiled._joined(net, station, feeders)
            assert found is not None and _same_bounds(found, compiled.search_bounds(net, station, floor))
        # a node without precomputed bounds behind one of its lanes is searched instead
        hub = next(i for i, code in enumerate(net.codes) if code.startswith("hub-"))
        assert compiled._joined(net, hub, feeders) is None


def test_a_stations_bounds_are_put_together_from_the_precomputed_ones() -> None:
    network = synthetic_network(300, 3000, seed=3)
    net = compiled.compiled(network)
    station = next(i for i, code in enumerate(net.codes) if code in network.delivery_stations)
    feeders = compiled.precompute(net, 1.0)
    feeders.time += 7  # altered after the fact: a searched bound cannot show it, a joined one must
    least = compiled.bounds(net, station, 1.0)
    searched = compiled.search_bounds(net, station, 1.0)
    others = (searched.time < compiled_search.NO_ROUTE) & (np.arange(len(net.codes)) != station)
    assert others.sum() > 100
    assert np.array_equal(least.time[others], searched.time[others] + 7)


def test_with_precomputed_bounds_the_compiled_search_still_returns_the_references_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = synthetic_network(600, 6000, seed=11)
    precompute(net, 1.2, threads=2)

    def searched(*args: object) -> compiled.Bounds:
        raise AssertionError("a station's bounds were searched, not put together from the precomputed")

    monkeypatch.setattr(compiled, "search_bounds", searched)
    assert routes_compared_with_the_reference(net, 8, 10) > 10  # several routes per pair


def test_precomputed_bounds_are_dropped_when_the_network_changes() -> None:
    net = Network()
    net.add_node(Node("WH", "fulfilment_warehouse", "CN", 30.0, 120.0, "Asia/Shanghai", 240))
    net.add_node(Node("HUB", "sortation_hub", "CN", 30.0, 120.0, "Asia/Shanghai", 120))
    net.add_node(Node("DS", "delivery_station", "CN", 30.0, 120.0, "Asia/Shanghai", 60))
    net.add_lane(Lane("wh-hub", "WH", "HUB", "road", "truck", "test", 100.0, 300, 500, 10, 30.0, 1e4))
    net.add_lane(Lane("hub-ds", "HUB", "DS", "last_mile", "van", "test", 20.0, 120, 90, 0, 30.0, 1e4))
    parcel = Parcel(1.0, 10, 10, 10)
    precompute(net, 1.0)
    [route] = _search(net, "WH", "DS", parcel, READY, None)
    assert route.arrives == READY + 300 + 120 + 120
    # a faster, dearer truck to HUB, the node that feeds DS: kept, the bounds precomputed towards HUB
    # would still say 300 minutes from WH, so DS's put together from them 540 instead of 300
    net.add_lane(Lane("wh-hub-fast", "WH", "HUB", "road", "truck", "test", 100.0, 60, 2000, 10, 30.0, 1e4))
    precompute(net, 1.0)
    arrays = compiled.compiled(net)
    assert compiled.bounds(arrays, arrays.index["DS"], 1.0).time[arrays.index["WH"]] == 60 + 120 + 120
    routes = _search(net, "WH", "DS", parcel, READY, None)
    assert sorted(r.arrives - READY for r in routes) == [300, 540]
