"""PyVRP sees the problem as we state it: its cost of a plan is ours, and what it returns is read back
as the same client numbers. A search goes on from another's plan only when it is feasible and shorter,
and a short solve of a small problem, here or in two processes trading plans, is feasible by our check."""

from __future__ import annotations

from pyvrp import Solution

from entrepot.local_services.domain import Plan, check, plan_cost
from entrepot.local_services.solver import (
    Board,
    Solver,
    Walk,
    best_of,
    exchange,
    exchange_moments,
    plan_of,
    pyvrp_data,
    rounds_for,
    routes_of,
    solution_of,
)
from tests.unit.local_services.conftest import line_problem

# on the line, one route out to the last client and back is the shortest plan (80); two routes, each
# out and back, are longer (60 + 80)
SHORTEST = Plan(((1, 2, 3, 4),))
LONGER = Plan(((1, 3), (2, 4)))


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


def walk_at(plan: Plan, **problem: object) -> Walk:
    data = pyvrp_data(line_problem(**problem))  # type: ignore[arg-type]
    walk = Walk(data, seed=3)
    walk.best = walk.current = solution_of(data, plan)
    return walk


def test_a_walk_goes_on_from_a_shorter_feasible_plan() -> None:
    walk = walk_at(LONGER)
    walk.go_on_from(routes_of(solution_of(walk.data, SHORTEST)))
    assert plan_of(walk.best) == SHORTEST
    assert plan_of(walk.current) == SHORTEST
    assert walk.history == [None] * len(walk.history)


def test_a_walk_keeps_its_best_over_a_longer_or_infeasible_plan() -> None:
    walk = walk_at(SHORTEST)
    walk.go_on_from(routes_of(solution_of(walk.data, LONGER)))
    assert plan_of(walk.best) == SHORTEST
    # over capacity: one van cannot carry all four
    tight = walk_at(LONGER, demands=(4, 4, 4, 4), capacity=10)
    tight.go_on_from(routes_of(solution_of(tight.data, SHORTEST)))
    assert plan_of(tight.best) == LONGER


def test_a_walk_with_nothing_better_goes_back_to_its_own_best() -> None:
    walk = walk_at(SHORTEST)
    walk.current = solution_of(walk.data, LONGER)
    walk.go_on_from(None)
    assert plan_of(walk.current) == SHORTEST


def test_an_exchange_posts_the_walks_best_and_goes_on_from_a_shorter_one_posted() -> None:
    walk = walk_at(LONGER)
    board: Board = {7: (1, 80, routes_of(solution_of(walk.data, SHORTEST)))}
    exchange(walk, board, seed=0, round_=1, searches=2)
    assert board[0] == (1, 140, routes_of(solution_of(walk.data, LONGER)))
    assert plan_of(walk.current) == plan_of(walk.best) == SHORTEST
    exchange(walk, board, seed=0, round_=2, searches=1)
    assert board[0][:2] == (2, 80)


def test_an_exchange_waits_a_little_for_a_search_that_has_not_posted_then_goes_on_alone() -> None:
    walk = walk_at(LONGER)
    board: Board = {}
    exchange(walk, board, seed=0, round_=1, searches=2)
    assert list(board) == [0]
    assert plan_of(walk.best) == LONGER


def test_searches_trade_about_every_second_at_most_five_times_and_stop_at_the_deadline() -> None:
    assert [rounds_for(s) for s in (0.3, 1.0, 2.5, 5.0, 10.0)] == [1, 1, 2, 5, 5]
    assert exchange_moments(10.0, 12.5) == [11.25, 12.5]
    assert exchange_moments(10.0, 10.3) == [10.3]
    assert exchange_moments(10.0, 20.0) == [12.0, 14.0, 16.0, 18.0, 20.0]


def test_a_short_solve_in_this_process_is_feasible() -> None:
    problem = line_problem(windows=((0, 40), (0, 100), (60, 120), (0, 200)))
    solved = Solver(workers=1).solve(problem, 0.3)
    assert solved.verdict.feasible, solved.verdict.problems
    assert solved.cost == plan_cost(problem, solved.plan)
    assert solved.vehicles == len(solved.plan.used)


def test_a_short_solve_in_two_processes_trading_plans_is_feasible() -> None:
    problem = line_problem(windows=((0, 40), (0, 100), (60, 120), (0, 200)))
    with Solver(workers=2) as solver:
        solved = solver.solve(problem, 1.5)
    assert solved.verdict.feasible, solved.verdict.problems
    assert solved.cost == plan_cost(problem, solved.plan)


def test_the_best_plan_is_the_shortest_feasible_one() -> None:
    problem = line_problem(demands=(4, 4, 4, 4), capacity=10)
    over, long, short = Plan(((1, 2, 3, 4),)), Plan(((1, 3), (2, 4))), Plan(((1, 2), (3, 4)))
    assert best_of(problem, [over, long, short]) == short
    assert best_of(problem, [over]) == over
