"""Route planning: a (1+epsilon) cover of the Pareto-optimal routes over delivery time, cost and emissions.

What the planner answers (issue 17): under the network's routing rules (a fulfilment warehouse only
starts a route and a delivery station only ends one, no node twice, at most 8 legs: `domain.RoutingRules`),
a set of routes such that every Pareto-optimal route x has one r in the set with time(r) <= (1+e_t)
time(x), cost(r) <= (1+e_c) cost(x) and emissions(r) <= (1+e_e) emissions(x), time counted from the
ready time; every returned route is feasible and none beats another. Epsilon 0 is the exact Pareto set.

A multi-criteria label-setting search (the shape of Martins' algorithm, time-dependent): labels are
(arrival, cost, emissions) at a node, expanded in order of arrival; a label survives only while no other
label at the same node is at least as good on all three (and, under a leg limit, has no more legs).
Departures follow the lanes' schedules and cut-offs, so waiting for the next flight or sailing is part
of the time. Labels at the destination also prune the search everywhere else: a label whose least
possible finish is within (1+epsilon) of a finished route on every count is given up, and so is one that
cannot make the promised deadline. The slack is taken only against finished routes, never between labels
at other nodes: there a label a little later may miss the departure the other makes (schedules do not
scale), and slack taken at every node would compound. That is why the answer is a cover: a pruned label's
routes are all within (1+epsilon) of a route found.

The rules need no slack either: dominance between labels stays exact with them, as departures are
first-in first-out (waiting is allowed), so a route that comes back to a node is beaten by the label that
was there first, and a label beaten at a node by one whose path passes a later node of its own has a
shortcut through that node at least as good.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from entrepot.logistics import compiled
from entrepot.logistics.domain import (
    Epsilon,
    Lane,
    Network,
    Node,
    Parcel,
    RoutingRules,
    lane_cost_cents,
    lane_emissions_g,
)

SERVICE_LEVEL_DAYS = {"express": 5, "standard": 10, "economy": 20}
OBJECTIVES = ("cheapest", "greenest")
MAX_LABELS_PER_NODE = 96  # a safety valve: with the practical tolerance real networks stay well below it


@dataclass(frozen=True)
class Leg:
    lane: Lane
    departs: int
    arrives: int
    cost_cents: int
    emissions_g: float


@dataclass(frozen=True)
class Route:
    ready: int
    legs: tuple[Leg, ...]

    @property
    def arrives(self) -> int:
        return self.legs[-1].arrives if self.legs else self.ready

    @property
    def cost_cents(self) -> int:
        return sum(leg.cost_cents for leg in self.legs)

    @property
    def emissions_g(self) -> float:
        return sum(leg.emissions_g for leg in self.legs)

    @property
    def minutes(self) -> int:
        return self.arrives - self.ready

    def dominates(self, other: Route) -> bool:
        return _dominates(
            (self.arrives, self.cost_cents, self.emissions_g),
            (other.arrives, other.cost_cents, other.emissions_g),
        )


class PlanningError(Exception):
    """No route: `reason` is one of unknown_node, no_lane, overweight, no_departure_in_time."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(eq=False)
class _Label:
    node: str
    arrives: int
    cost: int
    emissions: float
    parent: _Label | None = None
    leg: Leg | None = None
    dead: bool = field(default=False)
    legs: int = 0

    def visits(self, node: str) -> bool:
        label: _Label | None = self
        while label is not None:
            if label.node == node:
                return True
            label = label.parent
        return False

    @property
    def key(self) -> tuple[int, int, float]:
        return (self.arrives, self.cost, self.emissions)


Tolerance = tuple[int, int, float]  # minutes, cents, grams
EXACT: Tolerance = (0, 0, 0.0)
EXACT_FRONT: Epsilon = (0.0, 0.0, 0.0)
# Routes within six hours, 50 cents and 100 g CO2e of each other are the same choice to a shipper:
# treating them as one keeps the Pareto set short and the search several times faster on the demo network.
PRACTICAL: Tolerance = (360, 50, 100.0)


def _dominates(a: tuple[int, int, float], b: tuple[int, int, float], tol: Tolerance = EXACT) -> bool:
    """a is at least as good as b on every criterion, give or take `tol` (the first found is kept)."""
    return a[0] <= b[0] + tol[0] and a[1] <= b[1] + tol[1] and a[2] <= b[2] + tol[2] + 1e-9


FullDepartures = frozenset[tuple[str, int]]  # (lane id, departure minute) with no room left


def pareto_routes(
    network: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    ready: int,
    deadline: int | None = None,
    full: FullDepartures = frozenset(),
    tolerance: Tolerance = EXACT,
    epsilon: Epsilon | float | None = None,
    rules: RoutingRules | None = None,
) -> list[Route]:
    """A (1+epsilon) cover of the non-dominated routes from `origin` (parcel ready at `ready`) to
    `destination` arriving by `deadline`, under `rules`, fastest first; departures in `full` are skipped
    for the next one. Epsilon and rules default to the network's (`cover_terms`); epsilon 0 gives the
    exact Pareto set. `tolerance` (additive) is the older way to shorten the set, kept for callers that
    ask for it. Raises PlanningError, with the reason, when there is no route."""
    for code in (origin, destination):
        if code not in network.nodes:
            raise PlanningError("unknown_node", f"no node {code!r} in the network")
    eps, rules = cover_terms(network, epsilon, rules)
    found = _search(network, origin, destination, parcel, ready, deadline, full, tolerance, eps, rules)
    if not found:
        raise _explain(network, origin, destination, parcel, ready, deadline, rules)
    return sorted(found, key=lambda r: (r.arrives, r.cost_cents, r.emissions_g))


def cover_terms(
    network: Network, epsilon: Epsilon | float | None = None, rules: RoutingRules | None = None
) -> tuple[Epsilon, RoutingRules]:
    """The epsilon (per criterion) and rules a query uses: the ones given, else the network's. One
    number is the same epsilon on every criterion. ValueError when an epsilon is negative or not finite."""
    if epsilon is None:
        eps = network.epsilon
    elif isinstance(epsilon, int | float):
        eps = (float(epsilon),) * 3
    else:
        eps = (float(epsilon[0]), float(epsilon[1]), float(epsilon[2]))
    if not all(math.isfinite(e) and e >= 0 for e in eps):
        raise ValueError(f"epsilon must be finite and at least 0, got {eps}")
    chosen = network.rules if rules is None else rules
    if chosen.max_legs < 0:
        raise ValueError(f"max_legs must be at least 0 (0: no limit), got {chosen.max_legs}")
    return eps, chosen


def cover_violations(returned: list[Route], exact: list[Route], epsilon: Epsilon) -> int:
    """How far an answer is from a (1+epsilon) cover of `exact` (the exact Pareto set under the same
    rules): exact routes no returned one is within (1+epsilon) of, plus returned routes beaten by
    another returned one. 0 for a cover. For benchmarks; the tests check this independently."""

    def counts(route: Route) -> tuple[int, int, float]:
        return (route.minutes, route.cost_cents, route.emissions_g)

    def within(r: Route, x: Route) -> bool:
        return all(
            a <= (1 + e) * b * (1 + 1e-12) + 1e-9
            for a, b, e in zip(counts(r), counts(x), epsilon, strict=True)
        )

    uncovered = sum(1 for x in exact if not any(within(r, x) for r in returned))
    beaten = sum(
        1
        for a in returned
        for b in returned
        if a is not b
        and counts(a) != counts(b)
        and all(p <= q for p, q in zip(counts(a), counts(b), strict=True))
    )
    return uncovered + beaten


def departure_with_room(lane: Lane, ready: int, time_zone: str, full: FullDepartures) -> int:
    """The first departure at or after `ready` that still has room (lanes without a timetable never fill)."""
    departs = lane.departure(ready, time_zone)
    if lane.schedule is None:
        return departs
    while (lane.id, departs) in full:
        departs = lane.departure(departs + 1, time_zone)
    return departs


def _search(
    network: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    ready: int,
    deadline: int | None,
    full: FullDepartures = frozenset(),
    tol: Tolerance = EXACT,
    epsilon: Epsilon = EXACT_FRONT,
    rules: RoutingRules | None = None,
) -> list[Route]:
    """The compiled search (`logistics.compiled_search`): the reference's rules over flat arrays."""
    floor = max(f for f in WEIGHT_FLOORS_KG if f <= parcel.weight_kg)
    paths = compiled.search_paths(
        network, origin, destination, parcel, (ready, deadline), floor, full, tol, MAX_LABELS_PER_NODE,
        epsilon, network.rules if rules is None else rules,
    )  # fmt: skip
    return [Route(ready, tuple(_leg(lane, departs, parcel) for lane, departs in path)) for path in paths]


def warm_up() -> None:
    """Load (or, the first time on a machine, compile) the planner's machine code by planning on a
    two-node network: servers call it at start, so that no request waits for the compiler."""
    network = Network()
    for code in ("A", "B"):
        network.add_node(Node(code, "sortation_hub", "CN", 30.0, 120.0, "UTC"))
    network.add_lane(Lane("A-B", "A", "B", "road", "truck", "warm-up", 10.0, 60, 100, 10, 30.0, 100.0))
    pareto_routes(network, "A", "B", Parcel(1.0, 10.0, 10.0, 10.0), 0)


def prepare(network: Network, destination: str, weight_kg: float) -> None:
    """Compute (or find cached) what a search towards `destination` needs first: the network's arrays
    and the lower bounds for this weight class. Planning calls it anyway; benchmarks time it apart."""
    floor = max(f for f in WEIGHT_FLOORS_KG if f <= weight_kg)
    net = compiled.compiled(network)
    compiled.bounds(net, net.index[destination], floor)


def precompute(network: Network, weight_kg: float, threads: int = 1) -> compiled.FeederBounds:
    """Compute ahead the lower bounds towards every node with a lane into a delivery station, for
    parcels of this weight class: afterwards a query to a station puts its bounds together in a fraction
    of a millisecond instead of searching the whole network (the answers are the same). Worth it for
    large networks that answer many destinations; the result's `nbytes` is the memory it holds.
    Dropped with the network's arrays when the network changes."""
    floor = max(f for f in WEIGHT_FLOORS_KG if f <= weight_kg)
    return compiled.precompute(compiled.compiled(network), floor, threads)


def _leg(lane: Lane, departs: int, parcel: Parcel) -> Leg:
    return Leg(
        lane,
        departs,
        departs + lane.transit_minutes,
        lane_cost_cents(lane, parcel),
        lane_emissions_g(lane, parcel),
    )


def reference_search(
    network: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    ready: int,
    deadline: int | None,
    full: FullDepartures = frozenset(),
    tol: Tolerance = EXACT,
    epsilon: Epsilon = EXACT_FRONT,
    rules: RoutingRules | None = None,
) -> list[Route]:
    """The search in plain Python, object by object: slow, and kept as the specification the compiled
    search is tested against."""
    rules = network.rules if rules is None else rules
    bounds = lower_bounds(network, destination, parcel.weight_kg)
    if origin not in bounds:
        return []
    closed = _no_transit(network, rules) - {destination}
    hops = _hops(network, destination, parcel, closed) if rules.max_legs else {}
    bags: dict[str, list[_Label]] = {origin: [_Label(origin, ready, 0, 0.0)]}
    order = itertools.count()
    queue: list[tuple[int, int, _Label]] = [(ready + bounds[origin][0], next(order), bags[origin][0])]
    cover = _Cover(ready, epsilon, tol)
    horizon = deadline if deadline is not None else ready + compiled.HORIZON_DAYS * 1440
    for criterion in range(3):
        seed = _seed(
            network,
            origin,
            destination,
            parcel,
            (ready, horizon),
            full,
            bounds,
            (closed, hops),
            rules,
            criterion,
        )
        if seed is not None:
            _finish(bags, seed, destination, cover)
    while queue:
        _, _, label = heapq.heappop(queue)
        if (
            label.dead
            or label.node == destination
            or cover.any_covers(bags.get(destination, ()), _plus(label.key, bounds[label.node]))
        ):
            continue
        node = network.nodes[label.node]
        leave_ready = label.arrives + (node.handling_minutes if label.parent is not None else 0)
        for lane in network.lanes_from.get(label.node, ()):
            bound = bounds.get(lane.destination)
            if bound is None or parcel.weight_kg > lane.max_parcel_kg or lane.destination in closed:
                continue
            if rules.max_legs and label.legs + 1 + hops.get(lane.destination, NO_HOPS) > rules.max_legs:
                continue  # the destination is more legs away than the limit leaves
            departs = (
                departure_with_room(lane, leave_ready, node.time_zone, full)
                if full
                else lane.departure(leave_ready, node.time_zone)
            )
            arrives = departs + lane.transit_minutes
            if deadline is not None and arrives + bound[0] > deadline:
                continue
            leg = Leg(lane, departs, arrives, lane_cost_cents(lane, parcel), lane_emissions_g(lane, parcel))
            nxt = _Label(
                lane.destination,
                arrives,
                label.cost + leg.cost_cents,
                label.emissions + leg.emissions_g,
                label,
                leg,
                legs=label.legs + 1,
            )
            if rules.no_node_twice and label.visits(lane.destination):
                continue
            if _insert(bags, nxt, destination, bound, tol, cover, counting_legs=rules.max_legs > 0):
                heapq.heappush(queue, (arrives + bound[0], next(order), nxt))
    return [_route(label, ready) for label in bags.get(destination, [])]


def _seed(
    network: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    window: tuple[int, int],
    full: FullDepartures,
    bounds: dict[str, Bound],
    limits: tuple[set[str], dict[str, int]],
    rules: RoutingRules,
    criterion: int,
) -> _Label | None:
    """The route that follows one criterion's bound along its shortest path (first lane on ties), run
    on the timetables: a finished route before the search starts, so that the cover prunes labels no
    better than it from the first one on. None when it breaks a rule, finds no departure or is late."""
    (ready, horizon), (closed, hops) = window, limits
    label = _Label(origin, ready, 0, 0.0)
    while label.node != destination:
        chosen: Lane | None = None
        least = math.inf
        for lane in network.lanes_from.get(label.node, ()):
            to = lane.destination
            bound = bounds.get(to)
            if bound is None or parcel.weight_kg > lane.max_parcel_kg or to in closed:
                continue
            if rules.max_legs and label.legs + 1 + hops.get(to, NO_HOPS) > rules.max_legs:
                continue
            if rules.no_node_twice and label.visits(to):
                continue
            weight = (
                float(lane.transit_minutes + _passing(network, lane, destination) + bound[0]),
                float(lane_cost_cents(lane, parcel) + bound[1]),
                lane_emissions_g(lane, parcel) + bound[2],
            )[criterion]
            if weight < least:
                chosen, least = lane, weight
        if chosen is None:
            return None
        node = network.nodes[label.node]
        leave = label.arrives + (node.handling_minutes if label.parent is not None else 0)
        departs = departure_with_room(chosen, leave, node.time_zone, full)
        if departs + chosen.transit_minutes > horizon:
            return None
        leg = _leg(chosen, departs, parcel)
        label = _Label(
            chosen.destination,
            leg.arrives,
            label.cost + leg.cost_cents,
            label.emissions + leg.emissions_g,
            label,
            leg,
            legs=label.legs + 1,
        )
    return label


def _finish(bags: dict[str, list[_Label]], label: _Label, destination: str, cover: _Cover) -> None:
    """A seed into the destination's bag, by the rule every finished route is put there by."""
    bag = bags.setdefault(destination, [])
    if cover.any_covers(bag, label.key):
        return
    for other in bag:
        if _dominates(label.key, other.key):
            other.dead = True
    bag[:] = [other for other in bag if not other.dead]
    if len(bag) < MAX_LABELS_PER_NODE:
        bag.append(label)


NO_HOPS = 1 << 30  # no way to the destination


def _hops(network: Network, destination: str, parcel: Parcel, closed: set[str]) -> dict[str, int]:
    """The fewest legs from every node to `destination` over lanes taking parcels of the parcel's
    weight floor (as the bounds: the same for every parcel of the floor, so cached with them by the
    compiled search), passing through no node in `closed` (a route may start at one); nodes without
    a way there are left out."""
    floor = max(f for f in WEIGHT_FLOORS_KG if f <= parcel.weight_kg)
    into: dict[str, list[Lane]] = {}
    for lanes in network.lanes_from.values():
        for lane in lanes:
            if lane.max_parcel_kg >= floor:
                into.setdefault(lane.destination, []).append(lane)
    hops, todo = {destination: 0}, deque([destination])
    while todo:
        node = todo.popleft()
        if node in closed:
            continue
        for lane in into.get(node, ()):
            if lane.origin not in hops:
                hops[lane.origin] = hops[node] + 1
                todo.append(lane.origin)
    return hops


def _no_transit(network: Network, rules: RoutingRules) -> set[str]:
    """The nodes a route may end at but never pass through."""
    closed: set[str] = set()
    if rules.stations_end_only:
        closed |= network.delivery_stations
    if rules.warehouses_start_only:
        closed |= {code for code, node in network.nodes.items() if node.kind == "fulfilment_warehouse"}
    return closed


Bound = tuple[int, int, float]  # at least this much time, cost and emissions remain to the destination


@dataclass(frozen=True)
class _Cover:
    """When a finished route stands for a label: within (1+epsilon) on every count (time from `ready`),
    give or take the additive tolerance. The same float operations as `compiled_search._covered`."""

    ready: int
    epsilon: Epsilon
    tol: Tolerance

    def covers(self, done: tuple[int, int, float], key: tuple[int, int, float]) -> bool:
        t, c, e = (1.0 + self.epsilon[0], 1.0 + self.epsilon[1], 1.0 + self.epsilon[2])
        return (
            done[0] - self.ready <= t * (key[0] - self.ready) + self.tol[0]
            and done[1] <= c * key[1] + self.tol[1]
            and done[2] <= e * key[2] + self.tol[2] + 1e-9
        )

    def any_covers(self, finished: Iterable[_Label], key: tuple[int, int, float]) -> bool:
        return any(self.covers(done.key, key) for done in finished)


def _plus(key: tuple[int, int, float], bound: Bound) -> tuple[int, int, float]:
    return (key[0] + bound[0], key[1] + bound[1], key[2] + bound[2])


def _insert(
    bags: dict[str, list[_Label]],
    label: _Label,
    destination: str,
    bound: Bound,
    tol: Tolerance,
    cover: _Cover,
    counting_legs: bool,
) -> bool:
    """Add `label` to its node's bag unless beaten there (at the destination: covered by a finished
    route) or, with the least still to come, covered by a finished route; drop what it beats."""
    finished = bags.get(destination, [])
    bag = bags.setdefault(label.node, [])
    if label.node == destination:
        if cover.any_covers(bag, label.key):
            return False
    elif any(
        _dominates(other.key, label.key, tol) and (not counting_legs or other.legs <= label.legs)
        for other in bag
    ) or cover.any_covers(finished, _plus(label.key, bound)):
        return False
    legs_matter = counting_legs and label.node != destination  # finished routes: legs do not matter
    for other in bag:
        if _dominates(label.key, other.key) and (not legs_matter or label.legs <= other.legs):
            other.dead = True
    bag[:] = [other for other in bag if not other.dead]
    if len(bag) >= MAX_LABELS_PER_NODE:
        return False
    bag.append(label)
    return True


WEIGHT_FLOORS_KG = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0)


def lower_bounds(network: Network, destination: str, weight_kg: float) -> dict[str, Bound]:
    """For every node that can reach `destination`: the least transit time, cost and emissions still to
    come, each found by its own backwards Dijkstra; time counts the handling at nodes passed through but
    no waiting for departures (so it is never too high).

    Bounds hold for any parcel at least as heavy as the weight floor they were computed for, which makes
    them shareable: they are cached on the network per destination and floor."""
    floor = max(f for f in WEIGHT_FLOORS_KG if f <= weight_kg)
    key = (destination, floor)
    cached = network.bounds_cache.get(key)
    if cached is None:
        cached = network.bounds_cache[key] = _compute_bounds(network, destination, floor)
    return cached


def _compute_bounds(network: Network, destination: str, floor: float) -> dict[str, Bound]:
    lightest = Parcel(floor, 0.01, 0.01, 0.01)
    into: dict[str, list[Lane]] = {}
    for lanes in network.lanes_from.values():
        for lane in lanes:
            if lane.max_parcel_kg >= floor:
                into.setdefault(lane.destination, []).append(lane)
    time = _backwards(
        into, destination, lambda lane: lane.transit_minutes + _passing(network, lane, destination)
    )
    cost = _backwards(into, destination, lambda lane: lane_cost_cents(lane, lightest))
    micrograms = _backwards(into, destination, lambda lane: lane_micrograms(lane_emissions_g(lane, lightest)))
    return {node: (int(time[node]), int(cost[node]), micrograms[node] / 1e6) for node in time}


def lane_micrograms(grams: float) -> float:
    """A lane's emissions for the bound in whole micrograms, rounded down: sums of whole numbers are
    exact in any order, so a destination's bounds can be put together from its neighbours' (see
    `compiled.bounds`) and equal the ones found by searching from it; a microgram less per lane keeps
    the bound below the real figure."""
    return float(math.floor(grams * 1e6))


def _passing(network: Network, lane: Lane, destination: str) -> int:
    """A parcel that arrives at a node on its way somewhere else spends the node's handling time there."""
    return 0 if lane.destination == destination else network.nodes[lane.destination].handling_minutes


def _backwards(
    into: dict[str, list[Lane]], destination: str, weight: Callable[[Lane], float]
) -> dict[str, float]:
    best: dict[str, float] = {destination: 0.0}
    queue: list[tuple[float, str]] = [(0.0, destination)]
    while queue:
        distance, node = heapq.heappop(queue)
        if distance > best[node]:
            continue
        for lane in into.get(node, ()):
            candidate = distance + weight(lane)
            if candidate < best.get(lane.origin, math.inf):
                best[lane.origin] = candidate
                heapq.heappush(queue, (candidate, lane.origin))
    return best


def _route(label: _Label, ready: int) -> Route:
    legs = []
    current: _Label | None = label
    while current is not None and current.leg is not None:
        legs.append(current.leg)
        current = current.parent
    return Route(ready, tuple(reversed(legs)))


def _explain(
    network: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    ready: int,
    deadline: int | None,
    rules: RoutingRules,
) -> PlanningError:
    if not _reachable(network, origin, destination, lambda lane: True):
        return PlanningError("no_lane", f"no chain of lanes leads from {origin} to {destination}")
    if not _reachable(network, origin, destination, lambda lane: parcel.weight_kg <= lane.max_parcel_kg):
        limit = max(lane.max_parcel_kg for lanes in network.lanes_from.values() for lane in lanes)
        return PlanningError(
            "overweight",
            f"{parcel.weight_kg:g} kg is over the weight limit of every route from {origin} to {destination}"
            f" (the largest any lane takes is {limit:g} kg)",
        )
    routes = _search(network, origin, destination, parcel, ready, None, rules=rules)
    if not routes:
        return PlanningError(
            "no_lane",
            f"no route from {origin} to {destination} keeps the routing rules (at most {rules.max_legs}"
            " legs, no node twice, warehouses only as starts and stations only as ends)",
        )
    earliest = min(r.arrives for r in routes)
    days = (earliest - ready) / 1440
    return PlanningError(
        "no_departure_in_time",
        f"no departures deliver by the deadline: the earliest delivery is {days:.1f} days after ready time"
        + ("" if deadline is None else f", the promise allows {(deadline - ready) / 1440:.1f}"),
    )


def _reachable(network: Network, origin: str, destination: str, usable: object) -> bool:
    assert callable(usable)
    seen, todo = {origin}, deque([origin])
    while todo:
        code = todo.popleft()
        if code == destination:
            return True
        for lane in network.lanes_from.get(code, ()):
            if lane.destination not in seen and usable(lane):
                seen.add(lane.destination)
                todo.append(lane.destination)
    return False


def choose(routes: list[Route], service: str, objective: str) -> Route:
    """The cheapest (or greenest) route that keeps the service level's promise."""
    if service not in SERVICE_LEVEL_DAYS:
        raise ValueError(f"service must be one of {', '.join(SERVICE_LEVEL_DAYS)}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}")
    limit = SERVICE_LEVEL_DAYS[service] * 1440
    keeping = [r for r in routes if r.minutes <= limit]
    if not keeping:
        fastest = min(r.minutes for r in routes) / 1440
        raise PlanningError(
            "no_departure_in_time",
            f"{service} promises {limit // 1440} days; the fastest route takes {fastest:.1f}",
        )
    if objective == "cheapest":
        return min(keeping, key=lambda r: (r.cost_cents, r.emissions_g, r.arrives))
    return min(keeping, key=lambda r: (r.emissions_g, r.cost_cents, r.arrives))
