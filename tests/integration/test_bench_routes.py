"""`entrepot bench routes` at a tiny size: it runs and its last line has every key with a number.

No timing thresholds: the benchmark measures, it does not assert (see the README's Performance section).
"""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console

from entrepot.simulation.bench_routes import run

KEYS = (
    "queries",
    "p50_ms",
    "p99_ms",
    "pareto_avg",
    "networkx_ratio",
    "shipments_per_min",
    "nodes",
    "lanes",
    "precompute_s",
    "precompute_mb",
    "bounds_ms",
    "bounds_searched_ms",
    "epsilon",
    "cover_checked",
    "cover_violations",
)


def test_last_line_has_every_key_with_a_number(capsys: pytest.CaptureFixture[str]) -> None:
    summary = io.StringIO()
    run(Console(file=summary, width=120), 300, 3_000, 10, 7, 1.2, shipments=30, throughput_seconds=5.0)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    name, *fields = last.split()
    assert name == "routes"
    values = dict(field.split("=", 1) for field in fields)
    assert tuple(values) == KEYS
    numbers = {key: float(value) for key, value in values.items()}
    assert all(math.isfinite(number) and number >= 0 for number in numbers.values())
    assert numbers["queries"] == 10
    assert (numbers["nodes"], numbers["lanes"]) == (300, 3_000)
    assert numbers["shipments_per_min"] > 0
    assert numbers["cover_checked"] > 0 and numbers["cover_violations"] == 0  # checked in this run
    assert numbers["precompute_mb"] > 0  # the bounds were computed ahead, and their memory is shown
    assert numbers["bounds_ms"] > 0 and numbers["bounds_searched_ms"] > 0  # both measured in this run
    assert "without a route" in summary.getvalue()  # failures are reported, never hidden
