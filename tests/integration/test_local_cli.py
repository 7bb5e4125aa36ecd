"""`entrepot local solve-vrptw` and `entrepot bench vrptw` as a user types them: the one summary line
last, and one clear line with exit code 2 for a missing file, a bad file or a bad number. The standard
instances are used where ../shared/data/vrptw is there; a small instance written here otherwise."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.local_services.instances import default_data_dir
from entrepot.platform.settings import get_settings
from tests.api.test_local_station_routes import STATION, Station
from tests.unit.local_services.test_instances import TINY
from tests.world import World

SOLVED = re.compile(
    r"^vrptw instance=(\S+) cost=([0-9.]+) vehicles=(\d+) seconds=([0-9.]+) feasible=(true|false)$"
)
BENCH = re.compile(
    r"^vrptw set=solomon instances=1 mean_gap_pct=(-?[0-9.]+) max_gap_pct=\S+ seconds_each=[0-9.]+ "
    r"infeasible=0 pyvrp_gap_pct=\S+ pyvrp_infeasible=\d+ asked_seconds=1 workers=1 load1=[0-9.]+$"
)
DATA = default_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None, reason="no ../shared/data/vrptw: the standard instances are not shipped"
)


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output.strip().splitlines()


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY)
    return path


def test_an_instance_is_solved_in_two_processes_as_installed(tiny: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "entrepot.cli.main", "local", "solve-vrptw", str(tiny), "--seconds", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = SOLVED.match(done.stdout.strip().splitlines()[-1])
    assert said is not None, done.stdout
    assert said.group(1, 2, 3, 5) == ("TINY", "19.0", "2", "true")


@needs_data
def test_a_standard_instance_is_solved_and_compared_with_its_best_known(tmp_path: Path) -> None:
    assert DATA is not None
    code, lines = run(
        "local", "solve-vrptw", str(DATA / "solomon" / "C101.vrp"), "--seconds", "1", "--workers", "1"
    )
    assert code == 0
    said = SOLVED.match(lines[-1])
    assert said is not None and said.group(1) == "C101" and said.group(5) == "true"
    assert lines[-2].startswith("best known 827.3: gap ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--seconds", "0"), "--seconds must be greater than 0, not 0"),
        (("--seconds", "-1"), "--seconds must be greater than 0, not -1"),
        (("--seconds", "1", "--workers", "0"), "--workers must be at least 1, not 0"),
    ],
)
def test_a_bad_number_is_refused_in_one_line(tiny: Path, args: tuple[str, ...], said: str) -> None:
    assert run("local", "solve-vrptw", str(tiny), *args) == (2, [f"error: {said}"])


def test_a_missing_or_bad_file_is_refused_in_one_line(tmp_path: Path, tiny: Path) -> None:
    missing = tmp_path / "nowhere.vrp"
    assert run("local", "solve-vrptw", str(missing), "--seconds", "1") == (
        2,
        [f"error: {missing}: no such file"],
    )
    bad = tmp_path / "bad.vrp"
    bad.write_text(TINY.replace("CAPACITY : 10", "CAPACITY : lots"))
    code, lines = run("local", "solve-vrptw", str(bad), "--seconds", "1")
    assert (code, lines) == (2, ["error: bad.vrp: CAPACITY must be a whole number, not 'lots'"])


@needs_data
def test_the_benchmark_prints_its_summary_last() -> None:
    code, lines = run(
        "bench", "vrptw", "--set", "solomon", "--seconds", "1", "--instance", "C101", "--workers", "1"
    )
    assert code == 0, lines
    assert BENCH.match(lines[-1]), lines[-1]
    assert lines[-2].startswith("C101: best known 827.3, ours ")


def test_the_benchmark_skips_saying_why_without_the_instances(tmp_path: Path) -> None:
    code, lines = run("bench", "vrptw", "--set", "gh200", "--seconds", "1", "--data", str(tmp_path))
    assert code == 0
    assert lines[-1] == f"vrptw set=gh200 skipped=true reason=no_instances_in:{tmp_path}/gh200"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--set", "cvrp"), "--set must be one of solomon, gh200, not 'cvrp'"),
        (("--limit", "0"), "--limit must be at least 1, not 0"),
        (("--seconds", "0"), "--seconds must be greater than 0, not 0"),
    ],
)
def test_the_benchmark_refuses_bad_options_in_one_line(args: tuple[str, ...], said: str) -> None:
    assert run("bench", "vrptw", *args) == (2, [f"error: {said}"])


@needs_data
def test_the_benchmark_refuses_an_unknown_instance(tmp_path: Path) -> None:
    code, lines = run("bench", "vrptw", "--instance", "X999", "--seconds", "1")
    assert code == 2 and lines[0].startswith("error: not in ") and lines[0].endswith("solomon: X999")


@pytest.fixture
def waiting(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Station]:
    """Two parcels waiting at ds-sg-central, and the commands pointed at the world's database."""
    station = Station(world)
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    get_settings.cache_clear()
    yield station
    get_settings.cache_clear()


def test_a_station_day_is_planned_from_the_command_line(waiting: Station) -> None:
    starts = waiting.shift.isoformat()
    args = ("local", "plan-day", STATION, "--starts-at", starts, "--vehicles", "2", "--capacity-kg", "50")
    code, lines = run(*args, "--seconds", "0.5", "--workers", "1")
    assert code == 0, lines
    assert re.match(
        rf"^station-day station={STATION} routes=[12] parcels=2 unrouted=0 distance_km=[0-9.]+ "
        r"scans_recorded=4$",
        lines[-1],
    ), lines
    assert waiting.written()[2] == ["delivered", "delivered"]
    assert run("local", "record-due") == (0, ["0 scans recorded"])
    assert run(*args, "--seconds", "0.5", "--workers", "1")[1] == [
        f"error: {STATION}'s day starting {waiting.shift.astimezone(dt.UTC).isoformat()} is planned already"
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--starts-at", "tomorrow"), "--starts-at should be a valid datetime"),
        (("--vehicles", "0"), "--vehicles should be greater than 0"),
        (("--seconds", "0"), "--seconds must be greater than 0, not 0"),
    ],
)
def test_a_station_day_with_bad_options_is_refused_in_one_line(
    waiting: Station, args: tuple[str, ...], said: str
) -> None:
    base = {
        "--starts-at": waiting.shift.isoformat(),
        "--vehicles": "2",
        "--capacity-kg": "50",
        "--seconds": "0.5",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code, lines = run("local", "plan-day", STATION, *(word for pair in base.items() for word in pair))
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {said}"), lines
    assert waiting.written() == (0, 0, ["arrived", "arrived"])
