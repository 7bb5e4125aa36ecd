"""Spark is the optional extra `entrepot[spark]`: a plain install has no pyspark, and a report asked of
Spark without it is refused with what to install (problem+json 400 in the API, one line and exit 2 in the
CLI). With the extra (make test installs it), the same report on Spark equals DuckDB's: see
test_reporting_spark.py."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.platform.settings import get_settings
from tests.api.helpers import API, assert_problem
from tests.reporting_data import line, write_snapshot
from tests.world import World

INSTALL = "pip install 'entrepot[spark]'"


@pytest.fixture
def no_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where the extra is not installed: importing pyspark fails."""
    for name in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture
def snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_snapshot(tmp_path / "snap", [line(order_date=dt.date(2021, 9, 30), goods_minor=100_00)])
    monkeypatch.setenv("ENTREPOT_REPORTING_SNAPSHOT_DIR", str(root))
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


@pytest.mark.parametrize("report", ["gmv", "revenue"])
def test_the_cli_says_in_one_line_to_install_the_spark_extra(
    snapshot: Path, no_pyspark: None, report: str
) -> None:
    result = CliRunner().invoke(app, ["report", report, "--period", "FY2022", "--engine", "spark"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and INSTALL in lines[0], lines
    assert "Traceback" not in result.output


def test_the_cli_names_the_engines_it_knows(snapshot: Path) -> None:
    result = CliRunner().invoke(app, ["report", "gmv", "--period", "FY2022", "--engine", "hadoop"])
    assert result.exit_code == 2, result.output
    assert "unknown engine 'hadoop'" in result.output and "duckdb, spark" in result.output


@pytest.mark.parametrize("report", ["gmv", "revenue"])
def test_the_api_answers_a_problem_naming_the_extra(
    world: World, tmp_path: Path, no_pyspark: None, report: str
) -> None:
    client = world.client(reporting_snapshot_dir=str(tmp_path / "snapshot"), run_relay=False)
    response = client.get(
        f"{API}/reports/{report}",
        params={"period": "FY2022", "engine": "spark"},
        headers=world.auth("operator"),
    )
    body = assert_problem(response, 400, "spark-not-installed")
    assert INSTALL in body["detail"] and body["title"] == "Spark is not installed"
    unknown = client.get(
        f"{API}/reports/{report}",
        params={"period": "FY2022", "engine": "hadoop"},
        headers=world.auth("operator"),
    )
    assert "unknown engine 'hadoop'" in assert_problem(unknown, 422, "validation-failed")["detail"]
