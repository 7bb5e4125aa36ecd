"""Year-on-year growth with its constant-currency bridge, and annual active consumers, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrepot.reporting import service
from entrepot.reporting.domain import FiscalCalendar, definition_named, pct, year_earlier
from entrepot.reporting.rates import daily_factor
from tests.reporting_data import fx, line, sale_lines, sales_strategy, write_snapshot

FISCAL = FiscalCalendar(3)
FX = fx()


def _growth(root: Path, fx_method: str = "period-average", period: str = "FY2022") -> dict[str, str]:
    request = service.ReportRequest(period, fx_method=fx_method)
    report = service.growth_report(service.Snapshot(root), request, FISCAL, FX, {})
    [row] = report.rows()
    assert report.meta["prior_period"] == f"FY{int(period[2:]) - 1}"
    assert report.meta["fx_method"].startswith(fx_method)
    return row


def _factor(currency: str, day: dt.date) -> Decimal:
    """The USD factor of a day as the reports use it: ten decimals."""
    return daily_factor(FX, currency, "USD", day).quantize(Decimal("1e-10"))


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _cents(minor: int) -> str:
    return f"{Decimal(minor) / 100:.2f}"


@pytest.mark.parametrize("fx_method", ["period-average", "transaction-date"])
def test_in_one_currency_growth_is_all_constant_currency(tmp_path: Path, fx_method: str) -> None:
    root = write_snapshot(
        tmp_path,
        [
            line(order_date=dt.date(2020, 6, 1), goods_minor=100_000),
            line(order_id=2, line_id=2, order_date=dt.date(2021, 6, 1), goods_minor=118_900),
        ],
    )
    row = _growth(root, fx_method)
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


def test_transaction_date_growth_by_hand(tmp_path: Path) -> None:
    """Yuan sales on two days of FY2022 against one of FY2021, each day at its own rate; at constant
    currency each FY2022 day takes the rate of the same day a year earlier."""
    prior_day, june, december = dt.date(2020, 6, 15), dt.date(2021, 6, 15), dt.date(2021, 12, 1)
    root = write_snapshot(
        tmp_path,
        [
            line(order_date=prior_day, goods_minor=1_000_000, currency="CNY"),
            line(order_id=2, line_id=2, order_date=june, goods_minor=1_100_000, currency="CNY"),
            line(order_id=3, line_id=3, order_date=december, goods_minor=500_000, currency="CNY"),
        ],
    )
    prior = _round(1_000_000 * _factor("CNY", prior_day))
    current = _round(1_100_000 * _factor("CNY", june)) + _round(500_000 * _factor("CNY", december))
    constant = _round(1_100_000 * _factor("CNY", prior_day)) + _round(
        500_000 * _factor("CNY", dt.date(2020, 12, 1))
    )
    assert constant != current  # the yuan moved between the two years
    row = _growth(root, "transaction-date")
    assert (row["prior"], row["current"], row["current_at_prior_rates"]) == (
        _cents(prior),
        _cents(current),
        _cents(constant),
    )
    reported, at_constant = pct(Fraction(current - prior, prior)), pct(Fraction(constant - prior, prior))
    assert (row["reported_growth_pct"], row["constant_currency_growth_pct"], row["fx_effect_pct"]) == (
        str(reported),
        str(at_constant),
        str(reported - at_constant),
    )
    gmv = service.gmv_report(
        service.Snapshot(root), service.ReportRequest("FY2022"), FISCAL, FX, {}
    ).table.to_pylist()
    assert gmv[0]["gmv_minor"] == current  # the same figure as the GMV report at transaction-date rates


def test_a_leap_day_is_held_at_the_rate_of_the_28th_a_year_earlier(tmp_path: Path) -> None:
    leap_day = dt.date(2024, 2, 29)
    root = write_snapshot(
        tmp_path,
        [
            line(order_date=dt.date(2023, 2, 28), goods_minor=10_000_000, currency="SGD"),
            line(order_id=2, line_id=2, order_date=leap_day, goods_minor=10_000_000, currency="SGD"),
        ],
    )
    row = _growth(root, "transaction-date", "FY2024")
    assert (
        row["current_at_prior_rates"]
        == row["prior"]
        == _cents(_round(10_000_000 * _factor("SGD", dt.date(2023, 2, 28))))
    )
    assert row["constant_currency_growth_pct"] == "0.00"


facts_strategy = sales_strategy(
    dt.date(2020, 4, 1), dt.date(2022, 3, 31), ["USD", "CNY", "SGD", "THB"], 1, 20
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=facts_strategy, fx_method=st.sampled_from(["transaction-date", "period-average"]))
def test_the_bridge_reconciles_exactly_at_either_method(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, dt.date, str, int]], fx_method: str
) -> None:
    root = write_snapshot(
        tmp_path_factory.mktemp("bridge"),
        sale_lines(rows),
    )
    snap = service.Snapshot(root)
    request = service.ReportRequest("FY2022", ("business_unit",), fx_method=fx_method)
    report = service.growth_report(snap, request, FISCAL, FX, {})
    for row in report.table.to_pylist():
        before, now, constant = row["prior_minor"], row["current_minor"], row["current_at_prior_rates_minor"]
        if before == 0:
            assert row["reported_growth_pct"] is None
            continue
        reported = Fraction(now - before, before)
        assert reported == Fraction(constant - before, before) + Fraction(now - constant, before)
        printed = [
            Decimal(row[k]) for k in ("reported_growth_pct", "constant_currency_growth_pct", "fx_effect_pct")
        ]
        assert printed[0] == pct(reported) and printed[0] == printed[1] + printed[2]
    if fx_method == "transaction-date":  # constant currency by hand: each day's atom at a year earlier's rate
        atoms: dict[tuple[str, dt.date, str], int] = {}
        for u, d, c, a in rows:
            if dt.date(2021, 4, 1) <= d:
                atoms[(u, d, c)] = atoms.get((u, d, c), 0) + a
        by_unit: dict[str, int] = {}
        for (u, d, c), a in atoms.items():
            by_unit[u] = by_unit.get(u, 0) + _round(a * _factor(c, year_earlier(d)))
        got = {r["business_unit"]: r["current_at_prior_rates_minor"] for r in report.table.to_pylist()}
        assert {u: v for u, v in got.items() if u in by_unit} == by_unit


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
