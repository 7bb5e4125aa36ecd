"""Small problems written by hand, and where the standard instances are (when ../shared is there)."""

from __future__ import annotations

import numpy as np
import pytest

from entrepot.local_services.domain import Client, Depot, Fleet, Problem

# a depot at 0 and four clients on a line, one unit of time per unit of distance
LINE = (0, 10, 20, 30, 40)


def line_problem(
    windows: tuple[tuple[int, int], ...] = ((0, 100),) * 4,
    demands: tuple[int, ...] = (1, 1, 1, 1),
    capacity: int = 10,
    vehicles: int = 2,
    shift: int | None = None,
    closes: int = 200,
) -> Problem:
    xs = np.asarray(LINE)
    matrix = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    clients = tuple(
        Client(i, float(LINE[i]), 0.0, demands[i - 1], 5, windows[i - 1][0], windows[i - 1][1])
        for i in range(1, 5)
    )
    return Problem(
        "line", Depot(0.0, 0.0, 0, closes), clients, Fleet(vehicles, capacity, shift), matrix, matrix
    )


@pytest.fixture
def line() -> Problem:
    return line_problem()
