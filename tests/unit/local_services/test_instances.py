"""Reading VRPLIB instance files and `.sol` solutions, and refusing what is not one, naming why."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrepot.kernel.errors import NotFound
from entrepot.local_services.domain import check, reported_cost
from entrepot.local_services.instances import BadInstance, default_data_dir, read_problem, read_solution

TINY = """NAME : TINY
TYPE : CVRPTW
DIMENSION : 4
VEHICLES : 2
CAPACITY : 10
SERVICE_TIME : 5
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 3 4
3 0 7
4 1 1
DEMAND_SECTION
1 0
2 4
3 6
4 3
TIME_WINDOW_SECTION
1 0 100
2 0 50
3 10 60
4 0 100
DEPOT_SECTION
1
-1
EOF
"""


def written(tmp_path: Path, text: str, name: str = "tiny.vrp") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_instance_is_read_in_tenths(tmp_path: Path) -> None:
    problem = read_problem(written(tmp_path, TINY))
    assert (problem.name, problem.size, problem.scale) == ("TINY", 3, 10)
    assert (problem.fleet.vehicles, problem.fleet.capacity, problem.fleet.shift) == (2, 10, None)
    first = problem.client(1)
    assert (first.demand, first.service, first.earliest, first.latest) == (4, 50, 0, 500)
    assert (problem.depot.opens, problem.depot.closes) == (0, 1000)
    assert problem.distance[0, 1] == 50 and problem.distance[0, 3] == 14
    assert problem.duration is problem.distance


def test_a_solution_is_read_and_checked(tmp_path: Path) -> None:
    problem = read_problem(written(tmp_path, TINY))
    known = read_solution(written(tmp_path, "Route #1: 1 2\nRoute #2: 3\nCost 20.0\n", "tiny.sol"))
    assert known.plan.routes == ((1, 2), (3,))
    assert check(problem, known.plan).feasible
    # 0 -> (3,4) -> (0,7) -> 0: 5.0 + 4.2 (sqrt 18 = 4.24...) + 7.0; 0 -> (1,1) -> 0: 1.4 twice
    assert reported_cost(problem, known.plan) == pytest.approx(19.0)


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (("EUC_2D", "EXPLICIT"), "only EUC_2D distances are read"),
        (("DIMENSION : 4", "DIMENSION : 5"), "NODE_COORD_SECTION has 4 rows for a DIMENSION of 5"),
        (("CAPACITY : 10", "CAPACITY : ten"), "CAPACITY must be a whole number"),
        (("3 10 60", "3 10 x"), "TIME_WINDOW_SECTION has a value that is not a number"),
        (("3 10 60", "3 60 10"), "its time window closes before it opens"),
        (("3 6\n", "3 60\n"), "demand 60 exceeds a vehicle's capacity 10"),
        (("1\n-1", "2\n-1"), "the depot must be node 1"),
        (("4 1 1", "5 1 1"), "row 4 should be node 4"),
        (("DEMAND_SECTION", "DEMANDS_SECTION"), "no DEMAND_SECTION"),
    ],
)
def test_a_bad_instance_is_refused_naming_why(tmp_path: Path, edit: tuple[str, str], said: str) -> None:
    with pytest.raises(BadInstance, match=said):
        read_problem(written(tmp_path, TINY.replace(*edit)))


def test_text_that_is_not_vrplib_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInstance, match="line 1 is neither"):
        read_problem(written(tmp_path, "hello world\n"))
    binary = tmp_path / "binary.vrp"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInstance, match="cannot be read as text"):
        read_problem(binary)


def test_a_missing_file_is_not_found_and_a_folder_is_no_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        read_problem(tmp_path / "nowhere.vrp")
    with pytest.raises(BadInstance, match="a folder, not an instance file"):
        read_problem(tmp_path)


def test_a_solution_without_routes_or_cost_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInstance, match="needs 'Route #k:' lines and a 'Cost' line"):
        read_solution(written(tmp_path, "Route #1: 1 2\n", "x.sol"))


def standard_files() -> list[Path]:
    folder = default_data_dir()
    return [] if folder is None else sorted(folder.glob("*/*.vrp"))


@pytest.mark.skipif(
    not standard_files(), reason="no ../shared/data/vrptw: the standard instances are not shipped"
)
def test_every_best_known_solution_is_feasible_at_its_stated_cost() -> None:
    for path in standard_files():
        problem = read_problem(path)
        known = read_solution(path.with_suffix(".sol"))
        assert check(problem, known.plan).feasible, path.name
        assert reported_cost(problem, known.plan) == pytest.approx(known.cost, abs=1e-6), path.name
