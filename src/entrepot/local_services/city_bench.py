"""`entrepot bench city`: how fast the city is ready and answers. The map is built once from its extract
into a fresh folder (what a first start costs), then loaded from that cache as every later start does,
then many-to-many matrices of 100 x 100 and 1,000 x 1,000 distinct road nodes are computed per mode,
after the table of every pair for the modes whose network is small enough to keep one (timed apart: it
is what a process's first matrix of that mode costs).
Nodes are drawn with a seeded generator, so runs compare."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from entrepot.local_services.city import TABLE_MAX_NODES, City, CitySource, Point
from entrepot.local_services.roads import Mode


@dataclass(frozen=True)
class CityTimes:
    build_s: float
    load_s: float
    table_s: dict[Mode, float]  # a mode's table of every pair, built on its first matrix (small networks)
    matrix_s: dict[tuple[Mode, int], float]  # (mode, points a side): seconds, best of the repeats


def spread(city: City, mode: Mode, count: int, seed: int) -> list[Point]:
    """`count` distinct nodes of the mode's network (all of them if it has fewer): the hardest case for the
    matrix, which runs one search per distinct snapped node of its smaller side."""
    reachable = city.graphs[mode].reachable
    rng = np.random.default_rng(seed)
    pick = rng.choice(reachable, size=min(count, len(reachable)), replace=False)
    return [(float(city.lat[i]), float(city.lon[i])) for i in pick]


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def run(
    source: CitySource, modes: Sequence[Mode], sizes: Sequence[int], repeats: int, seed: int
) -> CityTimes:
    with tempfile.TemporaryDirectory(prefix="entrepot-city-") as folder:
        started = time.perf_counter()
        City.load(source, Path(folder))
        build_s = time.perf_counter() - started
        load_s = best_of(repeats, partial(City.load, source, Path(folder)))
        city = City.load(source, Path(folder))
    matrix_s: dict[tuple[Mode, int], float] = {}
    table_s: dict[Mode, float] = {}
    for mode in modes:
        if len(city.graphs[mode].reachable) <= TABLE_MAX_NODES:
            table_s[mode] = best_of(1, partial(city.table, mode))
        for size in sizes:
            sources, targets = spread(city, mode, size, seed), spread(city, mode, size, seed + 1)
            matrix_s[mode, size] = best_of(repeats, partial(city.matrix, sources, targets, mode))
    return CityTimes(build_s, load_s, table_s, matrix_s)
