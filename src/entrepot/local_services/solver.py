"""Solving a VRPTW with PyVRP, on every core the machine lends.

PyVRP's iterated local search is one thread. With two cores, two searches from different seeds run in
the same wall-clock time as one. They meet at the end of each round (about a second each, at most
`MAX_ROUNDS`): the better plan of the round is where both start the next one, each with a fresh seed.
Measured on the Solomon and Gehring-Homberger sets, sharing the best this way did better than two
searches kept apart to the end (docs/guides/last-mile-routes.md). Each round ends at a deadline on the
system's monotonic clock, which every process reads alike, so the wall-clock time of a solve, workers
included, stays within what was asked.

The plan that comes back is judged by `domain.check`, not by the solver's own word.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import numpy as np
from pyvrp import Client as PyvrpClient
from pyvrp import Depot as PyvrpDepot
from pyvrp import Location, ProblemData, Solution, VehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.exceptions import PenaltyBoundWarning
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


class Deadline:
    """PyVRP's stopping criterion: stop at a moment of the system's monotonic clock, which every
    process on the machine reads alike."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self, best_cost: float) -> bool:
        return time.monotonic() >= self.at


def search(problem: Problem, seed: int, deadline: float, start: Plan | None = None) -> Plan:
    """One PyVRP search until `deadline` (time.monotonic), from `start` if given; its best plan,
    feasible or not."""
    data = pyvrp_data(problem)
    initial = None if start is None else solution_of(data, start)
    with warnings.catch_warnings():
        # a problem with no feasible plan (a window no van can reach) drives the penalties to their bound;
        # our check says so to the caller, the warning would only reach a log
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp_solve(
            data, Deadline(deadline), seed=seed, collect_stats=False, initial_solution=initial
        )
    return plan_of(result.best)


def solution_of(data: ProblemData, plan: Plan) -> Solution:
    return Solution(data, [[number - 1 for number in route] for route in plan.used])


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


def rounds_for(seconds: float) -> int:
    """Rounds of about a second: long enough for a search to get somewhere from where it starts."""
    return max(1, min(MAX_ROUNDS, int(seconds)))


class Solver:
    """Searches in `workers` processes, started once and reused for every problem solved with it.

    forkserver: a worker is forked from a clean process that imported this module, never from the
    caller, which may be an API process with threads."""

    def __init__(self, workers: int = 2, first_seed: int = 0) -> None:
        self.workers = max(1, workers)
        self.first_seed = first_seed
        self._pool: Executor | None = None

    def __enter__(self) -> Solver:
        if self.workers > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
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

    def solve(self, problem: Problem, seconds: float) -> Solved:
        started = time.monotonic()
        deadline = started + seconds - max(RETURN_MARGIN_S, RETURN_MARGIN_SHARE * seconds)
        if self._pool is None:  # one search, here
            plans = [search(problem, self.first_seed, deadline)]
        else:
            plans = self.rounds_on(self._pool, problem, started, deadline)
        plan = best_of(problem, plans)
        return judged(problem, plan, time.monotonic() - started)

    def rounds_on(self, pool: Executor, problem: Problem, started: float, deadline: float) -> list[Plan]:
        best: Plan | None = None
        plans: list[Plan] = []
        rounds = rounds_for(deadline - started)
        for round_ in range(rounds):
            ends = started + (deadline - started) * (round_ + 1) / rounds
            seeds = [self.first_seed + round_ * self.workers + k for k in range(self.workers)]
            futures = [pool.submit(search, problem, seed, ends, best) for seed in seeds]
            plans = [future.result() for future in futures]
            best = best_of(problem, plans)
            if not check(problem, best).feasible:
                best = None
        return plans
