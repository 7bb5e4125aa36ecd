"""The same reports on Spark (pyspark, local mode) and on DuckDB return identical results.

Spark is the extra `entrepot[spark]`, which make test installs, and needs Java (17 or 21 for pyspark 4.0);
without either these tests fail with the reason, never skip."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.platform.settings import get_settings
from entrepot.reporting import engine, service
from entrepot.reporting.domain import FiscalCalendar, definition_named
from tests.reporting_data import fx, line, write_snapshot

FISCAL = FiscalCalendar(3)
# One process holds the Spark session for all of them (pytest-xdist's loadgroup).
pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    session = engine.spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def snapshot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(11)
    facts = []
    for i in range(400):
        day = dt.date(2021, 4, 1) + dt.timedelta(days=rng.randrange(365))
        facts.append(
            line(
                order_id=i,
                line_id=i,
                order_date=day,
                business_unit=rng.choice(["lazada", "taobao"]),
                currency=rng.choice(["USD", "CNY", "SGD", "THB", "EUR"]),
                seller_id=rng.choice([1, 2]),
                paid=rng.random() < 0.9,
                cancelled=rng.random() < 0.1,
                goods_minor=rng.randrange(10**7),
                goods_tax_minor=rng.randrange(10**5),
                shipping_minor=rng.randrange(10**4),
                returned_minor=rng.randrange(100),
                commission_minor=rng.randrange(10**5),
                category=rng.choice(["toys", "home"]),
            )
        )
    fees = [
        {
            "shipment_id": i,
            "order_date": dt.date(2021, 4, 1) + dt.timedelta(days=i),
            "business_unit": "lazada",
            "market": "lazada-sg",
            "market_country": "SG",
            "seller_id": 1,
            "currency": "USD",
            "fee_minor": 100 + i,
            "line": "logistics",
        }
        for i in range(300)
    ]
    return write_snapshot(tmp_path_factory.mktemp("spark"), facts, fees)


REQUESTS = [
    service.ReportRequest("FY2022", ("segment",), "quarter", "recast", None, "USD", "transaction-date"),
    service.ReportRequest("FY2022", ("division",), "month", "as-reported", None, "CNY", "period-average"),
    service.ReportRequest(
        "LTM2022-03", ("seller", "category"), "total", "recast", None, "EUR", "period-average"
    ),
]


def test_spark_and_duckdb_return_identical_reports(spark: Any, snapshot_root: Path) -> None:
    on_duckdb = service.Snapshot(snapshot_root)
    on_spark = service.Snapshot(snapshot_root, engine.ibis_spark(spark))
    rates, definitions = fx(), {"taobao": definition_named("net-merchandise")}
    for request in REQUESTS:
        ours = service.gmv_report(on_duckdb, request, FISCAL, rates, definitions).table.to_pylist()
        theirs = service.gmv_report(on_spark, request, FISCAL, rates, definitions).table.to_pylist()
        assert ours and ours == theirs, request
    request = service.ReportRequest("FY2022", ("segment",), "quarter", "as-reported", None, "USD")
    ours = service.revenue_report(on_duckdb, request, FISCAL, rates).table.to_pylist()
    theirs = service.revenue_report(on_spark, request, FISCAL, rates).table.to_pylist()
    assert ours and ours == theirs
    assert sum(r["logistics_minor"] for r in ours) == sum(100 + i for i in range(300) if i < 365)


def test_the_cli_runs_a_report_on_spark_as_on_duckdb(
    spark: Any, snapshot_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTREPOT_REPORTING_SNAPSHOT_DIR", str(snapshot_root))
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("ENTREPOT_CLOCK", "2022-06-30T00:00:00Z")
    get_settings.cache_clear()
    try:
        args = [
            "report",
            "gmv",
            "--period",
            "FY2022",
            "--by",
            "segment",
            "--every",
            "quarter",
            "--format",
            "csv",
        ]
        on_duckdb = CliRunner().invoke(app, args)
        on_spark = CliRunner().invoke(app, [*args, "--engine", "spark"])
    finally:
        get_settings.cache_clear()
    assert on_duckdb.exit_code == 0, on_duckdb.output
    assert on_spark.exit_code == 0, on_spark.output
    assert len(on_duckdb.stdout.splitlines()) > 2 and on_spark.stdout == on_duckdb.stdout
