"""Last-mile routes as plain values: the vehicle routing problem with time windows (VRPTW) and the rules
a plan must meet, checked here without the solver that made it.

Everything is an integer in the problem's own units (a Solomon instance: tenths of its distance unit; a
delivery station: metres and seconds), so no check depends on float rounding. `scale` says how many units
make one reported unit of cost: 10 for the DIMACS convention, where each distance is the Euclidean
distance truncated to one decimal (so 10 x distance truncated to an integer), travel time equals distance,
and the cost is the total distance. That is the rule the published best-known solutions use.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.logistics.domain import ROAD_DETOUR, great_circle_km

DIMACS_SCALE = 10
Matrix = NDArray[np.int64]


@dataclass(frozen=True)
class Depot:
    """Where every route starts and ends, open from `opens` to `closes`."""

    x: float
    y: float
    opens: int
    closes: int


@dataclass(frozen=True)
class Client:
    """A delivery: `demand` units, `service` time on site, started between `earliest` and `latest`.
    `number` is its position in the problem (1 to n; 0 is the depot)."""

    number: int
    x: float
    y: float
    demand: int
    service: int
    earliest: int
    latest: int


@dataclass(frozen=True)
class Fleet:
    """Identical vehicles: how many, what each carries, and the longest a route may last (None: the
    depot's hours are the only limit)."""

    vehicles: int
    capacity: int
    shift: int | None = None


@dataclass(frozen=True, eq=False)
class Problem:
    """A VRPTW: a depot, its clients, a fleet, and the distances and travel times between them (row and
    column 0 the depot, i the client numbered i)."""

    name: str
    depot: Depot
    clients: tuple[Client, ...]
    fleet: Fleet
    distance: Matrix
    duration: Matrix
    scale: int = 1

    def __post_init__(self) -> None:
        problems = problem_errors(self)
        if problems:
            raise ValidationFailed(f"{self.name}: {problems[0].field}: {problems[0].message}", problems)

    @property
    def size(self) -> int:
        return len(self.clients)

    def client(self, number: int) -> Client:
        return self.clients[number - 1]


def problem_errors(problem: Problem) -> list[FieldError]:
    """What makes a problem unsolvable as stated, before any solver sees it."""
    errors: list[FieldError] = []
    n = problem.size + 1
    if problem.distance.shape != (n, n) or problem.duration.shape != (n, n):
        errors.append(FieldError("matrix", f"distances and durations must be {n} x {n}"))
    if problem.fleet.vehicles < 1:
        errors.append(FieldError("vehicles", "at least one vehicle is needed"))
    if problem.fleet.capacity < 1:
        errors.append(FieldError("capacity", "vehicle capacity must be positive"))
    if problem.fleet.shift is not None and problem.fleet.shift < 1:
        errors.append(FieldError("shift", "a shift must be longer than zero"))
    if problem.depot.opens > problem.depot.closes:
        errors.append(FieldError("depot", "the depot closes before it opens"))
    for position, client in enumerate(problem.clients, start=1):
        errors.extend(client_errors(client, position, problem.fleet.capacity))
    return errors


def client_errors(client: Client, position: int, capacity: int) -> list[FieldError]:
    where = f"client {client.number}"
    errors: list[FieldError] = []
    if client.number != position:
        errors.append(FieldError(where, f"is numbered {client.number} at position {position}"))
    if client.demand < 0 or client.service < 0:
        errors.append(FieldError(where, "demand and service time cannot be negative"))
    if client.demand > capacity:
        errors.append(FieldError(where, f"demand {client.demand} exceeds a vehicle's capacity {capacity}"))
    if client.earliest > client.latest:
        errors.append(FieldError(where, "its time window closes before it opens"))
    return errors


def dimacs_matrix(xs: Sequence[float], ys: Sequence[float]) -> Matrix:
    """Euclidean distances in tenths, truncated: the DIMACS challenge's rule for Solomon and
    Gehring-Homberger instances (depot first)."""
    points = np.column_stack([np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)])
    deltas = points[:, None, :] - points[None, :, :]
    euclid = np.sqrt((deltas**2).sum(axis=2))
    truncated: Matrix = (DIMACS_SCALE * euclid).astype(np.int64)
    return truncated


Route = tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """Routes as client numbers in visiting order; each route starts and ends at the depot."""

    routes: tuple[Route, ...]

    @property
    def used(self) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route)


@dataclass(frozen=True)
class Visit:
    client: int
    arrives: int
    starts: int
    leaves: int


@dataclass(frozen=True)
class Schedule:
    """A route's times when the vehicle leaves as late as it can without arriving back later."""

    departs: int
    visits: tuple[Visit, ...]
    returns: int

    @property
    def duration(self) -> int:
        return self.returns - self.departs


def route_distance(problem: Problem, route: Route) -> int:
    path = (0, *route, 0)
    return int(sum(int(problem.distance[a, b]) for a, b in itertools.pairwise(path)))


def plan_cost(problem: Problem, plan: Plan) -> int:
    """Total distance in the problem's units (divide by `scale` to report it)."""
    return sum(route_distance(problem, route) for route in plan.used)


def reported_cost(problem: Problem, plan: Plan) -> float:
    return plan_cost(problem, plan) / problem.scale


def gap_pct(cost: float, best_known: float) -> float:
    """How far above the best-known cost, in percent (negative: better than it)."""
    return 100.0 * (cost - best_known) / best_known


def earliest_visits(problem: Problem, route: Route, departs: int) -> tuple[tuple[Visit, ...], int]:
    """Each visit's times when the vehicle leaves the depot at `departs` and starts each service as
    soon as it may; and when it is back."""
    visits: list[Visit] = []
    here, now = 0, departs
    for number in route:
        client = problem.client(number)
        arrives = now + int(problem.duration[here, number])
        starts = max(arrives, client.earliest)
        now = starts + client.service
        visits.append(Visit(number, arrives, starts, now))
        here = number
    return tuple(visits), now + int(problem.duration[here, 0])


def schedule(problem: Problem, route: Route) -> Schedule:
    """The route's times, leaving as late as the waits allow: delaying departure by d first eats the
    waiting before each stop; it may go on while no window is missed and the return does not move."""
    opens = problem.depot.opens
    visits, returns = earliest_visits(problem, route, opens)
    waited, delay = 0, None
    for visit in visits:
        waited += visit.starts - visit.arrives
        slack = waited + problem.client(visit.client).latest - visit.starts
        delay = slack if delay is None else min(delay, slack)
    latest_delay = waited if delay is None else max(0, min(delay, waited))
    later, returns = earliest_visits(problem, route, opens + latest_delay)
    return Schedule(opens + latest_delay, later, returns)


@dataclass(frozen=True)
class Verdict:
    """What is wrong with a plan: nothing when it is feasible."""

    problems: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        return not self.problems


def check(problem: Problem, plan: Plan) -> Verdict:
    """Every client served exactly once, no more routes than vehicles, no vehicle over capacity, every
    service started inside its window, every vehicle back before the depot closes and within its shift."""
    problems = coverage_problems(problem, plan)
    if len(plan.used) > problem.fleet.vehicles:
        problems.append(f"{len(plan.used)} routes for {problem.fleet.vehicles} vehicles")
    for index, route in enumerate(plan.used, start=1):
        if all(1 <= number <= problem.size for number in route):
            problems.extend(f"route {index}: {said}" for said in route_problems(problem, route))
    return Verdict(tuple(problems))


def coverage_problems(problem: Problem, plan: Plan) -> list[str]:
    seen: dict[int, int] = {}
    problems: list[str] = []
    for route in plan.used:
        for number in route:
            if not 1 <= number <= problem.size:
                problems.append(f"client {number} is not in the problem")
            seen[number] = seen.get(number, 0) + 1
    problems.extend(f"client {n} served {times} times" for n, times in sorted(seen.items()) if times > 1)
    missing = [n for n in range(1, problem.size + 1) if n not in seen]
    if missing:
        problems.append(f"{len(missing)} clients not served (first: {missing[0]})")
    return problems


def route_problems(problem: Problem, route: Route) -> list[str]:
    problems: list[str] = []
    load = sum(problem.client(number).demand for number in route)
    if load > problem.fleet.capacity:
        problems.append(f"load {load} over capacity {problem.fleet.capacity}")
    times = schedule(problem, route)
    for visit in times.visits:
        if visit.starts > problem.client(visit.client).latest:
            problems.append(f"client {visit.client} served at {visit.starts}, after its window closes")
    if times.returns > problem.depot.closes:
        problems.append(f"back at {times.returns}, after the depot closes at {problem.depot.closes}")
    if problem.fleet.shift is not None and times.duration > problem.fleet.shift:
        problems.append(f"lasts {times.duration}, longer than a shift of {problem.fleet.shift}")
    return problems


# A delivery station's day, as a VRPTW in metres and seconds counted from the start of the shift.

METRES_PER_KM = 1000


@dataclass(frozen=True)
class Drop:
    """A parcel to deliver: where, how heavy, and when it may be handed over (seconds into the shift)."""

    shipment: str
    latitude: float
    longitude: float
    weight_g: int
    earliest_s: int
    latest_s: int


@dataclass(frozen=True)
class StationDay:
    """A station's vans for the day: how many, what each carries, how long a shift lasts, how fast they
    go over roads and how long a hand-over takes."""

    latitude: float
    longitude: float
    vehicles: int
    capacity_g: int
    shift_s: int
    speed_kmh: float
    handover_s: int


def road_metres(latitude: Sequence[float], longitude: Sequence[float]) -> Matrix:
    """Metres between points by road, the network's rule when no map gives them: great circle x detour."""
    points = list(zip(latitude, longitude, strict=True))
    return np.array(
        [[round(great_circle_km(*a, *b) * ROAD_DETOUR * METRES_PER_KM) for b in points] for a in points],
        dtype=np.int64,
    )


def station_problem(name: str, day: StationDay, drops: Sequence[Drop]) -> Problem:
    """The station's day as a problem: client i is drops[i - 1]; cost in metres, reported in km."""
    metres = road_metres(
        [day.latitude, *(d.latitude for d in drops)], [day.longitude, *(d.longitude for d in drops)]
    )
    metres_per_s = day.speed_kmh * METRES_PER_KM / 3600
    seconds: Matrix = np.ceil(metres / metres_per_s).astype(np.int64)
    clients = tuple(
        Client(i, d.longitude, d.latitude, d.weight_g, day.handover_s, d.earliest_s, d.latest_s)
        for i, d in enumerate(drops, start=1)
    )
    depot = Depot(day.longitude, day.latitude, 0, day.shift_s)
    fleet = Fleet(day.vehicles, day.capacity_g, day.shift_s)
    return Problem(name, depot, clients, fleet, metres, seconds, METRES_PER_KM)
