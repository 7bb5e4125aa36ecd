"""`entrepot bench dispatch`: a city day through our dispatch and the greedy baseline
(see entrepot.local_services.dispatch_bench). A thin wrapper."""

from __future__ import annotations

from typing import Annotated

import typer

from entrepot.cli.errors import fail, failures
from entrepot.cli.output import stdout as console


def bench_dispatch(
    orders: Annotated[int, typer.Option(help="orders in the day (lunch and dinner peaks)")] = 20_000,
    couriers: Annotated[int, typer.Option(help="couriers, on lunch, dinner and long shifts")] = 800,
    seed: Annotated[int, typer.Option(help="the day's stores, couriers, orders and ride noise")] = 7,
    period: Annotated[float, typer.Option(help="seconds between dispatch rounds")] = 15.0,
) -> None:
    """Play a city day of on-demand orders through our dispatch and a greedy baseline on the real map;
    prints `dispatch orders=... on_time=... p95_round_ms=... greedy_ratio=...` last."""
    if orders < 1 or couriers < 1:
        raise fail(f"--orders and --couriers must be at least 1, not {orders} and {couriers}")
    if not 1.0 <= period <= 600.0:
        raise fail(f"--period must be between 1 and 600 seconds, not {period:g}")
    from entrepot.local_services.dispatch_bench import run
    from entrepot.local_services.dispatch_match import DispatchRules

    with failures():
        run(console, orders, couriers, seed, DispatchRules(period_s=period))
