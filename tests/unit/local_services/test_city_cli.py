"""`entrepot local city`, `entrepot local route` and `entrepot bench city` as a user types them: the one
summary line last, and one clear line with exit code 2 for an unknown address, a point off the map, a
bad mode or a bad point. Skipped, saying why, without the package that ships the map."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.local_services import city as city_module
from entrepot.local_services.city import CityUnavailable, bundled_helsinki

CITY = re.compile(
    r"^city key=helsinki nodes=\d+ edges=\d+ addresses=\d+ attribution=©_OpenStreetMap_contributors$"
)
ROUTE = re.compile(r"^route mode=(\w+) seconds=(\d+) minutes=[0-9.]+ metres=(\d+) nodes=\d+$")


@pytest.fixture(autouse=True)
def _shipped_city(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        bundled_helsinki()
    except CityUnavailable as missing:
        pytest.skip(str(missing))
    if "default" not in city_module._loaded:  # built once per process, into a test folder, not var/
        monkeypatch.setenv("ENTREPOT_CITY_DIR", str(tmp_path_factory.getbasetemp() / "city"))


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output.strip().splitlines()


def test_city_says_what_map_it_is_and_credits_it() -> None:
    code, lines = run("local", "city")
    assert code == 0, lines
    assert any("© OpenStreetMap contributors, licence ODbL-1.0" in line for line in lines)
    assert CITY.match(lines[-1]), lines[-1]


def test_route_between_addresses_or_points_prints_its_time() -> None:
    code, lines = run("local", "route", "Kaivokatu 1", "Mikonkatu 18", "--mode", "car")
    assert code == 0, lines
    assert lines[0] == "from Kaivokatu 1, 00100 Helsinki to Mikonkatu 18, 00100 Helsinki by car"
    found = ROUTE.match(lines[-1])
    assert found and found.group(1) == "car" and 0 < int(found.group(2)) < 1800, lines[-1]
    code, lines = run("local", "route", "60.1710,24.9414", "60.1675, 24.9527", "--mode", "walking")
    assert code == 0, lines
    assert ROUTE.match(lines[-1]) and "by walking" in lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("Kaivokatu 1", "Nowhere 5"), "error: no street or address 'Nowhere 5'"),
        (("Kaivokatu 1", "60.10,24.95"), "error: 1 point(s) off the map"),
        (("Kaivokatu 1", "Mikonkatu 18", "--mode", "rocket"), "error: --mode must be one of"),
        (("Kaivokatu 1", "95.0,24.9"), "error: '95.0,24.9' is not a latitude,longitude"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    code, lines = run("local", "route", *args)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(says), lines


def test_bench_city_prints_its_summary_last() -> None:
    code, lines = run("bench", "city", "--mode", "car", "--repeats", "1")
    assert code == 0, lines
    assert re.match(
        r"^city key=helsinki build_s=[0-9.]+ load_s=[0-9.]+ matrix100_ms=\d+ matrix1000_s=[0-9.]+ "
        r"tables_s=[0-9.]+ modes=car repeats=1$",
        lines[-1],
    ), lines[-1]
    assert run("bench", "city", "--repeats", "0")[0] == 2
