"""The city day on the real map: seeded, with its peaks, orders only to open stores, door-to-door times as
the city's own matrix counts them; and `entrepot bench dispatch` as a user types it (a small day): the
summary line last, one clear line and exit code 2 for bad options. Skipped, saying why, without the
package that ships the map."""

from __future__ import annotations

import re

import numpy as np
import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.local_services import city as city_module
from entrepot.local_services.city import City, CityUnavailable, bundled_helsinki, current_city
from entrepot.local_services.citysim import COURIER_MODES, HOUR, CityTravel, doors, generate
from entrepot.local_services.roads import Mode

SUMMARY = re.compile(
    r"^dispatch orders=400 couriers=30 on_time=(\d\.\d{3}) p95_round_ms=[0-9.]+ "
    r"courier_minutes_per_order=([0-9.]+) greedy_ratio=([0-9.]+) greedy_on_time=\d\.\d{3} "
    r"greedy_courier_minutes_per_order=[0-9.]+ delivered=(\d+) period_s=60 seed=7 load1=[0-9.]+$"
)


@pytest.fixture(autouse=True)
def _shipped_city(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        bundled_helsinki()
    except CityUnavailable as missing:
        pytest.skip(str(missing))
    if "default" not in city_module._loaded:  # built once per process, into a test folder, not var/
        monkeypatch.setenv("ENTREPOT_CITY_DIR", str(tmp_path_factory.getbasetemp() / "city"))


@pytest.fixture(scope="module")
def city() -> City:
    return current_city()


def test_a_day_is_the_same_for_a_seed_and_another_for_another(city: City) -> None:
    first, again, other = (generate(city, seed, 500, 40) for seed in (5, 5, 6))
    assert first.orders == again.orders and first.couriers == again.couriers
    assert first.orders != other.orders


def test_orders_peak_at_lunch_and_dinner_and_go_to_open_stores(city: City) -> None:
    day = generate(city, 11, 4000, 100)
    hours = np.array([o.placed_at for o in day.orders]) / HOUR
    lunch, afternoon, dinner = (int(((hours >= a) & (hours < a + 1)).sum()) for a in (11.75, 15.0, 18.25))
    assert lunch > 2 * afternoon and dinner > 2 * afternoon
    for order in day.orders:
        assert day.stores[order.store].open_at(order.placed_at)
        assert 0 <= order.place < day.places
    assert {c.mode for c in day.couriers} == set(COURIER_MODES)


@pytest.mark.parametrize("mode", COURIER_MODES)
def test_door_to_door_times_are_the_city_matrix(city: City, mode: Mode) -> None:
    lat, lon = doors(city)
    every = np.arange(0, len(lat), max(1, len(lat) // 40), dtype=np.intp)
    travel = CityTravel(city, lat[every], lon[every])
    picked = np.arange(len(every), dtype=np.intp)
    points = [(float(lat[i]), float(lon[i])) for i in every]
    got = travel.matrix(mode, picked, picked)
    assert np.allclose(got, city.matrix(points, points, mode), atol=0.01)
    assert np.array_equal(travel.between(mode, picked, picked[::-1]), got[picked, picked[::-1]])


def test_bench_dispatch_prints_its_summary_line_last() -> None:
    result = CliRunner().invoke(
        app, ["bench", "dispatch", "--orders", "400", "--couriers", "30", "--period", "60"]
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    found = SUMMARY.match(last)
    assert found, last
    on_time, minutes, ratio, delivered = found.groups()
    assert 0.0 < float(on_time) <= 1.0 and float(minutes) > 0 and float(ratio) > 0
    assert 0 < int(delivered) <= 400


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--orders", "0"], "--orders and --couriers must be at least 1, not 0 and 800"),
        (["--period", "0.5"], "--period must be between 1 and 600 seconds, not 0.5"),
    ],
)
def test_bench_dispatch_refuses_bad_options_in_one_line(args: list[str], said: str) -> None:
    result = CliRunner().invoke(app, ["bench", "dispatch", *args])
    assert result.exit_code == 2
    assert said in result.output
