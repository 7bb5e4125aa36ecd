"""Route planning on small hand-made networks with known answers, and against brute force."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrepot.logistics.domain import (
    Lane,
    Network,
    Node,
    Parcel,
    Schedule,
    from_minutes,
    lane_cost_cents,
    lane_emissions_g,
    to_minutes,
)
from entrepot.logistics.routing import PlanningError, Route, choose, pareto_routes

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MONDAY_9AM_HANGZHOU = to_minutes(dt.datetime(2025, 11, 10, 9, 0, tzinfo=SHANGHAI))
PARCEL = Parcel(1.2, 30, 20, 10)  # 1.2 kg; volumetric 1.0 kg


def node(code: str, tz: str = "Asia/Shanghai", handling: int = 0, country: str = "CN") -> Node:
    return Node(code, "sortation_hub", country, 30.0, 120.0, tz, handling)


def lane(lane_id: str, a: str, b: str, hours: float, cost: int, mode: str = "road", **kw: object) -> Lane:
    values: dict[str, object] = {
        "vehicle": {"air": "long_haul", "sea": "container_ship", "road": "truck"}.get(mode, "truck"),
        "carrier": "test",
        "distance_km": 1000.0,
        "fixed_cost_cents": cost,
        "per_kg_cents": 0,
        "max_parcel_kg": 30.0,
        "capacity_kg": 10_000.0,
    }
    values.update(kw)
    return Lane(lane_id, a, b, mode, transit_minutes=int(hours * 60), **values)  # type: ignore[arg-type]


def network(nodes: list[Node], lanes: list[Lane]) -> Network:
    net = Network()
    for n in nodes:
        net.add_node(n)
    for ln in lanes:
        net.add_lane(ln)
    return net


TUESDAY_10AM_FLIGHT = Schedule(((1, dt.time(10, 0)),), cutoff_minutes=120)


def flight_network(handling: int = 0) -> Network:
    return network(
        [node("WH"), node("HGH", handling=handling), node("MNL", tz="Asia/Manila", country="PH")],
        [
            lane("truck", "WH", "HGH", 1, 500),
            lane("flight", "HGH", "MNL", 3, 900, mode="air", schedule=TUESDAY_10AM_FLIGHT),
        ],
    )


def test_the_parcel_waits_for_the_next_flight() -> None:
    [route] = pareto_routes(flight_network(), "WH", "MNL", PARCEL, MONDAY_9AM_HANGZHOU)
    truck, flight = route.legs
    assert from_minutes(truck.arrives).astimezone(SHANGHAI) == dt.datetime(
        2025, 11, 10, 10, 0, tzinfo=SHANGHAI
    )
    # ready at the airport on Monday 10:00, the next flight is Tuesday 10:00 local
    assert from_minutes(flight.departs).astimezone(SHANGHAI) == dt.datetime(
        2025, 11, 11, 10, 0, tzinfo=SHANGHAI
    )
    assert route.arrives == flight.departs + 180
    assert route.cost_cents == 1400


def test_handling_at_a_hub_delays_the_parcel_before_it_can_leave() -> None:
    net = flight_network(handling=23 * 60)  # ready to leave Tuesday 09:00: past the 08:00 cut-off
    [route] = pareto_routes(net, "WH", "MNL", PARCEL, MONDAY_9AM_HANGZHOU)
    assert from_minutes(route.legs[1].departs).astimezone(SHANGHAI).date() == dt.date(2025, 11, 18)


@pytest.mark.parametrize(("ready_local", "departs_on"), [("07:59", 11), ("08:00", 11), ("08:01", 18)])
def test_a_cut_off_missed_by_a_minute_waits_a_week(ready_local: str, departs_on: int) -> None:
    hours, minutes = map(int, ready_local.split(":"))
    ready = to_minutes(dt.datetime(2025, 11, 11, hours, minutes, tzinfo=SHANGHAI))  # Tuesday, at HGH
    [route] = pareto_routes(flight_network(), "HGH", "MNL", PARCEL, ready)
    assert from_minutes(route.legs[0].departs).astimezone(SHANGHAI) == dt.datetime(
        2025, 11, departs_on, 10, 0, tzinfo=SHANGHAI
    )


def two_ways() -> Network:
    """Air is fast, dear and dirty; sea slow, cheap and clean; a slow dear detour is beaten by both."""
    return network(
        [node("A"), node("B"), node("C")],
        [
            lane("air", "A", "B", 5, 5000, mode="air"),
            lane("sea", "A", "B", 10 * 24 + 1, 800, mode="sea"),  # one hour over a 10-day promise
            lane("via-c-1", "A", "C", 10 * 24, 4000),
            lane("via-c-2", "C", "B", 5 * 24, 4000),
        ],
    )


def test_the_pareto_set_keeps_both_trade_offs_and_drops_the_dominated_detour() -> None:
    routes = pareto_routes(two_ways(), "A", "B", PARCEL, MONDAY_9AM_HANGZHOU)
    assert [[leg.lane.id for leg in r.legs] for r in routes] == [["air"], ["sea"]]
    assert not any(a.dominates(b) for a, b in itertools.permutations(routes, 2))


def test_service_levels_pick_within_their_promise() -> None:
    routes = pareto_routes(two_ways(), "A", "B", PARCEL, MONDAY_9AM_HANGZHOU)
    assert [leg.lane.id for leg in choose(routes, "economy", "cheapest").legs] == ["sea"]
    assert [leg.lane.id for leg in choose(routes, "standard", "cheapest").legs] == ["air"]
    assert [leg.lane.id for leg in choose(routes, "economy", "greenest").legs] == ["sea"]
    with pytest.raises(PlanningError) as nothing:
        choose([r for r in routes if r.legs[0].lane.id == "sea"], "express", "cheapest")
    assert nothing.value.reason == "no_departure_in_time"


def test_errors_say_why_there_is_no_route() -> None:
    net = network(
        [node("A"), node("B"), node("Z")],
        [
            lane("light", "A", "B", 2, 100, max_parcel_kg=1.0),
            lane("slow", "A", "B", 72, 100, max_parcel_kg=50),
        ],
    )
    cases = [
        (("A", "nowhere", PARCEL, None), "unknown_node"),
        (("A", "Z", PARCEL, None), "no_lane"),
        (("A", "B", Parcel(60, 10, 10, 10), None), "overweight"),
        (("A", "B", PARCEL, MONDAY_9AM_HANGZHOU + 24 * 60), "no_departure_in_time"),
    ]
    for (origin, destination, parcel, deadline), reason in cases:
        with pytest.raises(PlanningError) as refused:
            pareto_routes(net, origin, destination, parcel, MONDAY_9AM_HANGZHOU, deadline)
        assert refused.value.reason == reason, refused.value.detail
    with pytest.raises(PlanningError) as late:
        pareto_routes(net, "A", "B", PARCEL, MONDAY_9AM_HANGZHOU, MONDAY_9AM_HANGZHOU + 24 * 60)
    assert "3.0 days" in late.value.detail and "1.0" in late.value.detail


def test_air_charges_volumetric_weight() -> None:
    bulky = Parcel(1.0, 50, 40, 30)  # 60,000 cm3 / 6,000 = 10 kg chargeable
    air = lane("air", "A", "B", 5, 100, mode="air", per_kg_cents=200, distance_km=5000.0)
    road = lane("road", "A", "B", 5, 100, per_kg_cents=200)
    assert lane_cost_cents(air, bulky) == 100 + 2000
    assert lane_cost_cents(road, bulky) == 100 + 200
    # emissions follow the actual mass: 0.001 t x 5,000 km x 666 g/t-km (long-haul air, DESNZ 2025)
    assert lane_emissions_g(air, bulky) == pytest.approx(3330.0)


# --- against brute force ---------------------------------------------------------------------------

CODES = ["A", "B", "C", "D", "E"]
lanes_strategy = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.sampled_from(CODES),
        st.integers(1, 96),  # hours in transit
        st.integers(0, 5000),  # cents
        st.sampled_from(["road", "air", "sea"]),
        st.one_of(st.none(), st.tuples(st.integers(0, 6), st.integers(0, 23), st.integers(0, 180))),
    ).filter(lambda t: t[0] != t[1]),
    min_size=1,
    max_size=9,
)


def build(spec: list[tuple[str, str, int, int, str, tuple[int, int, int] | None]]) -> Network:
    lanes = []
    for i, (a, b, hours, cost, mode, sched) in enumerate(spec):
        schedule = None if sched is None else Schedule(((sched[0], dt.time(sched[1], 0)),), sched[2])
        lanes.append(
            lane(f"l{i}", a, b, hours, cost, mode=mode, schedule=schedule, distance_km=100.0 + 37 * i)
        )
    return network([node(c) for c in CODES], lanes)


def brute_force(net: Network, origin: str, destination: str, ready: int, deadline: int | None) -> set[tuple]:
    """Every simple path, each leg taken at its earliest departure, then the Pareto front."""
    results = []

    def walk(at: str, arrives: int, cost: int, grams: float, visited: set[str], first: bool) -> None:
        if at == destination:
            results.append((arrives, cost, round(grams, 6)))
            return
        here = net.nodes[at]
        leave = arrives + (0 if first else here.handling_minutes)
        for ln in net.lanes_from[at]:
            if ln.destination in visited or PARCEL.weight_kg > ln.max_parcel_kg:
                continue
            arrive = ln.departure(leave, here.time_zone) + ln.transit_minutes
            if deadline is not None and arrive > deadline:
                continue
            step_cost, step_g = lane_cost_cents(ln, PARCEL), lane_emissions_g(ln, PARCEL)
            walk(ln.destination, arrive, cost + step_cost, grams + step_g, visited | {ln.destination}, False)

    walk(origin, ready, 0, 0.0, {origin}, True)
    return {
        r
        for r in results
        if not any(o != r and all(x <= y for x, y in zip(o, r, strict=True)) for o in results)
    }


def criteria(route: Route) -> tuple[int, int, float]:
    return (route.arrives, route.cost_cents, round(route.emissions_g, 6))


@settings(max_examples=300, deadline=None)
@given(spec=lanes_strategy, deadline_days=st.one_of(st.none(), st.integers(1, 20)))
def test_the_planner_finds_exactly_the_pareto_front(
    spec: list[tuple[str, str, int, int, str, tuple[int, int, int] | None]], deadline_days: int | None
) -> None:
    net = build(spec)
    deadline = None if deadline_days is None else MONDAY_9AM_HANGZHOU + deadline_days * 1440
    expected = brute_force(net, "A", "E", MONDAY_9AM_HANGZHOU, deadline)
    try:
        routes = pareto_routes(net, "A", "E", PARCEL, MONDAY_9AM_HANGZHOU, deadline, epsilon=0)
    except PlanningError:
        routes = []
    assert {criteria(r) for r in routes} == expected
    assert all(deadline is None or r.arrives <= deadline for r in routes)
    assert not any(a.dominates(b) for a, b in itertools.permutations(routes, 2))
    for route in routes:  # legs join up, in time order, each departing when its lane allows
        for before, after in itertools.pairwise(route.legs):
            assert before.lane.destination == after.lane.origin and after.departs >= before.arrives


def test_airport_codes_resolve_to_their_nodes() -> None:
    net = network([node("air-HGH"), node("WH")], [])
    assert (net.resolve("HGH"), net.resolve("hgh"), net.resolve("WH"), net.resolve("XXX")) == (
        "air-HGH",
        "air-HGH",
        "WH",
        None,
    )
