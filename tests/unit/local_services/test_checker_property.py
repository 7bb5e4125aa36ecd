"""The feasibility checker accepts a plan exactly when it meets every rule, stated here again the plain
way: each client once, no load over capacity, and some departure time (tried one by one, on small
horizons) at which every service starts in its window, the vehicle is back before the depot closes and
within its shift."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from entrepot.local_services.domain import Client, Depot, Fleet, Plan, Problem, check

HORIZON = 60


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    size = draw(st.integers(1, 5))
    capacity = draw(st.integers(1, 6))
    points = draw(
        st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=size + 1, max_size=size + 1)
    )
    xs = np.asarray([p[0] for p in points])
    ys = np.asarray([p[1] for p in points])
    matrix = (np.abs(xs[:, None] - xs[None, :]) + np.abs(ys[:, None] - ys[None, :])).astype(np.int64)
    clients = []
    for number in range(1, size + 1):
        earliest = draw(st.integers(0, HORIZON))
        latest = draw(st.integers(earliest, HORIZON))
        demand = draw(st.integers(0, capacity))
        clients.append(
            Client(
                number,
                float(xs[number]),
                float(ys[number]),
                demand,
                draw(st.integers(0, 3)),
                earliest,
                latest,
            )
        )
    shift = draw(st.none() | st.integers(1, HORIZON))
    fleet = Fleet(draw(st.integers(1, 3)), capacity, shift)
    return Problem("drawn", Depot(0.0, 0.0, 0, HORIZON + 20), tuple(clients), fleet, matrix, matrix)


@st.composite
def problems_and_plans(draw: st.DrawFn) -> tuple[Problem, Plan]:
    problem = draw(problems())
    numbers = list(range(1, problem.size + 1))
    # mostly a permutation cut into routes; sometimes a client dropped, doubled or unknown
    visits = draw(st.permutations(numbers))
    visits = list(visits) + draw(st.lists(st.integers(0, problem.size + 1), max_size=1))
    if visits and draw(st.booleans()) and draw(st.booleans()):
        visits.pop(draw(st.integers(0, len(visits) - 1)))
    cuts = sorted(draw(st.lists(st.integers(0, len(visits)), max_size=3)))
    routes = [tuple(visits[a:b]) for a, b in zip([0, *cuts], [*cuts, len(visits)], strict=True)]
    return problem, Plan(tuple(routes))


def route_fits(problem: Problem, route: tuple[int, ...]) -> bool:
    """Whether some departure time makes the route meet windows, depot hours and shift."""
    if sum(problem.client(n).demand for n in route) > problem.fleet.capacity:
        return False
    for departs in range(problem.depot.opens, problem.depot.closes + 1):
        here, now, in_time = 0, departs, True
        for number in route:
            client = problem.client(number)
            now = max(now + int(problem.duration[here, number]), client.earliest)
            in_time = in_time and now <= client.latest
            now += client.service
            here = number
        back = now + int(problem.duration[here, 0])
        short_enough = problem.fleet.shift is None or back - departs <= problem.fleet.shift
        if in_time and back <= problem.depot.closes and short_enough:
            return True
    return False


def meets_every_rule(problem: Problem, plan: Plan) -> bool:
    served = [n for route in plan.routes for n in route]
    if sorted(served) != list(range(1, problem.size + 1)):
        return False
    used = [route for route in plan.routes if route]
    return len(used) <= problem.fleet.vehicles and all(route_fits(problem, route) for route in used)


@settings(max_examples=400, deadline=None)
@given(problems_and_plans())
def test_the_checker_accepts_exactly_the_plans_that_meet_every_rule(drawn: tuple[Problem, Plan]) -> None:
    problem, plan = drawn
    verdict = check(problem, plan)
    assert verdict.feasible == meets_every_rule(problem, plan), verdict.problems
