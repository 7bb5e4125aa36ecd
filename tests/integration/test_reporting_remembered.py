"""Reports remembered between requests (reporting.sources): asked again with the same inputs they are the
same answer, and any input changing (the snapshot rewritten, a rate loaded, a definition set) gives a
report computed afresh, never the remembered one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from entrepot.kernel.ecb import PublishedRate
from entrepot.kernel.fx import FxRates
from entrepot.reporting import engine, service
from entrepot.reporting.domain import FiscalCalendar, definition_named
from entrepot.reporting.sources import RememberedReports, Sources
from tests.reporting_data import fx, line, write_snapshot

FISCAL = FiscalCalendar(3)
FY2022 = service.ReportRequest("FY2022")


def _sources(root: Path, rates: FxRates | None = None, **definitions: str) -> Sources:
    named = {unit: definition_named(name) for unit, name in definitions.items()}
    return Sources(service.Snapshot(root), rates or fx(), named, FISCAL)


def _gmv(report: service.Report) -> str:
    [row] = report.rows()
    return str(row["gmv"])


def _one_sale(root: Path, goods_minor: int) -> Path:
    return write_snapshot(root, [line(order_date=dt.date(2021, 6, 1), goods_minor=goods_minor)])


def test_the_same_question_is_answered_once(tmp_path: Path) -> None:
    reports, inputs = RememberedReports(), _sources(_one_sale(tmp_path, 118_900))
    first = reports.gmv(inputs, FY2022)
    assert reports.gmv(_sources(tmp_path), FY2022) is first  # a new request opening the same files
    fresh = service.gmv_report(inputs.snap, FY2022, FISCAL, inputs.rates, {})
    assert _gmv(first) == _gmv(fresh) == "1189.00"


def test_a_rewritten_snapshot_is_read_again(tmp_path: Path) -> None:
    reports = RememberedReports()
    assert _gmv(reports.gmv(_sources(_one_sale(tmp_path, 118_900)), FY2022)) == "1189.00"
    assert _gmv(reports.gmv(_sources(_one_sale(tmp_path, 200_000)), FY2022)) == "2000.00"


def test_a_rate_loaded_or_a_definition_set_is_a_new_question(tmp_path: Path) -> None:
    reports, rates = RememberedReports(), fx()
    root = write_snapshot(
        tmp_path, [line(order_date=dt.date(2021, 6, 1), goods_minor=100_000, currency="SGD")]
    )
    before = reports.gmv(_sources(root, rates), FY2022)
    rates.book.add([PublishedRate("SGD", dt.date(2021, 6, 1), Decimal("3.2"))])  # as `entrepot fx load`
    after = reports.gmv(_sources(root, rates), FY2022)
    assert after is not before and _gmv(after) != _gmv(before)
    redefined = reports.gmv(_sources(root, rates, lazada="net-merchandise"), FY2022)
    assert redefined is not after


def test_another_engine_is_asked_every_time(tmp_path: Path) -> None:
    root, reports = _one_sale(tmp_path, 118_900), RememberedReports()
    other = Sources(service.Snapshot(root, engine.ibis_duckdb()), fx(), {}, FISCAL)
    assert reports.gmv(other, FY2022) is not reports.gmv(other, FY2022)


def test_the_least_recently_asked_is_forgotten_first(tmp_path: Path) -> None:
    reports, inputs = RememberedReports(size=2), _sources(_one_sale(tmp_path, 118_900))
    fy2022, fy2021, fy2023 = (service.ReportRequest(f"FY{year}") for year in (2022, 2021, 2023))
    first, second = reports.gmv(inputs, fy2022), reports.gmv(inputs, fy2021)
    assert reports.gmv(inputs, fy2022) is first  # asked again: now the most recent
    reports.gmv(inputs, fy2023)  # FY2021 goes
    assert reports.gmv(inputs, fy2022) is first
    assert reports.gmv(inputs, fy2021) is not second
