"""`entrepot report ...`: the issue's command in its three formats, and clear errors with exit code 2."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import Result
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.platform.settings import get_settings
from tests.reporting_data import line, write_snapshot


@pytest.fixture
def snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_snapshot(
        tmp_path / "snap",
        [
            line(order_date=dt.date(2021, 9, 30), goods_minor=100_00),
            line(order_id=2, line_id=2, order_date=dt.date(2021, 10, 1), goods_minor=40_00, currency="CNY"),
        ],
    )
    monkeypatch.setenv("ENTREPOT_REPORTING_SNAPSHOT_DIR", str(root))
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


ARGS = ["report", "gmv", "--by", "division", "--period", "FY2022", "--view", "recast", "--currency", "USD"]


def test_table_csv_and_parquet(snapshot: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(app, [*ARGS, "--format", "table"])
    assert table.exit_code == 0, table.output
    assert "international-commerce-division" in table.output and "confirmed-gross" in table.output
    csv_out = runner.invoke(app, [*ARGS, "--format", "csv"])
    assert csv_out.exit_code == 0, csv_out.output
    lines = csv_out.output.splitlines()
    assert any(line.startswith("# view recast") for line in lines)
    assert any(line.startswith("# data as of 2026-11-25") for line in lines)
    assert "period,division,gmv,definition,coverage" in lines
    # the data covers two days of FY2022 (Lazada's only two sales): the export says so, row and header
    assert any(line.startswith("# period FY2022 is PARTIAL: data from 2021-09-30") for line in lines)
    partial = "partial: 2021-09-30 to 2021-10-01 (2 of 365 days)"
    assert lines[-1].endswith(f",confirmed-gross,{partial}")
    target = tmp_path / "gmv.parquet"
    parquet = runner.invoke(app, [*ARGS, "--format", "parquet", "--output", str(target)])
    assert parquet.exit_code == 0, parquet.output
    written = pq.read_table(target)
    assert written.column("division").to_pylist() == ["international-commerce-division"]
    assert written.column("coverage").to_pylist() == [partial]
    meta = json.loads(written.schema.metadata[b"entrepot.report"])
    assert meta["coverage"]["status"] == "partial" and meta["coverage"]["days"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--period", "FY22"], "unknown period 'FY22'"),
        (["--by", "planet"], "unknown dimension 'planet'"),
        (["--currency", "XQQ"], "XQQ"),
        (["--currency", "usd"], "usd"),  # as the API: an ISO 4217 code as written, never upper-cased
        (["--recast-on", "2021-02-30"], "--recast-on"),
        (["--format", "xlsx"], "unknown format 'xlsx'"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(snapshot: Path, change: list[str], message: str) -> None:
    args = list(ARGS)
    for i in range(0, len(change), 2):
        if change[i] in args:
            args[args.index(change[i]) + 1] = change[i + 1]
        else:
            args += change[i : i + 2]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def _one_error_line(result: Result, message: str) -> None:
    """Exit code 2 and one line "error: ..." holding the message (CliRunner mixes stderr into output)."""
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_an_unreadable_actuals_file_is_one_line(snapshot: Path, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("metric,scope\ngmv,caf\xe9\n".encode("latin-1"))
    for path, message in (
        (tmp_path / "nope.csv", f"no such file {tmp_path / 'nope.csv'}"),
        (tmp_path, f"{tmp_path} is a folder, not a CSV file"),
        (latin1, f"{latin1} is not UTF-8 text"),
    ):
        _one_error_line(CliRunner().invoke(app, ["report", "import-actuals", str(path)]), message)


def test_a_bad_actuals_row_is_one_line_naming_line_and_column(snapshot: Path, tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("metric,scope,period,currency,value,source\ngmv,lazada,FY2020\n")
    result = CliRunner().invoke(app, ["report", "import-actuals", str(short)])
    _one_error_line(result, "line 2, column currency: the row stops before the currency")


@pytest.mark.parametrize(
    "args",
    [
        ["gmv", "--period", "FY0001"],
        ["gmv", "--period", "LTM0001-01"],
        ["growth", "--period", "0001-03-01"],
        ["active-consumers", "--period", "FY0001"],
        ["history", "--first", "FY0001", "--last", "FY0002"],
    ],
)
def test_a_period_in_year_0_is_one_line(snapshot: Path, args: list[str]) -> None:
    _one_error_line(CliRunner().invoke(app, ["report", *args]), "year 0; dates run from year 1 to 9999")


def test_parquet_to_a_missing_folder_is_one_line(snapshot: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "gmv.parquet"
    result = CliRunner().invoke(app, [*ARGS, "--format", "parquet", "--output", str(target)])
    _one_error_line(result, f"cannot write {target}")


def test_a_snapshot_folder_that_is_a_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_the_way = tmp_path / "snapshot"
    in_the_way.write_text("")
    monkeypatch.setenv("ENTREPOT_REPORTING_SNAPSHOT_DIR", str(in_the_way))
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["report", "snapshot"])
    finally:
        get_settings.cache_clear()
    _one_error_line(result, f"the snapshot folder {in_the_way} is a file, not a folder")
    assert in_the_way.read_text() == ""
