"""`entrepot local ...`: last-mile routes (a standard VRPTW instance solved, a station's day planned);
and the benchmark command (`bench_vrptw`, registered in the `bench` group). Thin wrappers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli.errors import fail, failures
from entrepot.cli.output import stdout as console

app = typer.Typer(help="Local services: last-mile routes for delivery stations.", no_args_is_help=True)

SECONDS = typer.Option(help="wall-clock seconds to solve in")
WORKERS = typer.Option(help="solver processes, each searching from its own seed")


def _positive(seconds: float, workers: int) -> None:
    if not seconds > 0:
        raise fail(f"--seconds must be greater than 0, not {seconds:g}")
    if workers < 1:
        raise fail(f"--workers must be at least 1, not {workers}")


@app.command("solve-vrptw")
def solve_vrptw(
    instance: Annotated[Path, typer.Argument(help="a VRPLIB file (Solomon, Gehring-Homberger)")],
    seconds: Annotated[float, SECONDS] = 5.0,
    workers: Annotated[int, WORKERS] = 2,
) -> None:
    """Solve a standard VRPTW instance; prints `vrptw instance=... cost=... feasible=...` last, with the
    cost by the DIMACS convention (distances truncated to one decimal) so it compares with a `.sol`."""
    _positive(seconds, workers)
    from entrepot.local_services.domain import gap_pct
    from entrepot.local_services.instances import read_problem, read_solution
    from entrepot.local_services.solver import Solver

    with failures():
        problem = read_problem(instance)
    with Solver(workers) as solver:
        solved = solver.solve(problem, seconds)
    for said in solved.verdict.problems:
        console.print(f"infeasible: {said}", highlight=False)
    best = instance.with_suffix(".sol")
    if best.is_file():
        with failures():
            known = read_solution(best).cost
        console.print(f"best known {known:.1f}: gap {gap_pct(solved.cost, known):.3f}%", highlight=False)
    console.print(
        f"vrptw instance={problem.name} cost={solved.cost:.1f} vehicles={solved.vehicles} "
        f"seconds={solved.seconds:.2f} feasible={str(solved.verdict.feasible).lower()}",
        highlight=False,
    )


def bench_vrptw(
    set_name: Annotated[str, typer.Option("--set", help="solomon or gh200")] = "solomon",
    seconds: Annotated[float, SECONDS] = 5.0,
    limit: Annotated[int | None, typer.Option(help="only the first N instances, in name order")] = None,
    instances: Annotated[
        list[str] | None, typer.Option("--instance", help="only this instance (repeatable): C101, R1_2_1")
    ] = None,
    workers: Annotated[int, WORKERS] = 2,
    data: Annotated[
        Path | None, typer.Option(help="the vrptw folder (default: ../shared/data/vrptw)")
    ] = None,
) -> None:
    """Solve a standard instance set against its best-known solutions and plain PyVRP; prints
    `vrptw set=... mean_gap_pct=... pyvrp_gap_pct=...` last. Skips, saying why, without the data."""
    from entrepot.local_services.bench import SETS, instance_files, run
    from entrepot.local_services.instances import default_data_dir

    _positive(seconds, workers)
    if set_name not in SETS:
        raise fail(f"--set must be one of {', '.join(SETS)}, not {set_name!r}")
    if limit is not None and limit < 1:
        raise fail(f"--limit must be at least 1, not {limit}")
    root = data or default_data_dir()
    folder = None if root is None else root / set_name
    if folder is None or not folder.is_dir():
        where = "../shared/data/vrptw" if root is None else str(root)
        console.print(f"vrptw set={set_name} skipped=true reason=no_instances_in:{where}/{set_name}")
        return
    try:
        files = instance_files(folder, instances or [], limit)
    except ValueError as exc:
        raise fail(str(exc)) from None
    run(console, folder, set_name, files, seconds, workers)
