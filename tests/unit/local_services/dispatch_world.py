"""A toy world for dispatch tests: places on a grid, seconds by mode proportional to the Manhattan
distance, so every expected time can be worked out by hand."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from entrepot.local_services.ondemand import Courier, Store
from entrepot.local_services.roads import Mode

# seconds per grid step by mode: a scooter is quicker than an e-bike, a car slower in the centre
STEP_S = {Mode.EBIKE: 60.0, Mode.SCOOTER: 50.0, Mode.CAR: 70.0, Mode.WALKING: 200.0}
DAY = (0.0, 86_400.0)


class GridTravel:
    """Place i sits at `points[i]` (x, y) on a grid."""

    def __init__(self, points: list[tuple[int, int]]) -> None:
        self.xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)

    def matrix(
        self, mode: Mode, origins: NDArray[np.intp], destinations: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        steps = np.abs(self.xy[origins][:, None, :] - self.xy[destinations][None, :, :]).sum(axis=2)
        result: NDArray[np.float64] = steps * STEP_S[mode]
        return result

    def between(
        self, mode: Mode, origins: NDArray[np.intp], destinations: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        result: NDArray[np.float64] = (
            np.abs(self.xy[origins] - self.xy[destinations]).sum(axis=1) * STEP_S[mode]
        )
        return result


def store(id: int, place: int, prep_s: float = 600.0, opens: float = DAY[0], closes: float = DAY[1]) -> Store:
    return Store(id, place, opens, closes, prep_s)


def courier(id: int, place: int, mode: Mode = Mode.EBIKE, shift: tuple[float, float] = DAY) -> Courier:
    return Courier(id, mode, shift[0], shift[1], place)
