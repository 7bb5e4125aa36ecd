"""Reports over small hand-made snapshots: each GMV definition, each view and each FX method computed by
hand; properties (recast == as reported, LTM == its twelve months); precise errors."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrepot.kernel.errors import ValidationFailed
from entrepot.reporting import service
from entrepot.reporting.domain import FiscalCalendar, GmvDefinition, definition_named
from entrepot.reporting.rates import daily_factor
from tests.reporting_data import fx, line, sale_lines, sales_strategy, write_snapshot

FISCAL = FiscalCalendar(3)
FX = fx()


def gmv(
    root: Path, definitions: dict[str, GmvDefinition] | None = None, **request: Any
) -> dict[tuple[Any, ...], int]:
    snap = service.Snapshot(root)
    report = service.gmv_report(snap, service.ReportRequest(**request), FISCAL, FX, definitions or {})
    rows = report.table.to_pylist()
    return {tuple(r[c] for c in ("period", *request.get("by", ()))): r["gmv_minor"] for r in rows}


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    """Four USD orders: paid (goods 1000 + tax 90 + shipping 200 + its tax 18, 300 refunded), unpaid (500 +
    45), cancelled after payment (700 + 63), and a paid two-line order (100 + 9 and 50 + 4)."""
    return write_snapshot(
        tmp_path,
        [
            line(
                order_id=1,
                goods_minor=1000,
                goods_tax_minor=90,
                shipping_minor=200,
                shipping_tax_minor=18,
                returned_minor=300,
            ),
            line(order_id=2, line_id=2, paid=False, goods_minor=500, goods_tax_minor=45),
            line(order_id=3, line_id=3, cancelled=True, goods_minor=700, goods_tax_minor=63),
            line(order_id=4, line_id=4, goods_minor=100, goods_tax_minor=9),
            line(order_id=4, line_id=5, goods_minor=50, goods_tax_minor=4),
        ],
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("confirmed-gross", 1308 + 545 + 763 + 109 + 54),  # everything confirmed, with shipping and tax
        ("paid-gross", 1308 + 763 + 109 + 54),  # the unpaid order left out
        ("net-merchandise", (1000 - 300) + 100 + 50),  # paid, not cancelled, goods before tax, less refunds
    ],
)
def test_each_gmv_definition_by_hand(orders: Path, name: str, expected: int) -> None:
    result = gmv(orders, {"lazada": definition_named(name)}, period="FY2022", currency="USD")
    assert result == {("FY2022",): expected}


def test_a_definition_per_business_unit_labels_each_row(tmp_path: Path) -> None:
    root = write_snapshot(
        tmp_path,
        [
            line(business_unit="lazada", paid=False, goods_minor=100),
            line(business_unit="taobao", order_id=2, line_id=2, paid=False, goods_minor=100),
        ],
    )
    snap = service.Snapshot(root)
    request = service.ReportRequest("FY2022", ("business_unit",), currency="USD")
    report = service.gmv_report(snap, request, FISCAL, FX, {"taobao": definition_named("paid-gross")})
    rows = {r["business_unit"]: (r["gmv_minor"], r["definition"]) for r in report.table.to_pylist()}
    assert rows == {"lazada": (100, "confirmed-gross"), "taobao": (0, "paid-gross")}
    total = service.gmv_report(
        snap,
        service.ReportRequest("FY2022", currency="USD"),
        FISCAL,
        FX,
        {"taobao": definition_named("paid-gross")},
    )
    assert total.table.to_pylist()[0]["definition"] == "mixed"
    assert report.meta["definitions"]["taobao"].startswith("paid-gross: paid orders")


@pytest.fixture
def reorganised(tmp_path: Path) -> Path:
    """Lazada sells 100 in September and 40 in October 2021; Taobao 7 in October. The reorganisation
    moved both out of core commerce on 1 October 2021."""
    return write_snapshot(
        tmp_path,
        [
            line(order_date=dt.date(2021, 9, 30), goods_minor=100),
            line(order_id=2, line_id=2, order_date=dt.date(2021, 10, 1), goods_minor=40),
            line(
                order_id=3, line_id=3, order_date=dt.date(2021, 10, 2), goods_minor=7, business_unit="taobao"
            ),
        ],
    )


def test_as_reported_shows_each_quarter_under_its_own_structure(reorganised: Path) -> None:
    result = gmv(reorganised, period="FY2022", by=("segment",), grain="quarter", view="as-reported")
    assert result == {
        ("FY2022Q2", "core-commerce"): 100,
        ("FY2022Q3", "international-commerce"): 40,
        ("FY2022Q3", "china-commerce"): 7,
    }


def test_recast_shows_every_quarter_under_one_structure(reorganised: Path) -> None:
    after = gmv(reorganised, period="FY2022", by=("segment",), grain="quarter", view="recast")
    assert after[("FY2022Q2", "international-commerce")] == 100
    before = gmv(
        reorganised,
        period="FY2022",
        by=("segment",),
        grain="quarter",
        view="recast",
        recast_on=dt.date(2021, 9, 1),
    )
    assert before == {("FY2022Q2", "core-commerce"): 100, ("FY2022Q3", "core-commerce"): 47}


def test_transaction_date_translates_each_day_at_its_rate(tmp_path: Path) -> None:
    days = [dt.date(2021, 6, 1), dt.date(2021, 6, 2)]
    root = write_snapshot(
        tmp_path,
        [
            line(order_id=i, line_id=i, order_date=d, currency="CNY", goods_minor=123_456)
            for i, d in enumerate(days)
        ],
    )
    expected = sum(
        _round(123_456 * daily_factor(FX, "CNY", "USD", d).quantize(Decimal("1e-10"))) for d in days
    )
    assert gmv(root, period="2021-06", currency="USD") == {("2021-06",): expected}


def test_period_average_translates_the_month_at_its_mean_rate(tmp_path: Path) -> None:
    root = write_snapshot(
        tmp_path, [line(currency="CNY", goods_minor=1_000_000, order_date=dt.date(2021, 6, 15))]
    )
    june = [dt.date(2021, 6, d) for d in range(1, 31)]
    mean = sum((daily_factor(FX, "CNY", "USD", d) for d in june), Decimal(0)) / 30
    expected = _round(1_000_000 * mean.quantize(Decimal("1e-10")))
    assert gmv(root, period="2021-06", currency="USD", fx_method="period-average") == {("2021-06",): expected}
    assert expected != gmv(root, period="2021-06", currency="USD")[("2021-06",)]  # a different rate


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"period": "FY22"}, "period"),
        ({"period": "2021-13"}, "period"),
        ({"period": "FY2022", "by": ("planet",)}, "by"),
        ({"period": "FY2022", "currency": "XYZ"}, "currency"),
        ({"period": "FY2022", "currency": "usd"}, "currency"),
        ({"period": "FY2022", "view": "restated"}, "view"),
        ({"period": "FY2022", "fx_method": "spot"}, "fx_method"),
        ({"period": "FY2022", "grain": "week"}, "grain"),
        ({"period": "FY2022", "by": ("segment", "division")}, "by"),
    ],
)
def test_bad_requests_get_precise_errors(orders: Path, request_fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        gmv(orders, **request_fields)
    assert [e.field for e in caught.value.field_errors] == [field], caught.value.detail


rows_strategy = sales_strategy(dt.date(2021, 4, 1), dt.date(2022, 3, 31), ["USD", "CNY", "SGD", "EUR"], 0, 25)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, fx_method=st.sampled_from(["transaction-date", "period-average"]))
def test_recast_totals_equal_as_reported_totals(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Any], fx_method: str
) -> None:
    root = write_snapshot(
        tmp_path_factory.mktemp("prop"),
        sale_lines(rows),
    )
    common = {"period": "FY2022", "by": ("segment",), "grain": "quarter", "fx_method": fx_method}
    reported = gmv(root, view="as-reported", **common)
    recast = gmv(root, view="recast", **common)
    for quarter in {k[0] for k in reported}:
        assert sum(v for k, v in reported.items() if k[0] == quarter) == sum(
            v for k, v in recast.items() if k[0] == quarter
        )
    assert sum(reported.values()) == sum(recast.values())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy)
def test_an_ltm_equals_the_sum_of_its_twelve_months(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Any]
) -> None:
    root = write_snapshot(
        tmp_path_factory.mktemp("ltm"),
        sale_lines(rows),
        cache=False,  # the Parquet path, without DuckDB's own copy
    )
    ltm = gmv(root, period="LTM2022-03")
    months = gmv(root, period="LTM2022-03", grain="month")
    assert len(months) <= 12 and all(k[0].startswith(("2021-", "2022-")) for k in months)
    assert ltm == {("LTM2022-03",): sum(months.values())}


def test_duckdb_never_downloads_extensions(orders: Path) -> None:
    """Autoinstall and autoload are off; what reports use (Parquet, ICU for time zones) is built in."""
    snap = service.Snapshot(orders)
    raw = snap.con.con
    settings_row = raw.execute(
        "SELECT current_setting('autoinstall_known_extensions'),"
        " current_setting('autoload_known_extensions'), current_setting('allow_community_extensions')"
    ).fetchone()
    assert settings_row == (False, False, False)
    service.gmv_report(snap, service.ReportRequest("FY2022", ("segment",), "month"), FISCAL, FX, {})
    modes = dict(
        raw.execute("SELECT extension_name, install_mode FROM duckdb_extensions() WHERE loaded").fetchall()
    )
    assert set(modes.values()) == {"STATICALLY_LINKED"}, modes
    assert "parquet" in modes
