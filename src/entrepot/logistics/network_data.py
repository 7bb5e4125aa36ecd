"""Reference network data: the demo's logistics network, built from reference data that ships with
packages and the tables in `network_tables`. Pure functions: no database, no network. (Synthetic
networks for benchmarks are in `synthetic`.)

Real data
    Airports (IATA code, coordinates, time zone, country) come from the `airportsdata` package; country
    codes are checked against `pycountry`. Every other node's time zone is that of the nearest city's
    airport in the same country. Cities, districts, seaports, rail terminals and border crossings are
    placed at approximate centres (to about 0.01 degree) typed in for the demo.

Distances
    By the stated rules of `domain.rule_distance_km` (air great-circle + 95 km, road x 1.25, rail x 1.2,
    sea x 1.3), except for ocean routes from Asia to Europe, the Middle East and Brazil, where the great
    circle crosses continents: those follow named sea waypoints (Malacca, Suez, Gibraltar, the Cape...)
    and add `SEA_ROUTED_DETOUR` for the bends between them. The lane records which rule it used.

Modelling assumptions (not sourced figures; chosen for the right order of magnitude, change freely)
    Speeds, costs, capacities and weight limits per carrier service are in `SERVICES`; handling time per
    node kind in `HANDLING_MINUTES`; last-mile price levels per country in `LAST_MILE_COST_LEVEL`.
    Transit = distance / average speed + a fixed time (taxi and unloading for air, port stay for sea,
    terminal time for rail, loading for trucks, the delivery round for last-mile vans).
    Cost in US cents per parcel = a fixed part + per chargeable kg (a base + a part per 1,000 km), so
    long-haul air costs several dollars a kg, rail about one, sea tens of cents.
    Schedules: passenger-flight belly cargo daily (domestic twice daily, cut-off 2 h; international
    cut-off 3 h), freighters 5 a week within Asia and 2-3 a week long haul, at night (cut-off 4 h);
    sailings weekly (cut-off 24 h, 48 h on ocean routes over 6,000 km); China-Europe and China-Vietnam
    block trains once or twice a week (cut-off 24 h). Weekdays and hours are spread over the week by a
    stable hash of the lane id, so they are the same on every run and every machine.
    Trucks and vans leave whenever a parcel is ready (no schedule). A last-mile lane runs from a
    sortation hub through the delivery station to the buyer's door: its transit includes the round.
    Delivery stations also send pickups (returns) back to their hub, and hubs replenish warehouses, so
    every node can reach every other.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise, permutations

import airportsdata
import pycountry

from entrepot.logistics.domain import (
    ROAD_DETOUR,
    Lane,
    Network,
    Node,
    Schedule,
    great_circle_km,
    rule_distance_km,
)
from entrepot.logistics.network_tables import (
    ASIA_MAIN_AIRPORTS,
    ASIA_REGIONAL_AIRPORTS,
    ASIAN_EXITS,
    BORDERS,
    BUYER_CITIES,
    CITIES,
    LONG_HAUL_AIRPORTS,
    OCEAN_ROUTES,
    PORTS,
    RAIL_SERVICES,
    RAIL_TERMINALS,
    SEA_WAYPOINTS,
    STATIONS,
    WAREHOUSES,
)


@dataclass(frozen=True)
class Service:
    """One kind of carrier service: every lane of that service is built from these numbers."""

    mode: str
    vehicle: str  # with the mode, its emission category: logistics.intensity.CATEGORY_OF_LANE
    carrier: str
    speed_kmh: float  # average over the lane, stops included
    extra_minutes: int  # on top of the moving time (see the module docstring)
    fixed_cents: int  # US cents per parcel
    per_kg_cents: float  # US cents per chargeable kg, whatever the distance...
    per_kg_per_1000_km_cents: float  # ...plus this much per 1,000 km
    max_parcel_kg: float
    capacity_kg: float  # per departure


# Assumptions, not sourced figures (see the module docstring).
SERVICES = {
    # Belly hold of passenger flights: frequent, a little dearer than freighters.
    # The vehicle is the aircraft (belly hold or freighter: emission categories of their own); the haul
    # is the factor table's distance band.
    "belly_short": Service("air", "belly_hold", "Airline belly hold", 700, 150, 120, 110, 50, 30, 3_000),
    "belly_long": Service("air", "belly_hold", "Airline belly hold", 820, 180, 150, 180, 35, 30, 5_000),
    "freighter_short": Service("air", "freighter", "Cargo airline", 700, 150, 100, 90, 45, 30, 15_000),
    "freighter_long": Service("air", "freighter", "Cargo airline", 820, 180, 120, 150, 30, 30, 40_000),
    # About 16 knots (slow steaming); a day in port before the boxes are off the ship.
    "sea_container": Service("sea", "container_ship", "Container line", 30, 1440, 80, 8, 1.5, 2_000, 200_000),
    # China-Europe trains average about 700 km a day with border and gauge changes.
    "block_train": Service(
        "rail", "freight_train", "Block train operator", 30, 1440, 100, 30, 6, 2_000, 60_000
    ),
    # Express line-haul runs with two drivers; groupage waits to fill and stops on the way.
    "road_express": Service("road", "truck", "Express line-haul", 60, 60, 25, 2, 12, 1_000, 8_000),
    "road_groupage": Service("road", "truck", "Groupage trucking", 40, 240, 15, 1, 7, 1_000, 20_000),
    # Vans: the fixed part is scaled by LAST_MILE_COST_LEVEL of the station's country.
    "van_diesel": Service("last_mile", "van_diesel", "Courier", 25, 240, 90, 10, 0, 30, 700),
    "van_electric": Service("last_mile", "van_electric", "EV courier", 25, 240, 95, 10, 0, 30, 500),
    "van_pickup": Service("last_mile", "van_diesel", "Courier", 25, 480, 60, 10, 0, 30, 700),
}
AIR_LONG_HAUL_KM = 3700.0  # DESNZ calls flights over 3,700 km long haul; its emission factors follow that
SEA_ROUTED_DETOUR = 1.02  # bends between waypoints: brings Shanghai-Rotterdam near the usual ~19,500 km
SEA_LONG_CUTOFF_KM = 6000.0  # ocean sailings beyond this close 48 h ahead, shorter ones 24 h
GROUPAGE_MIN_KM = 400.0  # shorter runs have one truck class: consolidating saves too little to offer
BROKERAGE_CENTS = 150  # customs brokerage per parcel when a truck crosses a land border (assumption)
FEEDER_RADIUS_KM = 150.0  # trucks link a gateway or warehouse to every hub this close (and the nearest two)
HUB_LINK_KM = 900.0  # hubs in one road zone but different countries are linked when this close
SECOND_HUB_KM = 40.0  # a station is also served by any other hub this close
DOMESTIC_AIR_MIN_KM = 300.0  # nobody flies parcels shorter than this within a country
HANDLING_MINUTES = {
    "fulfilment_warehouse": 240,  # cross-docking when a parcel passes through
    "sortation_hub": 120,
    "airport": 180,  # screening and build-up, or break-down and import clearance
    "seaport": 720,  # container freight station: stuffing or unstuffing, clearance
    "rail_terminal": 720,
    "customs_point": 360,  # a land border: inspection and release
    "delivery_station": 60,
}
# Relative price of a last-mile delivery by country (1.0 = 90 cents a parcel by diesel van): an assumption.
LAST_MILE_COST_LEVEL = {
    "CN": 0.6, "SG": 1.8, "MY": 0.8, "TH": 0.6, "VN": 0.5, "ID": 0.5, "PH": 0.5,
    "ES": 2.5, "FR": 3.0, "DE": 3.0, "NL": 3.0, "PL": 1.5, "BE": 3.0,
    "SA": 1.5, "AE": 1.5, "BR": 1.2, "MX": 1.0,
}  # fmt: skip
REGIONS = {
    **dict.fromkeys(("CN", "SG", "MY", "TH", "VN", "ID", "PH"), "asia"),
    **dict.fromkeys(("ES", "FR", "DE", "NL", "PL", "BE"), "europe"),
    **dict.fromkeys(("SA", "AE"), "middle_east"),
    **dict.fromkeys(("BR", "MX"), "latin_america"),
}
# --- tables -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    country: str
    name: str
    airport: str
    zone: str
    latitude: float
    longitude: float

    @property
    def hub(self) -> str:
        return f"hub-{self.country.lower()}-{self.name}"


@dataclass(frozen=True)
class Port:
    node: Node
    tier: str
    exit: str
    route: str
    approach: tuple[str, ...]


def _rows(table: str) -> Iterator[list[str]]:
    for line in table.strip().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.split()


@functools.cache
def cities() -> tuple[City, ...]:
    return tuple(
        City(cc, name, airport, zone, float(lat), float(lon))
        for cc, name, airport, zone, lat, lon in _rows(CITIES)
    )


@functools.cache
def airports() -> dict[str, airportsdata.Airport]:
    """Every airport with an IATA code, from the airportsdata package (read once: about 0.1 s)."""
    return airportsdata.load("IATA")


@functools.cache
def country_name(code: str) -> str:
    """The ISO 3166 name from pycountry; an unknown code is a mistake in the tables, so it raises."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ValueError(f"{code!r} is not an ISO 3166 country code")
    return str(country.name)


def _nearest_city(country: str, latitude: float, longitude: float) -> City:
    candidates = [city for city in cities() if city.country == country]
    if not candidates:
        raise ValueError(f"no city in {country} to attach a node at {latitude}, {longitude} to")
    return min(candidates, key=lambda c: great_circle_km(latitude, longitude, c.latitude, c.longitude))


def _time_zone(city: City) -> str:
    return airports()[city.airport]["tz"]


def _place(code: str, kind: str, country: str, latitude: float, longitude: float) -> Node:
    """A node in a country, in the time zone of the nearest city there."""
    country_name(country)
    city = _nearest_city(country, latitude, longitude)
    return Node(code, kind, country, latitude, longitude, _time_zone(city), HANDLING_MINUTES[kind])


@functools.cache
def _zone(node: Node) -> str:
    return _nearest_city(node.country, node.latitude, node.longitude).zone


def distance_km(a: Node, b: Node) -> float:
    return great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)


# --- lanes --------------------------------------------------------------------------------------------


def timetable_pattern(key: str) -> int:
    """A stable pseudo-random number for a lane (crc32, unlike hash(), is the same in every process)."""
    return zlib.crc32(key.encode())


def _spread_days(per_week: int, start: int) -> list[int]:
    return sorted({(start + i * 7 // per_week) % 7 for i in range(per_week)})


def _at(minutes: int) -> dt.time:
    minutes %= 1440
    return dt.time(minutes // 60, minutes % 60)


@functools.lru_cache(maxsize=4096)
def schedule_for(kind: str, pattern: int, per_week: int = 7) -> Schedule:
    """A weekly timetable of the given kind; `pattern` picks the weekdays and hours."""
    start, slot = pattern % 7, pattern // 7
    if kind == "domestic_belly":  # twice a day: a morning bank 07:00-11:30 and an evening one 9 h later
        first = 420 + slot % 10 * 30
        return Schedule(tuple((d, _at(m)) for d in range(7) for m in (first, first + 540)), 120)
    if kind == "belly":  # daily, 08:00-21:30
        return Schedule(tuple((d, _at(480 + slot % 28 * 30)) for d in range(7)), 180)
    if kind == "freighter":  # at night, 22:00-04:30
        return Schedule(tuple((d, _at(1320 + slot % 14 * 30)) for d in _spread_days(per_week, start)), 240)
    if kind in ("sea", "sea_ocean"):  # weekly, 06:00-17:30
        cutoff = 2880 if kind == "sea_ocean" else 1440
        return Schedule(((start, _at(360 + slot % 24 * 30)),), cutoff)
    if kind == "rail":  # 10:00-15:30
        return Schedule(tuple((d, _at(600 + slot % 12 * 30)) for d in _spread_days(per_week, start)), 1440)
    raise ValueError(f"unknown schedule kind {kind!r}")


def make_lane(
    service_key: str,
    origin: Node,
    destination: Node,
    *,
    schedule: Schedule | None = None,
    distance: tuple[float, str] | None = None,
    extra_fixed_cents: int = 0,
) -> Lane:
    """A lane of a service between two nodes: distance by the stated rule unless given, then transit
    and cost from the service's assumptions."""
    service = SERVICES[service_key]
    km, rule = distance or rule_distance_km(service.mode, origin, destination)
    fixed = service.fixed_cents
    if service.mode == "last_mile":  # priced where the van drives
        station = destination if destination.kind == "delivery_station" else origin
        fixed = round(fixed * LAST_MILE_COST_LEVEL.get(station.country, 1.0))
    return Lane(
        id=f"{origin.code}>{destination.code}:{service_key}",
        origin=origin.code,
        destination=destination.code,
        mode=service.mode,
        vehicle=service.vehicle,
        carrier=service.carrier,
        distance_km=round(km, 1),
        transit_minutes=math.ceil(km / service.speed_kmh * 60) + service.extra_minutes,
        fixed_cost_cents=fixed + extra_fixed_cents,
        per_kg_cents=round(service.per_kg_cents + service.per_kg_per_1000_km_cents * km / 1000),
        max_parcel_kg=service.max_parcel_kg,
        capacity_kg=service.capacity_kg,
        schedule=schedule,
        distance_rule=rule,
    )


TRUCKS = ("road_express", "road_groupage")


def _trucks(origin: Node, destination: Node, extra_fixed_cents: int = 0) -> list[Lane]:
    """Express line-haul always; groupage too when the run is long enough for consolidating to pay."""
    far = distance_km(origin, destination) * ROAD_DETOUR >= GROUPAGE_MIN_KM
    services = TRUCKS if far else TRUCKS[:1]
    return [make_lane(key, origin, destination, extra_fixed_cents=extra_fixed_cents) for key in services]


# --- the demo network ---------------------------------------------------------------------------------


def demo_network() -> Network:
    """The demo's network: China, the six Southeast Asian markets, Europe, the Middle East and Latin
    America, at least 200 nodes and 2,000 lanes, every node reachable from every other."""
    network = Network()
    ports = _ports()
    for node in _demo_nodes(ports):
        network.add_node(node)
    for lane in _demo_lanes(network, ports):
        network.add_lane(lane)
    return network


def _demo_nodes(ports: Sequence[Port]) -> Iterator[Node]:
    yield from _airport_nodes()
    for city in cities():
        yield _place(city.hub, "sortation_hub", city.country, city.latitude, city.longitude)
    for code, _city, country, latitude, longitude in WAREHOUSES:
        yield _place(code, "fulfilment_warehouse", country, latitude, longitude)
    yield from _table_nodes(STATIONS, "ds", "delivery_station", name_column=2)
    yield from (port.node for port in ports)
    yield from _table_nodes(RAIL_TERMINALS, "rail", "rail_terminal", name_column=1)
    yield from _table_nodes(BORDERS, "cus", "customs_point", name_column=1)


def _table_nodes(table: str, prefix: str, kind: str, name_column: int) -> Iterator[Node]:
    """Nodes from a table whose rows start with the country and give name, latitude, longitude in a row."""
    for row in _rows(table):
        country, name, latitude, longitude = row[0], *row[name_column : name_column + 3]
        yield _place(f"{prefix}-{country.lower()}-{name}", kind, country, float(latitude), float(longitude))


def _airport_nodes() -> Iterator[Node]:
    for code in sorted({city.airport for city in cities()}):
        airport = airports()[code]
        country_name(airport["country"])
        yield Node(
            f"air-{code}",
            "airport",
            airport["country"],
            airport["lat"],
            airport["lon"],
            airport["tz"],
            HANDLING_MINUTES["airport"],
        )


def _ports() -> tuple[Port, ...]:
    ports = []
    for cc, name, lat, lon, tier, exit_, route in _rows(PORTS):
        node = _place(f"sea-{cc.lower()}-{name}", "seaport", cc, float(lat), float(lon))
        ocean, *approach = route.split(",")
        ports.append(Port(node, tier, exit_, ocean, tuple(approach)))
    return tuple(ports)


def _demo_lanes(network: Network, ports: Sequence[Port]) -> Iterator[Lane]:
    by_kind: dict[str, list[Node]] = {}
    for node in network.nodes.values():
        by_kind.setdefault(node.kind, []).append(node)
    hubs = by_kind["sortation_hub"]
    yield from _hub_lanes(hubs)
    yield from _border_lanes(network)
    for kind in ("airport", "seaport", "rail_terminal"):
        for facility in by_kind[kind]:
            yield from _feeder_lanes(facility, hubs)
    for warehouse in by_kind["fulfilment_warehouse"]:
        yield from _warehouse_lanes(warehouse, hubs, by_kind)
    yield from _last_mile_lanes(network, hubs)
    yield from _air_lanes(by_kind["airport"])
    yield from _sea_lanes(ports)
    yield from _rail_lanes(network)


def _hub_lanes(hubs: Sequence[Node]) -> Iterator[Lane]:
    """Line-haul trucks between the hubs of a road zone: all pairs within a country, and across a
    border inside the zone (the EU's single market) when the hubs are near enough."""
    zones = {hub.code: _zone(hub) for hub in hubs}
    for a, b in permutations(hubs, 2):
        if zones[a.code] != zones[b.code]:
            continue
        if a.country == b.country or distance_km(a, b) <= HUB_LINK_KM:
            yield from _trucks(a, b)


def _border_lanes(network: Network) -> Iterator[Lane]:
    """Trucks through a land border crossing; the leg out of it pays the customs brokerage."""
    for row in _rows(BORDERS):
        crossing = network.nodes[f"cus-{row[0].lower()}-{row[1]}"]
        for hub_code in (token for token in row[4:] if token != "|"):
            hub = network.nodes[f"hub-{hub_code}"]
            yield from _trucks(hub, crossing)
            yield from _trucks(crossing, hub, extra_fixed_cents=BROKERAGE_CENTS)


def _near_hubs(node: Node, hubs: Sequence[Node]) -> list[Node]:
    """Hubs of the node's road zone: the nearest two and any within FEEDER_RADIUS_KM."""
    zone = _zone(node)
    ranked = sorted((h for h in hubs if _zone(h) == zone), key=lambda h: distance_km(node, h))
    return [h for i, h in enumerate(ranked) if i < 2 or distance_km(node, h) <= FEEDER_RADIUS_KM]


def _feeder_lanes(facility: Node, hubs: Sequence[Node]) -> Iterator[Lane]:
    for hub in _near_hubs(facility, hubs):
        yield make_lane("road_express", hub, facility)
        yield make_lane("road_express", facility, hub)


def _warehouse_lanes(warehouse: Node, hubs: Sequence[Node], by_kind: dict[str, list[Node]]) -> Iterator[Lane]:
    """Out to nearby hubs and straight to nearby gateways; replenished from the nearest hub."""
    near = _near_hubs(warehouse, hubs)
    for hub in near:
        yield from _trucks(warehouse, hub)
    yield make_lane("road_groupage", near[0], warehouse)
    zone = _zone(warehouse)
    for kind in ("airport", "seaport", "rail_terminal"):
        for gateway in by_kind[kind]:
            if _zone(gateway) == zone and distance_km(warehouse, gateway) <= FEEDER_RADIUS_KM:
                yield make_lane("road_express", warehouse, gateway)


def _last_mile_lanes(network: Network, hubs: Sequence[Node]) -> Iterator[Lane]:
    for cc, city, name, _lat, _lon, vans in _rows(STATIONS):
        station = network.nodes[f"ds-{cc.lower()}-{name}"]
        home = network.nodes[f"hub-{cc.lower()}-{city}"]
        yield make_lane("van_diesel", home, station)
        if "e" in vans:
            yield make_lane("van_electric", home, station)
        yield make_lane("van_pickup", station, home)
        for other in hubs:
            if other is not home and other.country == cc and distance_km(other, station) <= SECOND_HUB_KM:
                yield make_lane("van_diesel", other, station)


# --- air, sea and rail --------------------------------------------------------------------------------


def air_services(a: Node, b: Node) -> list[tuple[str, int]]:
    """The scheduled services flown from airport a to b: (schedule kind, departures a week)."""
    code_a, code_b = a.code.removeprefix("air-"), b.code.removeprefix("air-")
    region_a, region_b = REGIONS[a.country], REGIONS[b.country]
    if a.country == b.country:
        international = LONG_HAUL_AIRPORTS | ASIA_REGIONAL_AIRPORTS
        flown = distance_km(a, b) >= DOMESTIC_AIR_MIN_KM and bool({code_a, code_b} & international)
        return [("domestic_belly", 14)] if flown else []
    if region_a == region_b == "asia":
        services = [("belly", 7)] if {code_a, code_b} <= ASIA_REGIONAL_AIRPORTS else []
        return services + ([("freighter", 5)] if {code_a, code_b} <= ASIA_MAIN_AIRPORTS else [])
    if not {code_a, code_b} <= LONG_HAUL_AIRPORTS:
        return []
    regions = {region_a, region_b}
    if "asia" in regions and "latin_america" in regions:  # no nonstop passenger flights: freighters only
        return [("freighter", 2)]
    if "asia" in regions:
        return [("belly", 7), ("freighter", 3)]
    if regions in ({"europe", "latin_america"}, {"europe", "middle_east"}, {"middle_east"}):
        return [("belly", 7)]
    return []


def _air_lanes(airports_: Sequence[Node]) -> Iterator[Lane]:
    for a, b in permutations(airports_, 2):
        for kind, per_week in air_services(a, b):
            haul = "long" if rule_distance_km("air", a, b)[0] > AIR_LONG_HAUL_KM else "short"
            key = f"{'freighter' if kind == 'freighter' else 'belly'}_{haul}"
            schedule = schedule_for(kind, timetable_pattern(f"{a.code}>{b.code}:{key}"), per_week)
            yield make_lane(key, a, b, schedule=schedule)


def sea_distance(a: Port, b: Port) -> tuple[float, str]:
    """Port to port: the plain rule along Asian coasts; from Asia to another continent along the ocean
    route's waypoints (the same both ways), or straight across the open Pacific."""
    asian, other = (a, b) if a.exit != "-" else (b, a)
    if asian.exit == "-" or other.exit != "-":
        return rule_distance_km("sea", a.node, b.node)
    route = OCEAN_ROUTES[other.route]
    names = (*ASIAN_EXITS[asian.exit], *route, *other.approach) if route else ()
    if asian is b:
        names = names[::-1]
    points = [(a.node.latitude, a.node.longitude)]
    points += [SEA_WAYPOINTS[name] for name in names]
    points.append((b.node.latitude, b.node.longitude))
    km = sum(great_circle_km(*p, *q) for p, q in pairwise(points))
    via = f"via {', '.join(names)} " if names else "across the open ocean "
    return km * SEA_ROUTED_DETOUR, f"great-circle {via}x {SEA_ROUTED_DETOUR}"


def sails(a: Port, b: Port) -> bool:
    """Weekly services: along an Asian coast, between Asian countries, and from Asia's ocean ports to
    the other continents (nothing between two non-Asian ports: trucks and planes serve those)."""
    in_asia = a.exit != "-", b.exit != "-"
    if all(in_asia):
        if a.node.country == b.node.country:
            return _zone(a.node) != _zone(b.node) or distance_km(a.node, b.node) >= 500
        return a.tier != "coastal" and b.tier != "coastal"
    return any(in_asia) and a.tier == b.tier == "long_haul"


def _sea_lanes(ports: Sequence[Port]) -> Iterator[Lane]:
    for a, b in permutations(ports, 2):
        if not sails(a, b):
            continue
        distance = sea_distance(a, b)
        kind = "sea_ocean" if distance[0] > SEA_LONG_CUTOFF_KM else "sea"
        schedule = schedule_for(kind, timetable_pattern(f"{a.node.code}>{b.node.code}"))
        yield make_lane("sea_container", a.node, b.node, schedule=schedule, distance=distance)


def _rail_lanes(network: Network) -> Iterator[Lane]:
    for origin, destination, out, back in _rows(RAIL_SERVICES):
        a, b = network.nodes[f"rail-{origin}"], network.nodes[f"rail-{destination}"]
        for start, end, per_week in ((a, b, int(out)), (b, a, int(back))):
            schedule = schedule_for("rail", timetable_pattern(f"{start.code}>{end.code}"), per_week)
            yield make_lane("block_train", start, end, schedule=schedule)


# --- looking things up --------------------------------------------------------------------------------


def stations_in(network: Network, country: str) -> list[Node]:
    """The delivery stations of a country, by code."""
    return sorted(
        (n for n in network.nodes.values() if n.kind == "delivery_station" and n.country == country),
        key=lambda n: n.code,
    )


def nearest_station(network: Network, country: str, latitude: float, longitude: float) -> Node:
    """The delivery station that would serve a buyer at this place; a country without one raises."""
    stations = stations_in(network, country)
    if not stations:
        raise ValueError(f"no delivery station in {country}")
    return min(stations, key=lambda s: great_circle_km(latitude, longitude, s.latitude, s.longitude))


def delivery_pairs(
    network: Network, buyer_cities: dict[str, list[tuple[float, float]]] | None = None
) -> list[tuple[str, str]]:
    """(warehouse, delivery station) for every warehouse and every demo buyer city: what the demo's
    orders may ask the planner for."""
    places = BUYER_CITIES if buyer_cities is None else buyer_cities
    warehouses = sorted(n.code for n in network.nodes.values() if n.kind == "fulfilment_warehouse")
    stations = sorted(
        {nearest_station(network, cc, lat, lon).code for cc, spots in places.items() for lat, lon in spots}
    )
    return [(w, s) for w in warehouses for s in stations]


def mode_counts(network: Network) -> dict[str, int]:
    """Lanes per mode (for reports and tests)."""
    counts: dict[str, int] = {}
    for lanes in network.lanes_from.values():
        for lane in lanes:
            counts[lane.mode] = counts.get(lane.mode, 0) + 1
    return counts


def iter_lanes(network: Network) -> Iterable[Lane]:
    return (lane for lanes in network.lanes_from.values() for lane in lanes)
