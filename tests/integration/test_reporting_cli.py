"""`entrepot report ...`: the issue's command in its three formats, and clear errors with exit code 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.settings import get_settings
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
    assert "period,division,gmv,definition" in lines
    target = tmp_path / "gmv.parquet"
    parquet = runner.invoke(app, [*ARGS, "--format", "parquet", "--output", str(target)])
    assert parquet.exit_code == 0, parquet.output
    written = pq.read_table(target)
    assert written.column("division").to_pylist() == ["international-commerce-division"]
    assert b"entrepot.report" in written.schema.metadata


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--period", "FY22"], "unknown period 'FY22'"),
        (["--by", "planet"], "unknown dimension 'planet'"),
        (["--currency", "XQQ"], "XQQ"),
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
