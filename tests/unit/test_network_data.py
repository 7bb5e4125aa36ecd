"""The demo network's reference data and the synthetic generator: sizes, coverage, connectivity, the
stated distance rules, real airport data, schedules, and a few real planning queries."""

from __future__ import annotations

import datetime as dt
from collections import deque

import pytest

from entrepot.logistics.domain import (
    MODES,
    NODE_KINDS,
    SCHEDULED_MODES,
    Lane,
    Network,
    Parcel,
    RoutingRules,
    great_circle_km,
    to_minutes,
)
from entrepot.logistics.network_data import (
    AIR_LONG_HAUL_KM,
    SERVICES,
    country_name,
    delivery_pairs,
    demo_network,
    iter_lanes,
    mode_counts,
    nearest_station,
    schedule_for,
    stations_in,
)
from entrepot.logistics.network_tables import BUYER_CITIES, WAREHOUSES
from entrepot.logistics.routing import Route, choose, pareto_routes
from entrepot.logistics.synthetic import synthetic_network

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MONDAY_9AM_HANGZHOU = to_minutes(dt.datetime(2025, 11, 10, 9, 0, tzinfo=SHANGHAI))
DAY = 1440


@pytest.fixture(scope="module")
def demo() -> Network:
    return demo_network()


def reachable(network: Network, origin: str) -> set[str]:
    seen, todo = {origin}, deque([origin])
    while todo:
        for lane in network.lanes_from[todo.popleft()]:
            if lane.destination not in seen:
                seen.add(lane.destination)
                todo.append(lane.destination)
    return seen


def lane(network: Network, origin: str, destination: str, service: str) -> Lane:
    [found] = [ln for ln in network.lanes_from[origin] if ln.id == f"{origin}>{destination}:{service}"]
    return found


# --- size and coverage --------------------------------------------------------------------------------


def test_the_demo_network_is_big_enough_and_has_every_kind_and_mode(demo: Network) -> None:
    assert len(demo.nodes) >= 200
    assert demo.lane_count >= 2000
    assert {node.kind for node in demo.nodes.values()} == set(NODE_KINDS)
    assert set(mode_counts(demo)) == set(MODES)
    assert {ln.vehicle for ln in iter_lanes(demo) if ln.mode == "last_mile"} == {"van_diesel", "van_electric"}


def test_it_covers_china_southeast_asia_and_further_markets(demo: Network) -> None:
    for code in (
        "air-HGH",
        "air-SZX",
        "air-CAN",
        "sea-cn-ningbo",
        "sea-cn-shanghai",
        "sea-cn-shenzhen-yantian",
    ):
        assert demo.nodes[code].country == "CN"
    assert demo.nodes["rail-cn-yiwu"].kind == "rail_terminal"
    for country in ("SG", "MY", "TH", "VN", "ID", "PH"):
        kinds = {n.kind for n in demo.nodes.values() if n.country == country}
        assert {"sortation_hub", "delivery_station", "airport", "seaport"} <= kinds, country
        hubs = [n for n in demo.nodes.values() if n.country == country and n.kind == "sortation_hub"]
        assert len(hubs) >= 2 and len(stations_in(demo, country)) >= 5, country
    for country in ("ES", "FR", "DE", "NL", "PL", "SA", "AE", "BR", "MX"):
        assert stations_in(demo, country), country
    electric_sea = {ln.destination[:5] for ln in iter_lanes(demo) if ln.vehicle == "van_electric"}
    assert {"ds-sg", "ds-th", "ds-id", "ds-ph"} <= electric_sea


def test_the_scenario_warehouses_are_the_fulfilment_warehouses(demo: Network) -> None:
    warehouses = {code for code, node in demo.nodes.items() if node.kind == "fulfilment_warehouse"}
    assert warehouses == {code for code, *_ in WAREHOUSES}
    assert demo.nodes["cn-hangzhou"].time_zone == "Asia/Shanghai"


def test_codes_are_readable_and_countries_real(demo: Network) -> None:
    assert {"air-HGH", "hub-cn-hangzhou", "ds-sg-tampines", "sea-nl-rotterdam", "cus-sg-woodlands"} <= set(
        demo.nodes
    )
    for node in demo.nodes.values():
        assert node.code == node.code.strip() and " " not in node.code
        assert country_name(node.country)
    with pytest.raises(ValueError, match="ISO 3166"):
        country_name("XX")


# --- integrity and connectivity -----------------------------------------------------------------------


def test_every_lane_joins_known_nodes_once(demo: Network) -> None:
    lanes = list(iter_lanes(demo))
    assert len({ln.id for ln in lanes}) == len(lanes)
    for ln in lanes:
        assert ln.origin in demo.nodes and ln.destination in demo.nodes and ln.origin != ln.destination
        assert ln.transit_minutes > 0 and ln.distance_km >= 0
        assert ln.fixed_cost_cents > 0 and ln.per_kg_cents >= 0 and ln.capacity_kg > 0


def test_every_delivery_station_is_reachable_from_hangzhou(demo: Network) -> None:
    reached = reachable(demo, "cn-hangzhou")
    stations = {code for code, node in demo.nodes.items() if node.kind == "delivery_station"}
    assert stations <= reached
    assert reached == set(demo.nodes)  # hubs replenish warehouses and stations send returns: all of it


def test_every_node_can_send_back_to_hangzhou(demo: Network) -> None:
    assert all("cn-hangzhou" in reachable(demo, code) for code in demo.nodes if code.startswith("ds-sg"))


def test_every_demo_order_has_a_chain_of_lanes(demo: Network) -> None:
    pairs = delivery_pairs(demo)
    assert len(pairs) == len(WAREHOUSES) * len({s for _w, s in pairs})
    reach = {w: reachable(demo, w) for w, _s in pairs}
    assert all(station in reach[warehouse] for warehouse, station in pairs)


def test_buyers_get_a_station_in_their_own_city(demo: Network) -> None:
    for country, places in BUYER_CITIES.items():
        for latitude, longitude in places:
            station = nearest_station(demo, country, latitude, longitude)
            assert station.country == country
            assert great_circle_km(latitude, longitude, station.latitude, station.longitude) < 30
    with pytest.raises(ValueError, match="no delivery station"):
        nearest_station(demo, "JP", 35.7, 139.7)


# --- distances, real data, schedules ------------------------------------------------------------------


def test_air_distance_is_great_circle_plus_95_km(demo: Network) -> None:
    flight = lane(demo, "air-HGH", "air-MNL", "belly_short")
    hgh, mnl = demo.nodes["air-HGH"], demo.nodes["air-MNL"]
    assert flight.distance_km == pytest.approx(1844, rel=0.01)
    assert flight.distance_km == pytest.approx(
        great_circle_km(hgh.latitude, hgh.longitude, mnl.latitude, mnl.longitude) + 95, abs=0.1
    )
    assert flight.distance_rule == "great-circle + 95 km"
    # the vehicle is the aircraft (its emission category); the factor table's bands decide the haul
    assert flight.vehicle == "belly_hold"
    assert lane(demo, "air-HGH", "air-MAD", "belly_long").vehicle == "belly_hold"
    assert lane(demo, "air-BKK", "air-CAN", "freighter_short").vehicle == "freighter"


def test_belly_hold_and_freighter_are_both_in_the_demo(demo: Network) -> None:
    carriers = {(lane.vehicle, lane.carrier) for lane in demo.lanes_by_id.values() if lane.mode == "air"}
    assert carriers == {("belly_hold", "Airline belly hold"), ("freighter", "Cargo airline")}


def test_road_and_sea_distances_follow_their_rules(demo: Network) -> None:
    truck = lane(demo, "hub-cn-hangzhou", "hub-cn-shanghai", "road_express")
    a, b = demo.nodes["hub-cn-hangzhou"], demo.nodes["hub-cn-shanghai"]
    assert truck.distance_km == pytest.approx(
        great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude) * 1.25, abs=0.1
    )
    assert truck.distance_rule == "great-circle x 1.25"
    coastal = lane(demo, "sea-cn-ningbo", "sea-ph-manila", "sea_container")
    assert coastal.distance_rule == "great-circle x 1.3"
    # Asia to northern Europe goes round by Suez: about 10,500 nautical miles, not the ~9,000 km great circle
    suez = lane(demo, "sea-cn-shanghai", "sea-nl-rotterdam", "sea_container")
    assert suez.distance_km == pytest.approx(19_500, rel=0.05)
    assert "suez" in suez.distance_rule
    back = lane(demo, "sea-nl-rotterdam", "sea-cn-shanghai", "sea_container")
    assert back.distance_km == pytest.approx(suez.distance_km)


@pytest.mark.parametrize(
    ("code", "latitude", "longitude", "time_zone"),
    [
        ("air-HGH", 30.2295, 120.434, "Asia/Shanghai"),
        ("air-SIN", 1.35019, 103.994, "Asia/Singapore"),
        ("air-MNL", 14.5086, 121.02, "Asia/Manila"),
        ("air-MAD", 40.4936, -3.56676, "Europe/Madrid"),
        ("air-GRU", -23.43556, -46.47306, "America/Sao_Paulo"),
    ],
)
def test_airports_carry_their_real_coordinates_and_zones(
    demo: Network, code: str, latitude: float, longitude: float, time_zone: str
) -> None:
    node = demo.nodes[code]
    assert node.latitude == pytest.approx(latitude, abs=0.01)
    assert node.longitude == pytest.approx(longitude, abs=0.01)
    assert node.time_zone == time_zone


def test_other_nodes_take_the_zone_of_the_nearest_city(demo: Network) -> None:
    assert demo.nodes["ds-id-makassar"].time_zone == "Asia/Makassar"  # central Indonesian time, from UPG
    assert demo.nodes["ds-id-jakarta-pusat"].time_zone == "Asia/Jakarta"
    assert demo.nodes["ds-my-kuching"].time_zone == "Asia/Kuala_Lumpur"
    assert demo.nodes["sea-mx-manzanillo"].time_zone == "America/Mexico_City"


def test_scheduled_modes_have_schedules_with_cut_offs(demo: Network) -> None:
    cutoffs: dict[str, set[int]] = {}
    for ln in iter_lanes(demo):
        if ln.mode in SCHEDULED_MODES:
            assert ln.schedule is not None and ln.schedule.departures, ln.id
            cutoffs.setdefault(ln.mode, set()).add(ln.schedule.cutoff_minutes)
        else:
            assert ln.schedule is None, ln.id
    assert cutoffs["air"] <= {120, 180, 240}  # 2 to 4 hours
    assert cutoffs["sea"] <= {1440, 2880}  # 24 to 48 hours
    sailings = {len(ln.schedule.departures) for ln in iter_lanes(demo) if ln.mode == "sea" and ln.schedule}
    trains = {len(ln.schedule.departures) for ln in iter_lanes(demo) if ln.mode == "rail" and ln.schedule}
    assert sailings == {1} and trains <= {1, 2}


def test_freighters_leave_at_night_and_schedules_are_stable() -> None:
    freighter = schedule_for("freighter", 123456, 3)
    assert len(freighter.departures) == 3
    assert all(at.hour >= 22 or at.hour < 5 for _day, at in freighter.departures)
    assert schedule_for("belly", 99) == schedule_for("belly", 99)
    assert demo_network().lanes_from["air-HGH"] == demo_network().lanes_from["air-HGH"]


def test_costs_rank_the_modes_and_limits_follow_them(demo: Network) -> None:
    per_kg = {
        "air": lane(demo, "air-PVG", "air-AMS", "belly_long").per_kg_cents,
        "rail": lane(demo, "rail-cn-xian", "rail-de-duisburg", "block_train").per_kg_cents,
        "sea": lane(demo, "sea-cn-shanghai", "sea-nl-rotterdam", "sea_container").per_kg_cents,
    }
    assert per_kg["air"] > 3 * per_kg["rail"] > 3 * per_kg["sea"]
    assert SERVICES["belly_long"].max_parcel_kg == SERVICES["van_diesel"].max_parcel_kg == 30
    assert SERVICES["sea_container"].max_parcel_kg > SERVICES["road_express"].max_parcel_kg > 30


# --- planning on the demo network ---------------------------------------------------------------------


def test_a_parcel_to_manila_has_an_air_route_and_a_cheaper_slower_one(demo: Network) -> None:
    routes = pareto_routes(demo, "cn-hangzhou", "ds-ph-makati", Parcel(1.2, 30, 20, 10), MONDAY_9AM_HANGZHOU)
    by_air = [r for r in routes if any(leg.lane.mode == "air" for leg in r.legs) and r.minutes <= 10 * DAY]
    assert by_air
    fastest = min(by_air, key=lambda r: r.arrives)
    assert any(r.cost_cents < fastest.cost_cents and r.arrives > fastest.arrives for r in routes)
    assert any(leg.lane.mode == "sea" for r in routes for leg in r.legs)
    standard = choose(routes, "standard", "cheapest")
    assert standard.minutes <= 10 * DAY and standard.legs[-1].lane.destination == "ds-ph-makati"


def test_a_parcel_to_madrid_flies_within_the_express_promise(demo: Network) -> None:
    parcel = Parcel(0.8, 25, 20, 5)
    routes = pareto_routes(
        demo, "cn-yiwu", "ds-es-madrid-centro", parcel, MONDAY_9AM_HANGZHOU, MONDAY_9AM_HANGZHOU + 20 * DAY
    )
    express = choose(routes, "express", "cheapest")
    assert any(leg.lane.mode == "air" for leg in express.legs)
    assert express.minutes <= 5 * DAY


def test_a_domestic_parcel_goes_by_road_and_the_greenest_takes_the_electric_van(demo: Network) -> None:
    routes = pareto_routes(
        demo, "cn-hangzhou", "ds-cn-shanghai-pudong", Parcel(2.0, 30, 20, 10), MONDAY_9AM_HANGZHOU
    )
    assert all({leg.lane.mode for leg in r.legs} <= {"road", "last_mile"} for r in routes)
    assert choose(routes, "express", "greenest").legs[-1].lane.vehicle == "van_electric"
    assert choose(routes, "express", "cheapest").legs[-1].lane.vehicle == "van_diesel"


# --- the synthetic generator --------------------------------------------------------------------------


def test_the_synthetic_network_has_exactly_the_sizes_asked() -> None:
    net = synthetic_network(600, 6000, seed=3)
    assert len(net.nodes) == 600
    assert net.lane_count == 6000
    assert {n.kind for n in net.nodes.values()} == set(NODE_KINDS)
    assert set(mode_counts(net)) == set(MODES)


def test_the_synthetic_network_is_deterministic_for_a_seed() -> None:
    def fingerprint(net: Network) -> list[tuple[str, ...]]:
        return [(code, *(ln.id for ln in net.lanes_from[code])) for code in net.nodes]

    assert fingerprint(synthetic_network(300, 3000, seed=11)) == fingerprint(
        synthetic_network(300, 3000, seed=11)
    )
    assert fingerprint(synthetic_network(300, 3000, seed=11)) != fingerprint(
        synthetic_network(300, 3000, seed=12)
    )


def test_the_synthetic_network_connects_everything_and_stays_local() -> None:
    net = synthetic_network(500, 5000, seed=5)
    first = next(iter(net.nodes))
    assert reachable(net, first) == set(net.nodes)
    short = sum(1 for ln in iter_lanes(net) if ln.distance_km < 300)
    assert short > 0.7 * net.lane_count  # mostly near neighbours
    flights = [ln for ln in iter_lanes(net) if ln.mode == "air"]
    assert any(ln.distance_km > AIR_LONG_HAUL_KM for ln in flights)
    assert {ln.vehicle for ln in flights} == {"belly_hold", "freighter"}  # the synthetic marks its aircraft
    for ln in iter_lanes(net):
        assert (ln.schedule is not None) == (ln.mode in SCHEDULED_MODES)


def test_the_synthetic_generator_refuses_too_few_lanes() -> None:
    with pytest.raises(ValueError, match="backbone"):
        synthetic_network(500, 100, seed=1)
    with pytest.raises(ValueError, match="at least 4 nodes"):
        synthetic_network(2, 100, seed=1)


def test_random_pairs_on_a_synthetic_network_have_routes() -> None:
    net = synthetic_network(400, 4000, seed=9)
    warehouses = sorted(c for c, n in net.nodes.items() if n.kind == "fulfilment_warehouse")
    stations = sorted(c for c, n in net.nodes.items() if n.kind == "delivery_station")
    for origin, destination in zip(warehouses[:3], stations[-3:], strict=False):
        routes = pareto_routes(net, origin, destination, Parcel(1.0, 20, 20, 10), MONDAY_9AM_HANGZHOU)
        assert routes and routes[0].legs[-1].lane.destination == destination


def test_economy_to_madrid_finds_the_cheap_slow_train_where_nine_legs_are_allowed() -> None:
    """Slow, cheap routes come last in the search; they must still make the answer. Hangzhou to Madrid
    by train takes nine legs (three trucks to Xi'an's terminal, the train, four trucks across Europe,
    the van): over the default limit of eight, so a network allowing nine finds it and the default
    one does not."""
    net = demo_network()
    ready = to_minutes(dt.datetime(2025, 11, 11, 3, tzinfo=dt.UTC))
    madrid = next(n.code for n in net.nodes.values() if n.kind == "delivery_station" and n.country == "ES")

    def economy_cheapest(max_legs: int) -> tuple[Route, list[Route]]:
        net.rules = RoutingRules(max_legs=max_legs)
        routes = pareto_routes(net, "cn-hangzhou", madrid, Parcel(1.2, 30, 20, 10), ready, ready + 20 * 1440)
        return choose(routes, "economy", "cheapest"), routes

    cheapest, routes = economy_cheapest(9)
    assert "rail" in {leg.lane.mode for leg in cheapest.legs} and len(cheapest.legs) == 9
    assert cheapest.cost_cents < min(
        r.cost_cents for r in routes if all(leg.lane.mode != "rail" for leg in r.legs)
    )
    cheapest, routes = economy_cheapest(8)
    assert all(len(r.legs) <= 8 for r in routes) and "rail" not in {leg.lane.mode for leg in cheapest.legs}
