"""`entrepot bench routes`: route-planning latency and throughput on a synthetic network.

A seeded synthetic network is built (`logistics.synthetic.synthetic_network`); random connected (origin,
destination) pairs are drawn (fulfilment warehouses to delivery stations when the network has both);
every pair is planned once with `pareto_routes` (the network's (1+epsilon) cover and routing rules: 2 %,
on by default) from a fixed ready time with a 20-day deadline, and timed. The first COVER_CHECKED pairs'
answers are then checked against the exact search (epsilon 0) under the same rules in the same run:
every exact route covered within (1+epsilon), none returned beaten by another (`cover_violations`).
Before that, the lower bounds towards every node with a lane into a delivery
station are computed ahead (`routing.precompute`; its time and memory are printed), so that each query
puts its destination's bounds together instead of searching the whole network for them (the cache of
bounds is emptied before each query, so every query does); for comparison, searching them is timed on
the same destinations in the same run. The same pairs are then answered by a
plain NetworkX shortest path in the same run, the baseline the issue names: single-criterion (lane
transit minutes) and time-independent (no schedules, cut-offs, waiting or handling), so a much smaller
problem than ours. Last, throughput: shipments between distinct (origin, destination) pairs, a fresh
draw none of which repeats (no route is ever answered twice, so nothing could come from a cache of routes),
are planned back to back on one thread per core for a bounded time. Their destinations' lower bounds are
put together as a serving planner does, on a destination's first query, and kept for its next ones.

Nothing is asserted: queries without a route are counted and printed, never dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import networkx as nx
from rich.console import Console
from rich.table import Table

from entrepot.logistics.compiled import compiled, search_bounds
from entrepot.logistics.domain import Network, Parcel, to_minutes
from entrepot.logistics.routing import (
    EXACT_FRONT,
    WEIGHT_FLOORS_KG,
    PlanningError,
    choose,
    cover_terms,
    cover_violations,
    pareto_routes,
    precompute,
    prepare,
)
from entrepot.logistics.synthetic import synthetic_network

READY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday morning, fixed so that runs compare
DEADLINE_DAYS = 20  # the economy promise: the loosest deadline the planner is asked for
PARCEL_CM = (30.0, 20.0, 10.0)
PROGRESS_SECONDS = 30.0  # a progress line at most this often while planning (a slow run is not silent)
THREADS = os.cpu_count() or 1  # throughput: one planning thread per core
ORIGIN_KIND, DESTINATION_KIND = "fulfilment_warehouse", "delivery_station"
COVER_CHECKED = 24  # pairs whose answer is checked against the exact search (at least 20, issue 17)


@dataclass
class Timings:
    """Our planner on each query: total milliseconds, of which lower bounds; Pareto set sizes."""

    total_ms: list[float] = field(default_factory=list)
    bounds_ms: list[float] = field(default_factory=list)
    pareto_sizes: list[int] = field(default_factory=list)
    no_route: Counter[str] = field(default_factory=Counter)


def run(
    console: Console,
    nodes: int,
    lanes: int,
    queries: int,
    seed: int,
    weight_kg: float,
    shipments: int = 100_000,
    throughput_seconds: float = 60.0,
) -> None:
    started = time.perf_counter()
    network = synthetic_network(nodes, lanes, seed)
    build_s = time.perf_counter() - started
    console.print(
        f"synthetic network: {len(network.nodes):,} nodes, {network.lane_count:,} lanes (seed {seed}),"
        f" built in {build_s:.1f} s"
    )

    started = time.perf_counter()
    graph = _networkx_graph(network)
    graph_s = time.perf_counter() - started

    pairs, kinds = _pairs(network, graph, queries, random.Random(seed))
    if len(pairs) < queries:
        console.print(f"[yellow]only {len(pairs)} connected pairs found for {queries} queries[/yellow]")
    console.print(f"{len(pairs)} queries: {kinds}, {weight_kg:g} kg, ready {READY:%Y-%m-%d %H:%M} UTC")

    parcel = Parcel(weight_kg, *PARCEL_CM)
    ready = to_minutes(READY)
    deadline = ready + DEADLINE_DAYS * 1440
    warm_s = _warm_up(network, pairs, parcel, ready, deadline)
    console.print(f"warm-up (load the compiled planner, build the network's arrays): {warm_s:.1f} s")
    started = time.perf_counter()
    feeders = precompute(network, weight_kg, THREADS)
    precompute_s = time.perf_counter() - started
    precompute_mb = feeders.nbytes / 1e6
    console.print(
        f"precomputed lower bounds towards the {feeders.time.shape[0]:,} nodes with lanes into delivery"
        f" stations: {precompute_s:.1f} s on {THREADS} threads, {precompute_mb:,.0f} MB"
    )
    if pairs:  # load the code that puts bounds together, so that the first query does not pay for it
        prepare(network, pairs[0][1], weight_kg)
    searched_ms = _bounds_by_search(network, pairs, weight_kg)
    ours = _plan_all(console, network, pairs, parcel, ready, deadline)
    checked, violations, exact_ms = _check_cover(network, pairs[:COVER_CHECKED], parcel, ready, deadline)
    nx_ms, nx_hops = _networkx_all(graph, pairs)
    stream = _distinct_pairs(network, shipments, random.Random(seed + 1))
    compiled(network).bounds.clear()
    planned, failed, elapsed = _throughput(network, stream, parcel, ready, deadline, throughput_seconds)

    p50, p99 = _percentile(ours.total_ms, 50), _percentile(ours.total_ms, 99)
    mean_ms = statistics.fmean(ours.total_ms) if ours.total_ms else 0.0
    nx_mean = statistics.fmean(nx_ms) if nx_ms else 0.0
    ratio = nx_mean / mean_ms if mean_ms else 0.0
    pareto_avg = statistics.fmean(ours.pareto_sizes) if ours.pareto_sizes else 0.0
    # a shipment without a route is no shipment planned: only those with one count
    per_min = (planned - failed) / elapsed * 60 if elapsed else 0.0

    table = Table(title="Route planning", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("network build", f"{build_s:.2f} s")
    table.add_row("queries planned", f"{len(ours.total_ms)}")
    no_route = sum(ours.no_route.values())
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(ours.no_route.items()))
    table.add_row("without a route", f"{no_route}" + (f" ({reasons})" if reasons else ""))
    table.add_row("ours p50/p99/mean/max", _ms(ours.total_ms))
    bounds_mean = statistics.fmean(ours.bounds_ms) if ours.bounds_ms else 0.0
    searched_mean = statistics.fmean(searched_ms) if searched_ms else 0.0
    table.add_row("  of it, lower bounds put together", f"mean {bounds_mean:.2f} ms")
    table.add_row("  lower bounds searched instead", f"mean {searched_mean:.2f} ms (not part of the query)")
    table.add_row("routes returned (mean)", f"{pareto_avg:.1f}")
    exact_mean = statistics.fmean(exact_ms) if exact_ms else 0.0
    table.add_row(
        "cover checked against the exact search",
        f"{checked} pairs, {violations} violations (exact search: mean {exact_mean:.1f} ms)",
    )
    table.add_row("NetworkX graph build", f"{graph_s:.2f} s")
    table.add_row("NetworkX p50/p99/mean/max", _ms(nx_ms))
    table.add_row("NetworkX hops (mean)", f"{statistics.fmean(nx_hops) if nx_hops else 0:.1f}")
    table.add_row("networkx_ratio", f"{ratio:.3g}")
    table.add_row(
        "throughput",
        f"{planned:,} shipments ({failed} without a route) in {elapsed:.1f} s = {per_min:,.1f}/min",
    )
    table.add_row("100,000 shipments take", f"{100_000 / per_min:,.1f} min" if per_min else "-")
    console.print(table)
    console.print(
        "lower bounds: put together inside each query from the precomputed ones (the cache emptied"
        " before each), or searched as without precomputing, for the same destinations."
        " networkx_ratio: NetworkX mean / ours (above 1: ours faster). throughput: plan and choose"
        f" economy-cheapest on {THREADS} threads, {len(stream):,} distinct pairs drawn apart from the"
        " queries' (each planned at most once; a destination's bounds put together on its first query)."
    )
    console.print(
        "targets: p50 <= 5 ms, p99 <= 25 ms, cover_violations = 0, 20,000 shipments a minute."
        f" p99 of {len(ours.total_ms)} queries is the nearest rank."
        " Ours: time-dependent (1+epsilon) Pareto cover over arrival, cost and emissions, routing rules on."
        " NetworkX: bidirectional Dijkstra on lane transit minutes only, time-independent"
        " (no schedules, cut-offs, waiting or handling), parallel lanes reduced to the fastest."
    )
    print(
        f"routes queries={len(ours.total_ms)} p50_ms={p50:.1f} p99_ms={p99:.1f} pareto_avg={pareto_avg:.1f}"
        f" networkx_ratio={ratio:.3g} shipments_per_min={per_min:.1f}"
        f" nodes={len(network.nodes)} lanes={network.lane_count}"
        f" precompute_s={precompute_s:.1f} precompute_mb={precompute_mb:.1f}"
        f" bounds_ms={bounds_mean:.3f} bounds_searched_ms={searched_mean:.3f}"
        f" epsilon={max(cover_terms(network)[0]):g} cover_checked={checked} cover_violations={violations}",
        flush=True,
    )


def _networkx_graph(network: Network) -> nx.DiGraph:
    """One edge per (origin, destination), weighted by the fastest lane's transit minutes."""
    graph = nx.DiGraph()
    graph.add_nodes_from(network.nodes)
    for origin, lanes in network.lanes_from.items():
        for lane in lanes:
            edge = graph.get_edge_data(origin, lane.destination)
            if edge is None or lane.transit_minutes < edge["minutes"]:
                graph.add_edge(origin, lane.destination, minutes=lane.transit_minutes)
    return graph


def _pairs(
    network: Network, graph: nx.DiGraph, wanted: int, rng: random.Random
) -> tuple[list[tuple[str, str]], str]:
    """Random connected (origin, destination) pairs: warehouses to delivery stations when the network
    has both kinds, otherwise any two different nodes."""
    origins = sorted(code for code, node in network.nodes.items() if node.kind == ORIGIN_KIND)
    destinations = sorted(code for code, node in network.nodes.items() if node.kind == DESTINATION_KIND)
    kinds = f"{ORIGIN_KIND} to {DESTINATION_KIND}"
    if not origins or not destinations:
        origins = destinations = sorted(network.nodes)
        kinds = "any node to any other"
    pairs: list[tuple[str, str]] = []
    for _ in range(100 * wanted):
        if len(pairs) == wanted:
            break
        a, b = rng.choice(origins), rng.choice(destinations)
        if a != b and nx.has_path(graph, a, b):
            pairs.append((a, b))
    return pairs, kinds


def _warm_up(
    network: Network, pairs: Sequence[tuple[str, str]], parcel: Parcel, ready: int, deadline: int
) -> float:
    """One query before timing, so that loading the compiled code is not counted as a query; the
    bounds it cached are dropped again, so every timed query still computes its own."""
    started = time.perf_counter()
    if pairs:
        with contextlib.suppress(PlanningError):
            pareto_routes(network, *pairs[0], parcel, ready, deadline)
    compiled(network).bounds.clear()
    return time.perf_counter() - started


def _bounds_by_search(network: Network, pairs: Sequence[tuple[str, str]], weight_kg: float) -> list[float]:
    """Milliseconds to search the lower bounds of the queries' destinations, as each query would without
    precomputing: the baseline for the `lower bounds` row."""
    net = compiled(network)
    floor = max(f for f in WEIGHT_FLOORS_KG if f <= weight_kg)
    times = []
    for _origin, destination in pairs:
        started = time.perf_counter()
        search_bounds(net, net.index[destination], floor)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _plan_all(
    console: Console,
    network: Network,
    pairs: Sequence[tuple[str, str]],
    parcel: Parcel,
    ready: int,
    deadline: int,
) -> Timings:
    timings = Timings()
    began = last_report = time.perf_counter()
    for index, (origin, destination) in enumerate(pairs, start=1):
        compiled(network).bounds.clear()  # a destination drawn twice still has its bounds put together
        started = time.perf_counter()
        prepare(network, destination, parcel.weight_kg)  # what pareto_routes would compute first
        bounded = time.perf_counter()
        try:
            routes = pareto_routes(network, origin, destination, parcel, ready, deadline)
        except PlanningError as error:
            timings.no_route[error.reason] += 1
        else:
            timings.pareto_sizes.append(len(routes))
        finished = time.perf_counter()
        timings.total_ms.append((finished - started) * 1000)
        timings.bounds_ms.append((bounded - started) * 1000)
        if finished - last_report >= PROGRESS_SECONDS:
            last_report = finished
            console.print(f"  planned {index}/{len(pairs)} queries in {finished - began:.0f} s")
    return timings


def _check_cover(
    network: Network, pairs: Sequence[tuple[str, str]], parcel: Parcel, ready: int, deadline: int
) -> tuple[int, int, list[float]]:
    """Each pair's answer against the exact search (epsilon 0) under the same rules: (pairs checked,
    violations summed, exact search milliseconds). Pairs without a route count as checked when the
    exact search finds none either (and as a violation when it does)."""
    epsilon = cover_terms(network)[0]
    violations, exact_ms = 0, []
    for origin, destination in pairs:
        try:
            returned = pareto_routes(network, origin, destination, parcel, ready, deadline)
        except PlanningError:
            returned = []
        started = time.perf_counter()
        try:
            exact = pareto_routes(network, origin, destination, parcel, ready, deadline, epsilon=EXACT_FRONT)
        except PlanningError:
            exact = []
        exact_ms.append((time.perf_counter() - started) * 1000)
        violations += cover_violations(returned, exact, epsilon)
    return len(pairs), violations, exact_ms


def _networkx_all(graph: nx.DiGraph, pairs: Sequence[tuple[str, str]]) -> tuple[list[float], list[int]]:
    times, hops = [], []
    for origin, destination in pairs:
        started = time.perf_counter()
        path = nx.shortest_path(graph, origin, destination, weight="minutes")
        times.append((time.perf_counter() - started) * 1000)
        hops.append(len(path) - 1)
    return times, hops


def _distinct_pairs(network: Network, wanted: int, rng: random.Random) -> list[tuple[str, str]]:
    """Up to `wanted` different (origin, destination) pairs in random order, of the same kinds as the
    queries' (unconnected ones are not filtered out: they count as shipments without a route)."""
    origins = sorted(code for code, node in network.nodes.items() if node.kind == ORIGIN_KIND)
    destinations = sorted(code for code, node in network.nodes.items() if node.kind == DESTINATION_KIND)
    if not origins or not destinations:
        origins = destinations = sorted(network.nodes)
    combinations = len(origins) * len(destinations)
    drawn = rng.sample(range(combinations), min(wanted, combinations))
    pairs = [(origins[i // len(destinations)], destinations[i % len(destinations)]) for i in drawn]
    return [(a, b) for a, b in pairs if a != b]


def _throughput(
    network: Network,
    pairs: Sequence[tuple[str, str]],
    parcel: Parcel,
    ready: int,
    deadline: int,
    seconds: float,
) -> tuple[int, int, float]:
    """Plan the pairs back to back, each once, on one thread per core (the compiled search releases the
    GIL), until all are planned or `seconds` have passed (at least one is always planned): (planned,
    without a route, elapsed s)."""
    tickets = itertools.count()  # next() on a count is atomic under the GIL: each pair once
    outcomes: list[bool] = []  # list.append is atomic too
    started = time.perf_counter()

    def worker() -> None:
        while (ticket := next(tickets)) < len(pairs):
            if ticket > 0 and time.perf_counter() - started >= seconds:
                return
            origin, destination = pairs[ticket]
            try:
                routes = pareto_routes(network, origin, destination, parcel, ready, deadline)
                choose(routes, "economy", "cheapest")
                outcomes.append(True)
            except PlanningError:
                outcomes.append(False)

    if pairs:
        with ThreadPoolExecutor(THREADS) as pool:
            for future in [pool.submit(worker) for _ in range(THREADS)]:
                future.result()
    return len(outcomes), outcomes.count(False), time.perf_counter() - started


def _percentile(values: Sequence[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least `pct` % of the values at or below it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _ms(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return (
        f"{_percentile(values, 50):.1f} / {_percentile(values, 99):.1f} /"
        f" {statistics.fmean(values):.1f} / {max(values):.1f} ms"
    )
