"""Solving a VRPTW with PyVRP, on every core the machine lends.

PyVRP's search is an iterated local search: perturb the plan in hand, repair it with its local search,
keep the result by late acceptance. It runs on one thread, so with two cores two searches from different
seeds run side by side (`Walk`, one per worker process) for the whole time asked. About every second (at
most `MAX_ROUNDS` times) each posts its best plan on a board the workers share (`Board`, in a manager
process) and both go on from the shortest plan posted with a fresh acceptance history: for a few
hundred steps they accept only what improves on it. Within seconds that greedy restart is what pays (on
22 Solomon instances at 5 s, walks that only took a shorter plan and kept PyVRP's history did worse).
What starting PyVRP again each round lost is kept: the data and neighbours built once, the penalties for
load and lateness as they have adapted, each walk's random stream.

Each search ends at a deadline on the system's monotonic clock, which every process reads alike, so the
wall-clock time of a solve, workers included, stays within what was asked. The plan that comes back is
judged by `domain.check`, not by the solver's own word.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from collections.abc import MutableMapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.managers import SyncManager
from types import TracebackType
from typing import Any, cast

import numpy as np
from pyvrp import Client as PyvrpClient
from pyvrp import (
    CostEvaluator,
    Location,
    PenaltyManager,
    PenaltyParams,
    ProblemData,
    RandomNumberGenerator,
    Solution,
    VehicleType,
)
from pyvrp import Depot as PyvrpDepot
from pyvrp import solve as pyvrp_solve
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)
from pyvrp.stop import MaxRuntime

from entrepot.local_services.domain import Plan, Problem, Verdict, check, plan_cost

# what the last iteration overrunning the deadline, the result coming back and its check take: kept out
# of the search's time so the solve as a whole ends within the seconds asked. A quarter second kept 5 s
# solves of 100 clients within time at load1 9, but 10 s solves of 200 clients ran 0.06 s over at
# load1 13, so the margin grows with the time asked (0.4 s of 10 s).
RETURN_MARGIN_S = 0.25
RETURN_MARGIN_SHARE = 0.04
MAX_ROUNDS = 5
NO_LIMIT = int(np.iinfo(np.int64).max)
# PyVRP's own defaults: the late-acceptance history, and the walk back to the best plan after this many
# iterations without a better one
HISTORY = 300
RESTART_AFTER = 150_000


def pyvrp_data(problem: Problem) -> ProblemData:
    """The problem as PyVRP's data: location 0 the depot, location i the client numbered i."""
    depot = problem.depot
    locations = [Location(depot.x, depot.y)] + [Location(c.x, c.y) for c in problem.clients]
    clients = [
        PyvrpClient(
            location=c.number,
            delivery=[c.demand],
            service_duration=c.service,
            tw_early=c.earliest,
            tw_late=c.latest,
        )
        for c in problem.clients
    ]
    fleet = problem.fleet
    vehicles = VehicleType(
        num_available=fleet.vehicles,
        capacity=[fleet.capacity],
        tw_early=depot.opens,
        tw_late=depot.closes,
        shift_duration=NO_LIMIT if fleet.shift is None else fleet.shift,
    )
    return ProblemData(
        locations=locations,
        clients=clients,
        depots=[PyvrpDepot(location=0, tw_early=depot.opens, tw_late=depot.closes)],
        vehicle_types=[vehicles],
        # PyVRP's stubs type a matrix as `ndarray[int]`, which no real array matches
        distance_matrices=[cast(Any, problem.distance)],
        duration_matrices=[cast(Any, problem.duration)],
    )


def plan_of(solution: Solution) -> Plan:
    """PyVRP's routes as client numbers (PyVRP counts its clients from 0, the problem from 1)."""
    return Plan(
        tuple(
            tuple(activity.idx + 1 for activity in route if activity.is_client())
            for route in solution.routes()
        )
    )


def solution_of(data: ProblemData, plan: Plan) -> Solution:
    return Solution(data, [[number - 1 for number in route] for route in plan.used])


class Walk:
    """One search: PyVRP's local search and penalties, stepped here so that it can stop at any moment,
    take a shorter plan found by another search, and go on with everything else it has learnt.

    Each step perturbs and repairs the current plan (PyVRP's `LocalSearch`), lets the penalties see the
    result, and keeps it as the current plan when it is cheaper than the plan of `HISTORY` steps before
    or than the current one (late-acceptance hill climbing, as PyVRP's own `IteratedLocalSearch`), so
    a walk alone searches as `pyvrp.solve` does."""

    def __init__(self, data: ProblemData, seed: int) -> None:
        self.data = data
        rng = RandomNumberGenerator(seed=seed)
        neighbours = compute_neighbours(data, NeighbourhoodParams())
        self.search = LocalSearch(data, rng, neighbours, PerturbationManager(PerturbationParams()))
        for operator in OPERATORS:
            if operator.supports(data):
                self.search.add_operator(operator(data))
        params = PenaltyParams()
        self.penalties = PenaltyManager(params.midpoint_penalties(data), params)
        random_plan = Solution.make_random(data, rng)
        self.start = self.search(random_plan, self.penalties.max_cost_evaluator(), exhaustive=True)
        self.current = self.best = self.start
        self.history: list[Solution | None] = [None] * HISTORY
        self.steps = 0
        self.since_best = 0

    def run_until(self, moment: float) -> None:
        """Steps until `moment` on the monotonic clock."""
        with warnings.catch_warnings():
            # a problem with no feasible plan (a window no van can reach) drives the penalties to their
            # bound; our check says so to the caller, the warning would only reach a log
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            while time.monotonic() < moment:
                self.step()

    def step(self) -> None:
        if self.since_best >= RESTART_AFTER:
            self.walk_back_to_best()
        costs = self.penalties.cost_evaluator()
        candidate = self.search(self.current, costs, exhaustive=False)
        self.penalties.register(candidate)
        self.steps += 1
        self.since_best += 1
        if costs.cost(candidate) < costs.cost(self.best):  # infeasible plans cost infinitely much
            self.found_best(candidate, costs)
        slot = self.steps % HISTORY
        late = self.history[slot]
        late_cost = costs.penalised_cost(self.start if late is None else late)
        candidate_cost = costs.penalised_cost(candidate)
        current_cost = costs.penalised_cost(self.current)
        if candidate_cost < max(late_cost, current_cost):
            self.current, current_cost = candidate, candidate_cost
        if late is None or current_cost < late_cost:
            self.history[slot] = self.current

    def found_best(self, candidate: Solution, costs: CostEvaluator) -> None:
        """A new best plan: a full local search may shorten it further (kept only when feasible)."""
        self.best = candidate
        self.since_best = 0
        polished = self.search(candidate, costs, exhaustive=True)
        if polished.is_feasible():
            self.best = polished

    def walk_back_to_best(self) -> None:
        self.current = self.best
        self.history = [None] * HISTORY
        self.since_best = 0

    def best_distance(self) -> float:
        return self.best.distance() if self.best.is_feasible() else float("inf")

    def go_on_from(self, routes: list[list[int]] | None = None) -> None:
        """Goes on from the shortest plan known: another search's (PyVRP client indices) when it is
        feasible and shorter, else this walk's own best; with a fresh acceptance history, so that the
        next steps accept only what improves on it or on the plan in hand."""
        if routes is not None:
            other = Solution(self.data, routes)
            if other.is_feasible() and other.distance() < self.best_distance():
                self.best = other
        self.start = self.current = self.best
        self.history = [None] * HISTORY
        self.since_best = 0


# What each search posted last, by its seed: the round, the distance of its best plan (infinite when it
# has no feasible one) and its routes
Board = MutableMapping[int, tuple[int, float, list[list[int]]]]
POLL_S = 0.002
# how long a search that reached the end of a round waits for the others (one descheduled on a loaded
# machine, or slow to start) before it goes on without their plans
WAIT_S = 0.2


def routes_of(solution: Solution) -> list[list[int]]:
    return [[activity.idx for activity in route if activity.is_client()] for route in solution.routes()]


def exchange(walk: Walk, board: Board, seed: int, round_: int, searches: int) -> None:
    """Posts this search's best plan for the round, waits (a little) until every search has posted its
    own, then goes on from the shortest posted: both searches start the next round from the same plan."""
    board[seed] = (round_, walk.best_distance(), routes_of(walk.best))
    gives_up = time.monotonic() + WAIT_S
    posted = list(board.values())
    while sum(entry[0] >= round_ for entry in posted) < searches and time.monotonic() < gives_up:
        time.sleep(POLL_S)
        posted = list(board.values())
    _, distance, routes = min(posted, key=lambda entry: entry[1])
    walk.go_on_from(routes if distance < walk.best_distance() else None)


def rounds_for(seconds: float) -> int:
    """Trades about every second, at most `MAX_ROUNDS` in all: long enough for a walk to get somewhere
    from where it starts (a plan of 200 clients takes longer to improve than one of 100)."""
    return max(1, min(MAX_ROUNDS, int(seconds)))


def exchange_moments(started: float, deadline: float) -> list[float]:
    """When the searches trade, the last moment being `deadline` itself."""
    rounds = rounds_for(deadline - started)
    return [started + (deadline - started) * k / rounds for k in range(1, rounds + 1)]


def search(
    problem: Problem,
    seed: int,
    started: float,
    deadline: float,
    board: Board | None = None,
    searches: int = 1,
) -> Plan:
    """One search until `deadline` (time.monotonic), trading plans through `board` with the other
    searches at the end of each round (rounds counted from `started`, alike for all); its best plan,
    feasible or not."""
    walk = Walk(pyvrp_data(problem), seed)
    for round_, moment in enumerate(exchange_moments(started, deadline), start=1):
        walk.run_until(moment)
        if board is not None and moment < deadline:
            exchange(walk, board, seed, round_, searches)
    return plan_of(walk.best)


def plain_pyvrp(problem: Problem, seconds: float, seed: int = 1) -> Plan:
    """PyVRP as its documentation calls it: one process, default settings, a runtime limit."""
    result = pyvrp_solve(pyvrp_data(problem), MaxRuntime(seconds), seed=seed, collect_stats=False)
    return plan_of(result.best)


@dataclass(frozen=True)
class Solved:
    plan: Plan
    verdict: Verdict
    cost: float
    vehicles: int
    seconds: float


def judged(problem: Problem, plan: Plan, seconds: float) -> Solved:
    verdict = check(problem, plan)
    return Solved(plan, verdict, plan_cost(problem, plan) / problem.scale, len(plan.used), seconds)


def best_of(problem: Problem, plans: Sequence[Plan]) -> Plan:
    """The shortest feasible plan; the first one when none is feasible (the checker will say why)."""
    feasible = [plan for plan in plans if check(problem, plan).feasible]
    if not feasible:
        return plans[0]
    return min(feasible, key=lambda plan: plan_cost(problem, plan))


class Solver:
    """Searches in `workers` processes, started once and reused for every problem solved with it, with
    a manager process holding the board they trade plans on.

    forkserver: a worker is forked from a clean process that imported this module, never from the
    caller, which may be an API process with threads."""

    def __init__(self, workers: int = 2, first_seed: int = 0) -> None:
        self.workers = max(1, workers)
        self.first_seed = first_seed
        self._pool: Executor | None = None
        self._manager: SyncManager | None = None

    def __enter__(self) -> Solver:
        if self.workers > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._manager = context.Manager()
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            # started now, so that starting them is not counted against the first problem's seconds
            for started in [self._pool.submit(time.monotonic) for _ in range(self.workers)]:
                started.result()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._manager is not None:
            self._manager.shutdown()
            self._manager = None

    def solve(self, problem: Problem, seconds: float) -> Solved:
        started = time.monotonic()
        deadline = started + seconds - max(RETURN_MARGIN_S, RETURN_MARGIN_SHARE * seconds)
        if self._pool is None or self._manager is None:  # one search, here
            plans = [search(problem, self.first_seed, started, deadline)]
        else:
            board = cast(Board, self._manager.dict())
            seeds = range(self.first_seed, self.first_seed + self.workers)
            futures = [
                self._pool.submit(search, problem, seed, started, deadline, board, self.workers)
                for seed in seeds
            ]
            plans = [future.result() for future in futures]
        plan = best_of(problem, plans)
        return judged(problem, plan, time.monotonic() - started)
