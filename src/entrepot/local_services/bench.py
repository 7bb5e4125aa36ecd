"""`entrepot bench vrptw`: our solver on a standard instance set, against the best-known solutions and
against plain PyVRP on the same instances, in the same run.

For each instance, in turn (never side by side, so neither takes the other's core): our solve
(`solver.Solver`, its worker processes started once before the first instance), then PyVRP called as its
documentation shows (one process, default settings, `MaxRuntime(seconds)`). Both plans are judged by
`domain.check`; a gap counts only for a feasible plan, an infeasible one is counted apart. Costs follow
the DIMACS convention, as the `.sol` files do. `seconds_each` is the longest wall-clock time one of our
solves took, start of the call to plan judged.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from entrepot.local_services.domain import gap_pct
from entrepot.local_services.instances import read_problem, read_solution
from entrepot.local_services.solver import Solved, Solver, judged, plain_pyvrp

SETS = ("solomon", "gh200")


@dataclass(frozen=True)
class Outcome:
    name: str
    ours: Solved
    plain: Solved
    best_known: float

    def gap(self, solved: Solved) -> float | None:
        return gap_pct(solved.cost, self.best_known) if solved.verdict.feasible else None


def instance_files(folder: Path, names: Sequence[str], limit: int | None) -> list[Path]:
    """The set's instances with a `.sol` beside them, in name order: those named, or the first `limit`."""
    files = sorted(path for path in folder.glob("*.vrp") if path.with_suffix(".sol").is_file())
    if names:
        wanted = {name.removesuffix(".vrp") for name in names}
        unknown = wanted - {path.stem for path in files}
        if unknown:
            raise ValueError(f"not in {folder}: {', '.join(sorted(unknown))}")
        files = [path for path in files if path.stem in wanted]
    return files[:limit] if limit is not None else files


def solve_one(path: Path, solver: Solver, seconds: float) -> Outcome:
    problem = read_problem(path)
    best_known = read_solution(path.with_suffix(".sol")).cost
    ours = solver.solve(problem, seconds)
    started = time.monotonic()
    plain_plan = plain_pyvrp(problem, seconds)
    plain = judged(problem, plain_plan, time.monotonic() - started)
    return Outcome(problem.name, ours, plain, best_known)


def describe(outcome: Outcome) -> str:
    def said(solved: Solved) -> str:
        gap = outcome.gap(solved)
        return f"{solved.cost:.1f} ({'infeasible' if gap is None else f'{gap:.3f}%'}, {solved.seconds:.2f}s)"

    known = f"best known {outcome.best_known:.1f}"
    return f"{outcome.name}: {known}, ours {said(outcome.ours)}, pyvrp {said(outcome.plain)}"


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def summary(set_name: str, outcomes: Sequence[Outcome], seconds: float, workers: int) -> str:
    ours = [g for o in outcomes if (g := o.gap(o.ours)) is not None]
    plain = [g for o in outcomes if (g := o.gap(o.plain)) is not None]
    infeasible = sum(not o.ours.verdict.feasible for o in outcomes)
    longest = max((o.ours.seconds for o in outcomes), default=0.0)
    return (
        f"vrptw set={set_name} instances={len(outcomes)} mean_gap_pct={mean(ours):.3f} "
        f"max_gap_pct={max(ours, default=float('nan')):.3f} seconds_each={longest:.2f} "
        f"infeasible={infeasible} pyvrp_gap_pct={mean(plain):.3f} "
        f"pyvrp_infeasible={sum(not o.plain.verdict.feasible for o in outcomes)} "
        f"asked_seconds={seconds:g} workers={workers} load1={os.getloadavg()[0]:.2f}"
    )


def run(
    console: Console, folder: Path, set_name: str, files: Sequence[Path], seconds: float, workers: int
) -> None:
    console.print(f"{len(files)} instances of {folder}, {seconds:g} s each, {workers} solver processes")
    outcomes: list[Outcome] = []
    with Solver(workers) as solver:
        for path in files:
            outcomes.append(solve_one(path, solver, seconds))
            console.print(describe(outcomes[-1]), highlight=False)
    console.print(summary(set_name, outcomes, seconds, workers), highlight=False)
