"""`entrepot bench flash`: the flash-sale load and fault harness (see entrepot.simulation.bench_flash)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def bench_flash(
    stock: Annotated[int, typer.Option(help="units of the hot SKU in each sale")] = 1000,
    buyers: Annotated[int, typer.Option(help="buyers rushing the batched sale, one unit each")] = 20_000,
    concurrency: Annotated[int, typer.Option(help="concurrent HTTP clients")] = 256,
    workers: Annotated[int, typer.Option(help="API server processes, one port each")] = 2,
    kill_worker: Annotated[bool, typer.Option(help="SIGKILL one API server mid-run")] = False,
    database_url: Annotated[str, typer.Option(envvar="ENTREPOT_BENCH_DATABASE_URL")] = (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
) -> None:
    """One hot SKU rushed over HTTP, batched against the naive row lock; prints `flash ...` last."""
    if min(stock, buyers, concurrency, workers) < 1 or (kill_worker and workers < 2):
        console.print(
            "[red]error:[/red] stock, buyers, concurrency and workers must be at least 1,"
            " and --kill-worker needs --workers 2 or more"
        )
        raise typer.Exit(2)
    from entrepot.simulation.bench_flash import run

    run(console, database_url, stock, buyers, concurrency, workers, kill_worker)
