"""A station's day as a VRPTW: metres by road between the station and the doors, seconds at the vans'
speed, the shift as depot hours and route limit; and what the solver makes of it keeps every van within
its capacity, every booked window and the shift, counted here again from the plan's own times."""

from __future__ import annotations

import pytest

from entrepot.local_services.domain import Drop, StationDay, road_metres, schedule, station_problem
from entrepot.local_services.solver import Solver
from entrepot.logistics.domain import ROAD_DETOUR, great_circle_km

STATION = (1.30, 103.84)
SHIFT_S = 4 * 3600


def day(vehicles: int = 6, capacity_g: int = 12_000) -> StationDay:
    return StationDay(*STATION, vehicles, capacity_g, SHIFT_S, speed_kmh=30.0, handover_s=120)


def drops() -> list[Drop]:
    """Twelve doors around the station, 3-5.75 kg each (52.5 kg in all, for six vans of 12 kg); five with
    an hour's slot."""
    doors = []
    for i in range(12):
        lat, lon = STATION[0] + 0.01 * ((i % 4) - 1.5), STATION[1] + 0.012 * ((i // 4) - 1)
        slot = (3600 * (i % 3), 3600 * (i % 3 + 1)) if i % 3 == 0 or i == 4 else (0, SHIFT_S)
        doors.append(Drop(f"shp_{i}", lat, lon, 3000 + 250 * i, *slot))
    return doors


def test_distances_are_metres_by_road_and_times_follow_the_speed() -> None:
    problem = station_problem("ds", day(), drops())
    metres = great_circle_km(*STATION, drops()[0].latitude, drops()[0].longitude) * ROAD_DETOUR * 1000
    assert problem.distance[0, 1] == round(metres)
    assert problem.duration[0, 1] == -(-problem.distance[0, 1] * 3600 // 30_000)  # ceil at 30 km/h
    assert (problem.depot.opens, problem.depot.closes, problem.fleet.shift, problem.scale) == (
        0,
        SHIFT_S,
        SHIFT_S,
        1000,
    )
    assert road_metres([1.0], [2.0]).tolist() == [[0]]


def test_the_routes_keep_capacity_windows_and_shift() -> None:
    problem = station_problem("ds", day(), drops())
    solved = Solver(workers=1).solve(problem, 1.0)
    assert solved.verdict.feasible, solved.verdict.problems
    served = sorted(n for route in solved.plan.used for n in route)
    assert served == list(range(1, 13))
    for route in solved.plan.used:
        assert sum(drops()[n - 1].weight_g for n in route) <= 12_000
        times = schedule(problem, route)
        assert times.departs >= 0 and times.returns <= SHIFT_S and times.duration <= SHIFT_S
        for visit in times.visits:
            door = drops()[visit.client - 1]
            assert door.earliest_s <= visit.starts <= door.latest_s


def test_a_parcel_heavier_than_a_van_is_refused_when_stated() -> None:
    from entrepot.kernel.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="exceeds a vehicle's capacity"):
        station_problem("ds", day(capacity_g=1000), drops())
