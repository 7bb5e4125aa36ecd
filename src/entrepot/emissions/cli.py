"""`entrepot emissions ...`: reports, scenarios, targets and factor tables; and the benchmark command
(`bench_emissions`, registered in the `bench` group)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Transport emissions to ISO 14083: reports, targets, scenarios.", no_args_is_help=True)
console = Console()


def bench_emissions(
    legs: Annotated[int, typer.Option(min=1, max=50_000_000, help="legs to compute")] = 1_000_000,
    reference_legs: Annotated[
        int, typer.Option(min=1, help="legs the row-by-row reference computes (its speed is per leg)")
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="seed of the drawn legs")] = 7,
) -> None:
    """ISO 14083 emissions of a million legs, vectorised, against the row-by-row library; prints
    `emissions legs=... seconds=... legs_per_s=... reference_ratio=...` last."""
    from entrepot.emissions.bench import run

    if not run(console, legs, reference_legs, seed):
        raise typer.Exit(1)
