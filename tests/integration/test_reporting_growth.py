"""Year-on-year growth with its constant-currency bridge, and annual active consumers, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from entrepot.reporting import service
from entrepot.reporting.domain import FiscalCalendar, definition_named
from tests.reporting_data import fx, line, write_snapshot

FISCAL = FiscalCalendar(3)
FX = fx()


def _growth(root: Path) -> dict[str, str]:
    report = service.growth_report(service.Snapshot(root), service.ReportRequest("FY2022"), FISCAL, FX, {})
    [row] = report.rows()
    assert report.meta["prior_period"] == "FY2021"
    return row


def test_in_one_currency_growth_is_all_constant_currency(tmp_path: Path) -> None:
    root = write_snapshot(
        tmp_path,
        [
            line(order_date=dt.date(2020, 6, 1), goods_minor=100_000),
            line(order_id=2, line_id=2, order_date=dt.date(2021, 6, 1), goods_minor=118_900),
        ],
    )
    row = _growth(root)
    assert (row["prior"], row["current"]) == ("1000.00", "1189.00")
    assert (row["reported_growth_pct"], row["constant_currency_growth_pct"], row["fx_effect_pct"]) == (
        "18.90",
        "18.90",
        "0.00",
    )


def test_the_bridge_reconciles_when_rates_move(tmp_path: Path) -> None:
    root = write_snapshot(
        tmp_path,
        [
            line(order_date=dt.date(2020, 6, 1), goods_minor=1_000_000, currency="CNY"),
            line(
                order_id=2, line_id=2, order_date=dt.date(2021, 6, 1), goods_minor=1_100_000, currency="CNY"
            ),
        ],
    )
    row = _growth(root)
    reported, constant, effect = (
        Decimal(row[k]) for k in ("reported_growth_pct", "constant_currency_growth_pct", "fx_effect_pct")
    )
    assert reported == constant + effect
    assert effect != 0  # the yuan rose against the dollar between FY2021 and FY2022
    assert abs(constant - Decimal("10.00")) <= Decimal("0.01")  # local growth, at one set of rates


def test_active_consumers_are_deduplicated_across_units(tmp_path: Path) -> None:
    root = write_snapshot(
        tmp_path,
        [
            line(buyer_id=1, business_unit="lazada"),
            line(order_id=2, line_id=2, buyer_id=1, business_unit="taobao"),
            line(order_id=3, line_id=3, buyer_id=2, business_unit="lazada"),
            line(order_id=4, line_id=4, buyer_id=3, business_unit="taobao", paid=False),
            line(order_id=5, line_id=5, buyer_id=4, business_unit="lazada", order_date=dt.date(2020, 3, 1)),
        ],
    )
    snap = service.Snapshot(root)
    report = service.active_consumers_report(
        snap, "FY2022", FISCAL, {"taobao": definition_named("paid-gross")}
    )
    assert {r["unit"]: r["consumers"] for r in report.rows()} == {
        "lazada": 2,
        "taobao": 1,  # buyer 3 never paid, and taobao counts paid orders only
        "group (de-duplicated)": 2,
    }
