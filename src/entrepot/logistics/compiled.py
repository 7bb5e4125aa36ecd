"""The network as flat arrays for the compiled planner (`compiled_search`), and the per-query preparation.

A `CompiledNetwork` is built once per network (and cached on it): nodes and lanes numbered, lanes grouped
by origin (and by destination for the backwards bounds), timetables as weekly local minutes. Per query,
only the parcel-dependent lane costs and emissions are computed (vectorised), and the time zones' UTC
offsets for the days the query can reach are looked up (cached per first day).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from entrepot.logistics import compiled_search
from entrepot.logistics.domain import (
    VOLUMETRIC_DIVISOR_CM3_PER_KG,
    Epsilon,
    Lane,
    Network,
    Parcel,
    RoutingRules,
    lane_factor_g_per_tkm,
    utc_offset_minutes,
    weekly_offsets,
)

HORIZON_DAYS = 60  # how far a search without a deadline looks (the slowest promise is 20 days)
ZONE_TABLES_KEPT = 8  # per first day: queries of one day share one table
BOUNDS_KEPT = 512  # per (destination, weight floor): 3 x 8 bytes x nodes each (about 240 kB at 10,000)
# label rows a search starts with: hard pairs on a 10,000-node network keep over 100,000 labels, and
# running out means searching again with more, so start big (the rows cost memory only once touched)
INITIAL_LABELS = 1 << 18


@dataclass
class Bounds:
    time: np.ndarray  # int64 minutes, compiled_search.NO_ROUTE where the destination cannot be reached
    cost: np.ndarray  # int64 cents
    grams: np.ndarray  # float64, inf where the destination cannot be reached
    # fewest legs to the destination, per (stations end only, warehouses start only): see `hops`
    hops: dict[tuple[bool, bool], np.ndarray] = field(default_factory=dict)


FloorLanes = tuple[np.ndarray, np.ndarray, np.ndarray]  # cost (cents), micrograms, usable: per lane


@dataclass
class FeederBounds:
    """Bounds computed ahead, for one weight floor, towards every node that has a lane into a delivery
    station: a station's own bounds are then put together from them (`_joined`) instead of searched.
    As the searches return them: float64 sums of whole minutes, cents and micrograms, inf where the
    node cannot be reached."""

    row: np.ndarray  # int64 per node: its row below, or -1
    time: np.ndarray  # [rows, nodes]
    cost: np.ndarray  # [rows, nodes]
    micrograms: np.ndarray  # [rows, nodes]
    lanes: FloorLanes  # the lanes priced for the floor, which the joins add to these

    @property
    def nbytes(self) -> int:
        arrays = (self.row, self.time, self.cost, self.micrograms, *self.lanes)
        return sum(array.nbytes for array in arrays)


@dataclass
class CompiledNetwork:
    codes: list[str]
    index: dict[str, int]
    lanes: list[Lane]
    out_start: np.ndarray
    in_start: np.ndarray
    in_lane: np.ndarray
    lane_origin: np.ndarray
    lane_dest: np.ndarray
    lane_transit: np.ndarray
    lane_fixed: np.ndarray
    lane_per_kg: np.ndarray
    lane_air: np.ndarray
    lane_max_kg: np.ndarray
    lane_distance: np.ndarray
    lane_factor: np.ndarray
    lane_schedule: np.ndarray
    lane_zone: np.ndarray
    lane_number: dict[str, int]
    schedule_start: np.ndarray
    schedule_offsets: np.ndarray
    schedule_cutoff: np.ndarray
    zones: list[str]
    handling: np.ndarray
    dead_end: np.ndarray  # delivery stations
    warehouse: np.ndarray  # fulfilment warehouses
    zone_tables: OrderedDict[tuple[int, int], np.ndarray] = field(default_factory=OrderedDict)
    bounds: OrderedDict[tuple[int, float], Bounds] = field(default_factory=OrderedDict)
    feeders: dict[float, FeederBounds] = field(default_factory=dict)  # per weight floor, see precompute
    caches_lock: threading.Lock = field(default_factory=threading.Lock)  # threads plan in parallel


def compiled(network: Network) -> CompiledNetwork:
    """The network's arrays, built on first use and dropped by the network when it changes."""
    if network.compiled is None:
        network.compiled = _compile(network)
    assert isinstance(network.compiled, CompiledNetwork)
    return network.compiled


def _compile(network: Network) -> CompiledNetwork:
    codes = sorted(network.nodes)
    index = {code: i for i, code in enumerate(codes)}
    lanes = [lane for code in codes for lane in network.lanes_from.get(code, ())]
    out_counts = np.array([len(network.lanes_from.get(code, ())) for code in codes], dtype=np.int64)
    lane_origin = np.array([index[lane.origin] for lane in lanes], dtype=np.int64)
    lane_dest = np.array([index[lane.destination] for lane in lanes], dtype=np.int64)
    by_dest = np.argsort(lane_dest, kind="stable")
    zones = sorted({node.time_zone for node in network.nodes.values()})
    zone_of = {zone: i for i, zone in enumerate(zones)}
    timetables: dict[tuple[int, ...], int] = {}
    schedule_offsets: list[int] = []
    schedule_start: list[int] = [0]
    schedule_cutoff: list[int] = []
    lane_schedule: list[int] = []
    for lane in lanes:
        if lane.schedule is None:
            lane_schedule.append(-1)
            continue
        weekly = weekly_offsets(lane.schedule.departures)
        key = (lane.schedule.cutoff_minutes, *weekly)
        if key not in timetables:
            timetables[key] = len(schedule_cutoff)
            schedule_offsets.extend(weekly)
            schedule_start.append(len(schedule_offsets))
            schedule_cutoff.append(lane.schedule.cutoff_minutes)
        lane_schedule.append(timetables[key])
    return CompiledNetwork(
        codes=codes,
        index=index,
        lanes=lanes,
        out_start=np.concatenate(([0], np.cumsum(out_counts))).astype(np.int64),
        in_start=np.searchsorted(lane_dest[by_dest], np.arange(len(codes) + 1)).astype(np.int64),
        in_lane=by_dest.astype(np.int64),
        lane_origin=lane_origin,
        lane_dest=lane_dest,
        lane_transit=np.array([lane.transit_minutes for lane in lanes], dtype=np.int64),
        lane_fixed=np.array([lane.fixed_cost_cents for lane in lanes], dtype=np.int64),
        lane_per_kg=np.array([lane.per_kg_cents for lane in lanes], dtype=np.float64),
        lane_air=np.array([lane.mode == "air" for lane in lanes], dtype=np.bool_),
        lane_max_kg=np.array([lane.max_parcel_kg for lane in lanes], dtype=np.float64),
        lane_distance=np.array([lane.distance_km for lane in lanes], dtype=np.float64),
        lane_factor=np.array([lane_factor_g_per_tkm(lane) for lane in lanes], dtype=np.float64),
        lane_schedule=np.array(lane_schedule, dtype=np.int64),
        lane_zone=np.array([zone_of[network.nodes[lane.origin].time_zone] for lane in lanes], dtype=np.int64),
        lane_number={lane.id: i for i, lane in enumerate(lanes)},
        schedule_start=np.array(schedule_start, dtype=np.int64),
        schedule_offsets=np.array(schedule_offsets, dtype=np.int64),
        schedule_cutoff=np.array(schedule_cutoff, dtype=np.int64),
        zones=zones,
        handling=np.array([network.nodes[code].handling_minutes for code in codes], dtype=np.int64),
        dead_end=np.array([code in network.delivery_stations for code in codes], dtype=np.bool_),
        warehouse=np.array(
            [network.nodes[code].kind == "fulfilment_warehouse" for code in codes], dtype=np.bool_
        ),
    )


def no_transit(net: CompiledNetwork, rules: RoutingRules) -> np.ndarray:
    """The nodes a route may end at but not pass through, under the rules (a few microseconds)."""
    closed = np.zeros(len(net.codes), dtype=np.bool_)
    if rules.stations_end_only:
        closed |= net.dead_end
    if rules.warehouses_start_only:  # a warehouse starts routes: entering one is passing through
        closed |= net.warehouse
    return closed


def lane_costs(net: CompiledNetwork, parcel: Parcel) -> tuple[np.ndarray, np.ndarray]:
    """Every lane's cost (cents) and emissions (g) for this parcel: `domain.lane_cost_cents` and
    `domain.lane_emissions_g` vectorised, with the same float operations in the same order."""
    volumetric = parcel.length_cm * parcel.width_cm * parcel.height_cm / VOLUMETRIC_DIVISOR_CM3_PER_KG
    chargeable = np.where(net.lane_air, max(parcel.weight_kg, volumetric), parcel.weight_kg)
    cost = net.lane_fixed + np.ceil(net.lane_per_kg * chargeable).astype(np.int64)
    grams = parcel.weight_kg / 1000 * net.lane_distance * net.lane_factor
    return cost, grams


def zone_table(net: CompiledNetwork, first_day: int, days: int) -> np.ndarray:
    """UTC offsets (minutes) per zone and day, days `first_day` .. `first_day + days - 1`."""
    key = (first_day, days)
    table = net.zone_tables.get(key)
    if table is None:
        table = offset_table(net.zones, first_day, days)
        with net.caches_lock:
            net.zone_tables[key] = table
            while len(net.zone_tables) > ZONE_TABLES_KEPT:
                net.zone_tables.popitem(last=False)
    return table


def offset_table(zones: list[str], first_day: int, days: int) -> np.ndarray:
    return np.array(
        [[utc_offset_minutes(zone, first_day + d) for d in range(days)] for zone in zones], dtype=np.int64
    ).reshape(len(zones), days)


def bounds(net: CompiledNetwork, destination: int, floor: float) -> Bounds:
    """Least transit time, cost and emissions from every node to `destination` for a parcel of at least
    `floor` kg (the same rule as `routing.lower_bounds`), cached per destination and floor. Put
    together from the feeders' bounds when they were computed ahead (`precompute`), else searched."""
    key = (destination, floor)
    with net.caches_lock:
        found = net.bounds.get(key)
        if found is not None:
            net.bounds.move_to_end(key)
            return found
    # outside the lock: two threads may both compute
    feeders = net.feeders.get(floor)
    found = _joined(net, destination, feeders) if feeders is not None else None
    if found is None:
        found = search_bounds(net, destination, floor)
    with net.caches_lock:
        net.bounds[key] = found
        while len(net.bounds) > BOUNDS_KEPT:
            net.bounds.popitem(last=False)
    return found


def _floor_lanes(net: CompiledNetwork, floor: float) -> FloorLanes:
    """The lanes' cost and whole micrograms (rounded down, as `routing.lane_micrograms`) for the
    lightest parcel of a weight floor, and which lanes take it."""
    cost, grams = lane_costs(net, Parcel(floor, 0.01, 0.01, 0.01))
    return cost, np.floor(grams * 1e6), net.lane_max_kg >= floor


def search_bounds(net: CompiledNetwork, destination: int, floor: float) -> Bounds:
    return _as_bounds(*_searched(net, destination, _floor_lanes(net, floor)))


def _searched(
    net: CompiledNetwork, destination: int, lanes: FloorLanes
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least minutes, cents and micrograms to `destination` by three backward searches (inf: none)."""
    cost, micrograms, usable = lanes
    args = (net.in_start, net.in_lane, net.lane_origin)
    # a parcel passing through a node waits there at least its handling time: part of the bound
    through = np.where(net.lane_dest == destination, 0, net.handling[net.lane_dest])
    minutes = (net.lane_transit + through).astype(np.float64)
    return (
        compiled_search.backward_bounds(*args, minutes, usable, destination),
        compiled_search.backward_bounds(*args, cost.astype(np.float64), usable, destination),
        compiled_search.backward_bounds(*args, micrograms, usable, destination),
    )


def _as_bounds(time: np.ndarray, cents: np.ndarray, micrograms: np.ndarray) -> Bounds:
    """Bounds from float64 sums of whole numbers (exact), inf where the destination is out of reach."""
    reachable = np.isfinite(time)
    return Bounds(
        time=np.where(reachable, np.nan_to_num(time), compiled_search.NO_ROUTE).astype(np.int64),
        cost=np.where(reachable, np.nan_to_num(cents), compiled_search.NO_ROUTE).astype(np.int64),
        grams=np.where(reachable, micrograms / 1e6, math.inf),
    )


def precompute(net: CompiledNetwork, floor: float, threads: int = 1) -> FeederBounds:
    """Compute (once per network and weight floor) the bounds towards every node that has a lane into
    a delivery station, on `threads` threads (the compiled Dijkstra releases the GIL). Afterwards a
    station's bounds cost a few vector minimums instead of three searches of the whole network. They
    live on the network's arrays, which the network drops when it changes."""
    found = net.feeders.get(floor)
    if found is not None:
        return found
    lanes = _floor_lanes(net, floor)
    _cost, _micrograms, usable = lanes
    feeding = np.unique(net.lane_origin[net.dead_end[net.lane_dest] & usable])
    row = np.full(len(net.codes), -1, dtype=np.int64)
    row[feeding] = np.arange(len(feeding))
    shape = (len(feeding), len(net.codes))
    found = FeederBounds(row, np.empty(shape), np.empty(shape), np.empty(shape), lanes)

    def search_into_rows(index: int) -> None:  # rows written in place: no second copy of them all
        node = int(feeding[index])
        found.time[index], found.cost[index], found.micrograms[index] = _searched(net, node, lanes)

    with ThreadPoolExecutor(max(1, threads)) as pool:
        list(pool.map(search_into_rows, range(len(feeding))))  # list(): a search's error is raised here
    with net.caches_lock:
        net.feeders[floor] = found
    return found


def _joined(net: CompiledNetwork, destination: int, feeders: FeederBounds) -> Bounds | None:
    """A destination's bounds from those of the nodes with a lane into it: every route ends with one of
    those lanes, so the least to go from a node is the least over them of (least to the lane's origin,
    plus the handling there unless the route starts there, plus the lane). The sums are of whole
    minutes, cents and micrograms, so they equal what the backward search finds exactly. None when a
    lane into the destination comes from a node without precomputed bounds."""
    cost, micrograms, usable = feeders.lanes
    lanes = net.in_lane[net.in_start[destination] : net.in_start[destination + 1]]
    lanes = lanes[usable[lanes] & (net.lane_origin[lanes] != destination)]
    origins = net.lane_origin[lanes]
    rows = feeders.row[origins]
    if np.any(rows < 0):
        return None
    time, cents, least_ug = compiled_search.joined_bounds(
        rows, origins, net.handling, net.lane_transit[lanes], cost[lanes], micrograms[lanes],
        feeders.time, feeders.cost, feeders.micrograms, destination,
    )  # fmt: skip
    return _as_bounds(time, cents, least_ug)


def hops(
    net: CompiledNetwork, least: Bounds, target: int, floor: float, rules: RoutingRules, closed: np.ndarray
) -> np.ndarray:
    """The fewest legs from every node to `target` for parcels of the weight floor under the rules
    (`compiled_search.hop_bounds`), kept with the destination's bounds: dropped with them."""
    key = (rules.stations_end_only, rules.warehouses_start_only)
    found = least.hops.get(key)
    if found is None:  # two threads may both compute: the same array
        usable = net.lane_max_kg >= floor
        found = compiled_search.hop_bounds(net.in_start, net.in_lane, net.lane_origin, usable, closed, target)
        least.hops[key] = found
    return found


def full_keys(net: CompiledNetwork, full: frozenset[tuple[str, int]]) -> np.ndarray:
    """Departures with no room left as sorted (lane number << 32 | minute) keys."""
    keys = [
        (net.lane_number[lane_id] << 32) | minute for lane_id, minute in full if lane_id in net.lane_number
    ]
    return np.array(sorted(keys), dtype=np.int64)


def search_paths(
    network: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    window: tuple[int, int | None],
    floor: float,
    full: frozenset[tuple[str, int]],
    tol: tuple[int, int, float],
    max_labels: int,
    epsilon: Epsilon = (0.0, 0.0, 0.0),
    rules: RoutingRules | None = None,
) -> list[list[tuple[Lane, int]]]:
    """Run the compiled search; each destination label's path as (lane, departure minute) pairs."""
    rules = network.rules if rules is None else rules
    ready, deadline = window
    net = compiled(network)
    target, start = net.index[destination], net.index[origin]
    least = bounds(net, target, floor)
    if least.time[start] >= compiled_search.NO_ROUTE:
        return []
    horizon = deadline if deadline is not None else ready + HORIZON_DAYS * 1440
    first_day = ready // 1440 - 1
    cost, grams = lane_costs(net, parcel)
    usable, closed = net.lane_max_kg >= parcel.weight_kg, no_transit(net, rules)
    fewest = hops(net, least, target, floor, rules, closed) if rules.max_legs else np.zeros(0, dtype=np.int64)
    arguments: list[Any] = [
        *(net.out_start, net.lane_dest, net.lane_transit, cost, grams, usable),
        *(net.lane_schedule, net.lane_zone, net.schedule_start, net.schedule_offsets, net.schedule_cutoff),
        *(
            zone_table(net, first_day, horizon // 1440 - first_day + 10),
            first_day,
            net.handling,
            closed,
        ),
        *(least.time, least.cost, least.grams, full_keys(net, full), start, target, ready, horizon),
        np.array(tol, dtype=np.float64),
        1.0 + np.array(epsilon, dtype=np.float64),
        *(rules.max_legs, fewest, rules.no_node_twice, max_labels),
    ]
    capacity = INITIAL_LABELS
    search: Callable[..., tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = compiled_search.search
    while True:
        count, parent, lane, departs, finished = search(*arguments, capacity)
        if count >= 0:
            break
        capacity *= 4  # ran out of label rows: rare, so retrying beats growing arrays inside the loop
    return [_path(net, parent, lane, departs, int(end)) for end in finished]


def _path(
    net: CompiledNetwork, parent: np.ndarray, lane: np.ndarray, departs: np.ndarray, label: int
) -> list[tuple[Lane, int]]:
    path = []
    while lane[label] >= 0:
        path.append((net.lanes[int(lane[label])], int(departs[label])))
        label = int(parent[label])
    return path[::-1]
