"""Precomputed bounds on disk: used by a planner of the same network, never by one whose lane,
schedule or capacity has changed since; the routes are the same with and without them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from entrepot.logistics import compiled, precompute
from entrepot.logistics.domain import Lane, Network, Node, Parcel, Schedule, to_minutes
from entrepot.logistics.routing import pareto_routes

READY = to_minutes(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
PARCEL = Parcel(1.0, 10, 10, 10)


def network(truck_minutes: int = 300, capacity_kg: float = 1e4, flight_hour: int = 10) -> Network:
    net = Network()
    net.add_node(Node("WH", "fulfilment_warehouse", "CN", 30.0, 120.0, "Asia/Shanghai", 240))
    net.add_node(Node("HUB", "sortation_hub", "CN", 30.0, 120.0, "Asia/Shanghai", 120))
    net.add_node(Node("DS", "delivery_station", "CN", 30.0, 120.0, "Asia/Shanghai", 60))
    net.add_lane(
        Lane("wh-hub", "WH", "HUB", "road", "truck", "t", 100.0, truck_minutes, 500, 10, 30.0, capacity_kg)
    )
    daily = Schedule(tuple((day, dt.time(flight_hour, 0)) for day in range(7)), 60)
    net.add_lane(
        Lane("wh-hub-air", "WH", "HUB", "air", "short_haul", "t", 900.0, 90, 3000, 90, 30.0, 1e3, daily)
    )
    net.add_lane(Lane("hub-ds", "HUB", "DS", "last_mile", "van", "t", 20.0, 120, 90, 0, 30.0, 1e4))
    return net


def test_bounds_written_are_loaded_for_the_same_network_only(tmp_path: Path) -> None:
    written = precompute.build(network(), tmp_path, floors=(1.0,))
    assert [path.parent.name for path in written] == [precompute.fingerprint(network())]
    same = network()
    assert precompute.load(same, tmp_path, floors=(1.0,)) == 1
    assert 1.0 in compiled.compiled(same).feeders
    for changed in (network(truck_minutes=200), network(capacity_kg=5e3), network(flight_hour=11)):
        assert precompute.fingerprint(changed) != precompute.fingerprint(same)
        assert precompute.load(changed, tmp_path, floors=(1.0,)) == 0  # stale: never read
        assert compiled.compiled(changed).feeders == {}


def test_the_next_query_sees_a_changed_lane(tmp_path: Path) -> None:
    precompute.build(network(), tmp_path, floors=(1.0,))
    before = network()
    precompute.load(before, tmp_path, floors=(1.0,))
    fastest = pareto_routes(before, "WH", "DS", PARCEL, READY, epsilon=0)[0]
    assert [leg.lane.id for leg in fastest.legs] == ["wh-hub", "hub-ds"]
    # the truck becomes a 60-minute one: the bounds written for the old network say 300 minutes
    after = network(truck_minutes=60)
    assert precompute.load(after, tmp_path, floors=(1.0,)) == 0
    fastest = pareto_routes(after, "WH", "DS", PARCEL, READY, epsilon=0)[0]
    assert fastest.arrives == READY + 60 + 120 + 120


def test_routes_are_the_same_with_the_bounds_loaded(tmp_path: Path) -> None:
    precompute.build(network(), tmp_path, floors=(1.0,))
    loaded, searched = network(), network()
    assert precompute.load(loaded, tmp_path, floors=(1.0,)) == 1
    key = [
        dataclasses.astuple(leg) for r in pareto_routes(loaded, "WH", "DS", PARCEL, READY) for leg in r.legs
    ]
    assert key == [
        dataclasses.astuple(leg) for r in pareto_routes(searched, "WH", "DS", PARCEL, READY) for leg in r.legs
    ]
