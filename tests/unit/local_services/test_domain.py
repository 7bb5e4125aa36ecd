"""The VRPTW rules: cost, the DIMACS distance, the schedule a route keeps, and what the checker refuses."""

from __future__ import annotations

import pytest

from entrepot.kernel.errors import ValidationFailed
from entrepot.local_services.domain import (
    Client,
    Plan,
    check,
    dimacs_matrix,
    gap_pct,
    plan_cost,
    schedule,
)
from tests.unit.local_services.conftest import line_problem


def test_dimacs_distances_are_tenths_truncated() -> None:
    matrix = dimacs_matrix([0, 3, 1], [0, 4, 1])
    assert matrix[0, 1] == 50  # 5.0 exactly
    assert matrix[0, 2] == 14  # sqrt(2) = 1.414... -> 1.4
    assert matrix[1, 2] == matrix[2, 1] == 36  # sqrt(13) = 3.605... -> 3.6, never rounded up


def test_cost_is_the_distance_of_the_used_routes(line) -> None:
    plan = Plan(((1, 2), (), (3, 4)))
    assert plan_cost(line, plan) == (10 + 10 + 20) + (30 + 10 + 40)


def test_gap_is_relative_to_the_best_known() -> None:
    assert gap_pct(101.0, 100.0) == pytest.approx(1.0)
    assert gap_pct(100.0, 100.0) == 0.0


def test_a_plan_serving_everyone_within_limits_is_feasible(line) -> None:
    verdict = check(line, Plan(((1, 2, 3, 4),)))
    assert verdict.feasible, verdict.problems


@pytest.mark.parametrize(
    ("plan", "said"),
    [
        (Plan(((1, 2, 3),)), "1 clients not served (first: 4)"),
        (Plan(((1, 2), (2, 3, 4))), "client 2 served 2 times"),
        (Plan(((1, 2, 3, 4, 9),)), "client 9 is not in the problem"),
        (Plan(((1,), (2,), (3, 4))), "3 routes for 2 vehicles"),
    ],
)
def test_every_client_once_and_no_more_routes_than_vehicles(line, plan, said) -> None:
    assert said in check(line, plan).problems


def test_a_vehicle_over_capacity_is_refused() -> None:
    problem = line_problem(demands=(4, 4, 4, 4), capacity=10)
    assert "route 1: load 12 over capacity 10" in check(problem, Plan(((1, 2, 3), (4,)))).problems
    assert check(problem, Plan(((1, 2), (3, 4)))).feasible


def test_a_service_after_its_window_closes_is_refused() -> None:
    # client 4 must be served by 30, but it is 40 away from the depot
    problem = line_problem(windows=((0, 100), (0, 100), (0, 100), (0, 30)))
    problems = check(problem, Plan(((1, 2, 3, 4),))).problems
    assert any("client 4 served at" in said for said in problems)


def test_waiting_for_a_window_to_open_is_allowed() -> None:
    problem = line_problem(windows=((50, 60), (0, 100), (0, 100), (0, 100)))
    times = schedule(problem, (1, 2))
    assert times.visits[0].starts == 50
    assert check(problem, Plan(((1, 2), (3, 4)))).feasible


def test_the_vehicle_leaves_as_late_as_its_windows_allow() -> None:
    # client 1 (10 away) opens at 50: leaving at 40 arrives just in time, so no wait counts against a shift
    problem = line_problem(windows=((50, 60), (0, 100), (0, 100), (0, 100)))
    times = schedule(problem, (1,))
    assert (times.departs, times.visits[0].arrives, times.returns) == (40, 50, 65)
    assert times.duration == 25


def test_a_route_longer_than_a_shift_is_refused() -> None:
    problem = line_problem(shift=50)
    assert any("longer than a shift of 50" in said for said in check(problem, Plan(((1, 2, 3, 4),))).problems)
    assert check(problem, Plan(((1, 2), (3, 4)))).problems == (
        "route 2: lasts 90, longer than a shift of 50",
    )


def test_returning_after_the_depot_closes_is_refused() -> None:
    problem = line_problem(closes=90)
    assert any(
        "after the depot closes at 90" in said for said in check(problem, Plan(((1, 2, 3, 4),))).problems
    )


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"demands": (1, 1, 11, 1)}, "demand 11 exceeds a vehicle's capacity 10"),
        ({"windows": ((0, 100), (60, 50), (0, 100), (0, 100))}, "its time window closes before it opens"),
        ({"vehicles": 0}, "at least one vehicle is needed"),
        ({"shift": 0}, "a shift must be longer than zero"),
    ],
)
def test_an_unsolvable_statement_is_refused_when_made(change, said) -> None:
    with pytest.raises(ValidationFailed) as refused:
        line_problem(**change)
    assert said in str(refused.value)


def test_clients_are_numbered_in_order(line) -> None:
    from dataclasses import replace

    with pytest.raises(ValidationFailed, match="client 3: is numbered 3 at position 2"):
        replace(line, clients=(line.clients[0], line.clients[2], line.clients[1], line.clients[3]))
    assert isinstance(line.client(2), Client)
