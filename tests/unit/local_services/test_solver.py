"""PyVRP sees the problem as we state it: its cost of a plan is ours, and what it returns is read back
as the same client numbers. A short solve of a small problem is feasible by our own check."""

from __future__ import annotations

from pyvrp import Solution

from entrepot.local_services.domain import Plan, check, plan_cost
from entrepot.local_services.solver import Solver, best_of, plan_of, pyvrp_data, rounds_for, solution_of
from tests.unit.local_services.conftest import line_problem


def test_a_plan_goes_to_pyvrp_and_back_unchanged_with_the_same_cost() -> None:
    problem = line_problem()
    data = pyvrp_data(problem)
    plan = Plan(((2, 1), (4, 3)))
    solution = solution_of(data, plan)
    assert isinstance(solution, Solution)
    assert plan_of(solution) == plan
    assert solution.distance() == plan_cost(problem, plan)


def test_pyvrp_sees_capacity_windows_and_shift() -> None:
    problem = line_problem(demands=(4, 4, 4, 4), capacity=10, shift=50)
    data = pyvrp_data(problem)
    assert not solution_of(data, Plan(((1, 2, 3), (4,)))).is_feasible()
    assert not check(problem, Plan(((1, 2, 3), (4,)))).feasible


def test_a_short_solve_in_this_process_is_feasible() -> None:
    problem = line_problem(windows=((0, 40), (0, 100), (60, 120), (0, 200)))
    solved = Solver(workers=1).solve(problem, 0.3)
    assert solved.verdict.feasible, solved.verdict.problems
    assert solved.cost == plan_cost(problem, solved.plan)
    assert solved.vehicles == len(solved.plan.used)


def test_the_best_plan_is_the_shortest_feasible_one() -> None:
    problem = line_problem(demands=(4, 4, 4, 4), capacity=10)
    over, long, short = Plan(((1, 2, 3, 4),)), Plan(((1, 3), (2, 4))), Plan(((1, 2), (3, 4)))
    assert best_of(problem, [over, long, short]) == short
    assert best_of(problem, [over]) == over


def test_rounds_last_about_a_second() -> None:
    assert [rounds_for(s) for s in (0.3, 1.0, 2.5, 5.0, 10.0)] == [1, 1, 2, 5, 5]
