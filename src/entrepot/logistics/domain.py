"""Pure rules of the logistics network: nodes, lanes and their schedules, distances, chargeable weight,
and the cost, time and emissions of carrying a parcel over a lane. No I/O.

Times inside the planner are whole minutes since the Unix epoch, UTC: cheap to compare and add.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from entrepot.logistics.intensity import BUILT_IN, LaneIntensities, default_wtw_g_per_tkm

EARTH_RADIUS_KM = 6371.0  # the mean radius the GLEC/ISO 14083 worked examples use
AIR_EXTRA_KM = 95.0  # ISO 14083 / GLEC: great-circle distance + 95 km for air
ROAD_DETOUR = 1.25  # road: great-circle x 1.25 when no routed distance is given (stated with results)
RAIL_DETOUR = 1.20
SEA_DETOUR = 1.30  # port to port when no sailing distance is given
VOLUMETRIC_DIVISOR_CM3_PER_KG = 6000  # IATA: 6,000 cm3 per chargeable kg for air cargo
# The parcel's size when a route request gives none (length, width, height in cm): the one default the
# API's RouteQuery and the CLI's `logistics route --size-cm` share, so both quote the same price.
DEFAULT_PARCEL_CM = (20.0, 15.0, 10.0)
MINUTES_PER_WEEK = 7 * 24 * 60
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

NODE_KINDS = (
    "fulfilment_warehouse",
    "sortation_hub",
    "airport",
    "seaport",
    "rail_terminal",
    "customs_point",
    "delivery_station",
)
MODES = ("road", "rail", "air", "sea", "last_mile")
SCHEDULED_MODES = ("air", "sea", "rail")


def to_minutes(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return int((moment - EPOCH).total_seconds() // 60)


def from_minutes(minutes: int) -> dt.datetime:
    return EPOCH + dt.timedelta(minutes=minutes)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Node:
    code: str
    kind: str
    country: str
    latitude: float
    longitude: float
    time_zone: str
    handling_minutes: int = 0  # time a parcel spends here between arriving and being ready to leave


def rule_distance_km(mode: str, origin: Node, destination: Node) -> tuple[float, str]:
    """The distance the stated rule gives when a lane has none of its own, and the rule's name."""
    gcd = great_circle_km(origin.latitude, origin.longitude, destination.latitude, destination.longitude)
    if mode == "air":
        return gcd + AIR_EXTRA_KM, "great-circle + 95 km"
    if mode == "rail":
        return gcd * RAIL_DETOUR, f"great-circle x {RAIL_DETOUR}"
    if mode == "sea":
        return gcd * SEA_DETOUR, f"great-circle x {SEA_DETOUR}"
    return gcd * ROAD_DETOUR, f"great-circle x {ROAD_DETOUR}"


@dataclass(frozen=True)
class Schedule:
    """Departures on given weekdays (0 = Monday) at local times of the origin, each closing to new
    parcels `cutoff_minutes` before it leaves."""

    departures: tuple[tuple[int, dt.time], ...]
    cutoff_minutes: int = 0

    def next_departure(self, ready: int, time_zone: str) -> int:
        """The first departure a parcel ready at `ready` (UTC minutes) can still make.

        Whole-minute arithmetic on local time, with the zone's UTC offset looked up once per zone and
        day (cached): the planner asks this millions of times, and datetime objects cost far more."""
        earliest = ready + self.cutoff_minutes
        local = earliest + utc_offset_minutes(time_zone, earliest // 1440)
        monday = local - (local // 1440 + 3) % 7 * 1440 - local % 1440  # 1 Jan 1970 was a Thursday
        offsets = weekly_offsets(self.departures)
        wanted = local - monday
        while True:  # once, but for a departure that a daylight-saving change moves before `earliest`
            weeks, index = divmod(bisect_left(offsets, wanted), len(offsets))
            departure_local = monday + weeks * MINUTES_PER_WEEK + offsets[index]
            # the offset of the departure's own day: a timetable keeps its local hour across DST changes
            departure = departure_local - utc_offset_minutes(time_zone, departure_local // 1440)
            if departure >= earliest:
                return departure
            wanted = departure_local - monday + 1


@lru_cache(maxsize=4096)
def weekly_offsets(departures: tuple[tuple[int, dt.time], ...]) -> tuple[int, ...]:
    return tuple(sorted(day * 1440 + at.hour * 60 + at.minute for day, at in departures))


@lru_cache(maxsize=65536)
def utc_offset_minutes(time_zone: str, day: int) -> int:
    """The zone's offset from UTC at noon UTC of a day (days since the epoch)."""
    moment = EPOCH + dt.timedelta(days=day, hours=12)
    offset = moment.astimezone(ZoneInfo(time_zone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


@dataclass(frozen=True)
class Lane:
    id: str
    origin: str
    destination: str
    mode: str
    vehicle: str
    carrier: str
    distance_km: float
    transit_minutes: int
    fixed_cost_cents: int  # US cents per parcel
    per_kg_cents: int  # US cents per chargeable kg
    max_parcel_kg: float
    capacity_kg: float  # per departure; consolidation books against it
    schedule: Schedule | None = None  # None: leaves whenever a parcel is ready (trucks, vans)
    distance_rule: str = "given"
    # WTW g CO2e per t-km of the factor version in force, where it differs from the built-in default
    # (None: the default). Set when the network is weighed (`weighed`), so the planner's inner loop
    # reads a number, never a factor table.
    factor_g_per_tkm: float | None = None

    def departure(self, ready: int, origin_time_zone: str) -> int:
        return ready if self.schedule is None else self.schedule.next_departure(ready, origin_time_zone)


@dataclass(frozen=True)
class Parcel:
    weight_kg: float
    length_cm: float
    width_cm: float
    height_cm: float
    declared_value_cents: int = 0

    def chargeable_kg(self, mode: str) -> float:
        """Air charges the greater of actual and volumetric weight; other modes the actual weight."""
        if mode != "air":
            return self.weight_kg
        volumetric = self.length_cm * self.width_cm * self.height_cm / VOLUMETRIC_DIVISOR_CM3_PER_KG
        return max(self.weight_kg, volumetric)


def lane_cost_cents(lane: Lane, parcel: Parcel) -> int:
    return lane.fixed_cost_cents + math.ceil(lane.per_kg_cents * parcel.chargeable_kg(lane.mode))


def lane_emissions_g(lane: Lane, parcel: Parcel) -> float:
    """Well-to-wheel g CO2e: tonnes x km x the factor of the lane's transport operation category in the
    version the network was weighed with (`Network.emissions_version`; unweighed, the built-in DESNZ 2025
    default, where the distance picks short- or long-haul air). Actual mass, not chargeable weight.
    Stored shipments are accounted in full (legs and hubs) by the emissions context; this is the
    planner's and checkout's figure, from the same version."""
    return parcel.weight_kg / 1000 * lane.distance_km * lane_factor_g_per_tkm(lane)


def lane_factor_g_per_tkm(lane: Lane) -> float:
    if lane.factor_g_per_tkm is not None:
        return lane.factor_g_per_tkm
    return default_wtw_g_per_tkm(lane.mode, lane.vehicle, lane.distance_km)


@dataclass(frozen=True)
class RoutingRules:
    """What counts as a route on a network (issue 17); every rule is on by default."""

    warehouses_start_only: bool = True  # a fulfilment warehouse starts routes, never passes one on
    stations_end_only: bool = True  # a delivery station ends routes, never passes one on
    no_node_twice: bool = True
    max_legs: int = 8  # 0: no limit


Epsilon = tuple[float, float, float]  # relative slack on time, cost, emissions: 0.02 is 2 %
DEFAULT_EPSILON: Epsilon = (0.02, 0.02, 0.02)


@dataclass
class Network:
    nodes: dict[str, Node] = field(default_factory=dict)
    lanes_from: dict[str, list[Lane]] = field(default_factory=dict)
    lanes_by_id: dict[str, Lane] = field(default_factory=dict)
    delivery_stations: set[str] = field(default_factory=set)
    # per (destination, weight floor): least time, cost and emissions to go, see routing.lower_bounds
    bounds_cache: dict[tuple[str, float], Any] = field(default_factory=dict, repr=False)
    compiled: Any = field(default=None, repr=False)  # the planner's arrays, see logistics.compiled
    rules: RoutingRules = field(default_factory=RoutingRules)
    epsilon: Epsilon = DEFAULT_EPSILON  # the planner's (1+epsilon) cover, unless a request says otherwise
    emissions_version: str = BUILT_IN  # the factor version its lanes' emissions come from (see `weighed`)

    def lane(self, lane_id: str) -> Lane | None:
        return self.lanes_by_id.get(lane_id)

    def resolve(self, code: str) -> str | None:
        """A node code as given, or an IATA airport code meaning that airport's node (HGH -> air-HGH)."""
        for candidate in (code, f"air-{code.upper()}"):
            if candidate in self.nodes:
                return candidate
        return None

    def add_node(self, node: Node) -> None:
        self.nodes[node.code] = node
        if node.kind == "delivery_station":
            self.delivery_stations.add(node.code)
        self._changed()
        self.lanes_from.setdefault(node.code, [])

    def add_lane(self, lane: Lane) -> None:
        if lane.origin not in self.nodes or lane.destination not in self.nodes:
            raise ValueError(f"lane {lane.id} joins unknown nodes {lane.origin} -> {lane.destination}")
        self.lanes_from[lane.origin].append(lane)
        self.lanes_by_id[lane.id] = lane
        self._changed()

    def _changed(self) -> None:
        self.bounds_cache.clear()
        self.compiled = None

    @property
    def lane_count(self) -> int:
        return sum(len(lanes) for lanes in self.lanes_from.values())


def weighed(network: Network, intensities: LaneIntensities) -> Network:
    """The same network with each lane's emission factor from `intensities` (a new object, so the
    planner's compiled arrays, bounds and cached routes of the old weights are never reused with it). A
    lane keeps the built-in default where the version gives the same figure or none: a missing factor
    would count zero in the account, but the planner needs a weight, and zero would make the lane look
    greenest of all."""
    out = Network(rules=network.rules, epsilon=network.epsilon, emissions_version=intensities.label)
    for node in network.nodes.values():
        out.add_node(node)
    for lanes in network.lanes_from.values():
        for lane in lanes:
            out.add_lane(_reweighed(lane, network, intensities))
    return out


def _reweighed(lane: Lane, network: Network, intensities: LaneIntensities) -> Lane:
    countries = (network.nodes[lane.origin].country, network.nodes[lane.destination].country)
    figure = intensities.wtw_g_per_tkm(lane.mode, lane.vehicle, lane.distance_km, countries)
    if figure == default_wtw_g_per_tkm(lane.mode, lane.vehicle, lane.distance_km):
        figure = None  # the default's own figure: nothing to override (the lane stays as stored)
    return lane if figure == lane.factor_g_per_tkm else replace(lane, factor_g_per_tkm=figure)
