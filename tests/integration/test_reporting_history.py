"""The platform's own figures beside published ones: GMV targets measured from the platform's latest LTM
actual, and series that show each period's one figure, labelled external or platform, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.money import Money
from entrepot.organization import service as organization
from entrepot.platform.db import Database
from entrepot.reporting import plans, service
from entrepot.reporting.domain import FiscalCalendar
from entrepot.reporting.history import PlatformFigures, history
from entrepot.reporting.rates import translate_at_period_average
from entrepot.simulation.demo import seed_organisation
from tests.reporting_data import fx, line, sale_lines, write_snapshot

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
FISCAL = FiscalCalendar(3)
FX = fx()


def _platform(root: Path) -> PlatformFigures:
    return PlatformFigures(service.Snapshot(root), FISCAL, FX, {})


def _publish(database: Database, *rows: str) -> None:
    """Published figures, for units of the reported organisation (seeded first: a figure names one)."""
    text = "metric,scope,period,currency,value,source\n" + "".join(f"{r},published\n" for r in rows)
    with database.transaction() as session:
        if organization.find_unit(session, "commerce-group") is None:
            seed_organisation(session, NOW)
        plans.import_actuals_csv(session, text, FISCAL, NOW)


@pytest.fixture
def lazada_two_years(tmp_path: Path) -> Path:
    """Lazada sells US$800 in the twelve months to September 2020 and US$1,000 in those to September
    2021, from their first day to their last, so its data covers both windows whole; Taobao's sale is
    another unit's. The snapshot was refreshed on 15 October 2021."""
    return write_snapshot(
        tmp_path,
        sale_lines(
            [
                ("lazada", dt.date(2019, 10, 1), "USD", 800_00),
                ("lazada", dt.date(2020, 10, 1), "USD", 600_00),
                ("lazada", dt.date(2021, 9, 30), "USD", 400_00),
                ("taobao", dt.date(2020, 10, 5), "USD", 5000_00),
            ]
        ),
        refreshed_at="2021-10-15T08:00:00+00:00",
    )


def _status(database: Database, root: Path, value: str, due: dt.date) -> plans.TargetStatus:
    with database.transaction() as session:
        target = plans.add_target(session, "gmv", "lazada", Money.from_decimal(value, "USD"), due, "", NOW)
        return plans.target_status(session, target, _platform(root))


@pytest.mark.parametrize(
    ("target", "required", "status"),
    [
        ("2000", "25.99", "behind"),  # (2000 / 1000) ** (1 / 3) - 1 = 25.99 %, more than the 25 % achieved
        ("1900", "23.86", "on-track"),  # (1900 / 1000) ** (1 / 3) - 1 = 23.86 %
    ],
)
def test_a_target_starts_from_the_platforms_latest_ltm(
    database: Database, lazada_two_years: Path, target: str, required: str, status: str
) -> None:
    # A published figure for the window the platform covers gives way to the platform's own.
    _publish(database, "gmv,lazada,LTM2021-09,USD,5", "gmv,lazada,LTM2021-06,USD,7")
    s = _status(database, lazada_two_years, target, dt.date(2024, 9, 30))
    assert (s.latest_period, s.latest_minor, s.latest_external) == ("LTM2021-09", 1000_00, False)
    assert s.years == 3
    assert s.achieved_pct == Decimal("25.00")  # 1000 over the 800 of the LTM to September 2020
    assert (str(s.required_cagr_pct), s.status) == (required, status)


def test_a_later_published_ltm_is_the_latest_actual(database: Database, lazada_two_years: Path) -> None:
    _publish(database, "gmv,lazada,LTM2022-03,USD,1500")
    s = _status(database, lazada_two_years, "3000", dt.date(2025, 3, 31))
    assert (s.latest_period, s.latest_minor, s.latest_external) == ("LTM2022-03", 1500_00, True)
    assert str(s.required_cagr_pct) == "25.99" and s.status == "unknown"  # no LTM2021-03 to compare with


def test_without_a_whole_ltm_on_the_platform_the_published_one_stands(
    database: Database, tmp_path: Path
) -> None:
    root = write_snapshot(
        tmp_path,
        [line(order_date=dt.date(2021, 6, 1), goods_minor=10)],
        refreshed_at="2021-10-15T08:00:00+00:00",
    )
    _publish(database, "gmv,lazada,LTM2021-09,USD,1000", "gmv,lazada,LTM2020-09,USD,800")
    s = _status(database, root, "2000", dt.date(2024, 9, 30))
    assert (s.latest_period, s.latest_minor, s.latest_external) == ("LTM2021-09", 1000_00, True)
    assert (s.achieved_pct, s.status) == (Decimal("25.00"), "behind")


def _series(
    database: Database, root: Path, view: str = "recast", **kw: Any
) -> dict[tuple[str, str], tuple[int, str]]:
    args = {
        "metric": "gmv",
        "level": "business_unit",
        "first": "FY2019",
        "last": "FY2022",
        "currency": "USD",
    } | kw
    with database.transaction() as session:
        platform = PlatformFigures(service.Snapshot(root), FISCAL, FX, {}, view=view)
        report = history(session, platform, **args)
    assert "never added together" in report.meta["rule"]
    level = args["level"]
    return {(r["period"], r[level]): (r["gmv_minor"], r["source"]) for r in report.table.to_pylist()}


def test_published_figures_before_the_platform_and_its_own_after(database: Database, tmp_path: Path) -> None:
    """The platform runs from 1 April 2020 (FY2021) to 31 March 2022. Lazada published FY2019 and FY2020
    (in yuan), and also FY2021, which the platform covers: that year shows the platform's figure, not the
    sum of both. Taobao has no data at all: the platform shows nothing for it."""
    root = write_snapshot(
        tmp_path,
        [
            line(order_date=dt.date(2020, 4, 1), goods_minor=100_00),
            line(order_id=2, line_id=2, order_date=dt.date(2021, 5, 1), goods_minor=300_00),
            line(order_id=3, line_id=3, order_date=dt.date(2022, 3, 31), goods_minor=20_00),
        ],
        refreshed_at="2022-04-02T08:00:00+00:00",
    )
    _publish(
        database,
        "gmv,lazada,FY2019,USD,50",
        "gmv,lazada,FY2020,CNY,1000",
        "gmv,lazada,FY2021,USD,999",
        "gmv,commerce-group,FY2020,USD,123456",  # the group's: not a business unit's row
    )
    fy2020 = translate_at_period_average(FX, 1000_00, "CNY", "USD", dt.date(2019, 4, 1), dt.date(2020, 3, 31))
    assert 100_00 < fy2020 < 200_00  # about 15 US cents a yuan
    assert _series(database, root) == {
        ("FY2019", "lazada"): (50_00, "external"),
        ("FY2020", "lazada"): (fy2020, "external"),
        ("FY2021", "lazada"): (100_00, "platform"),
        ("FY2022", "lazada"): (320_00, "platform"),
    }
    group = _series(database, root, level="group", first="FY2020", last="FY2021")
    assert group == {
        ("FY2020", "commerce-group"): (123456_00, "external"),
        ("FY2021", "commerce-group"): (100_00, "platform"),
    }


def test_a_year_the_platform_holds_in_part(database: Database, tmp_path: Path) -> None:
    """From 1 May 2020 the platform holds FY2021 in part: Lazada's published year stands; Taobao, with no
    published figure, shows the platform's part, labelled so."""
    root = write_snapshot(
        tmp_path,
        sale_lines(
            [("lazada", dt.date(2020, 5, 1), "USD", 100_00), ("taobao", dt.date(2020, 6, 1), "USD", 40_00)]
        ),
        refreshed_at="2021-04-02T08:00:00+00:00",
    )
    _publish(database, "gmv,lazada,FY2021,USD,900")
    assert _series(database, root, first="FY2021", last="FY2021") == {
        ("FY2021", "lazada"): (900_00, "external"),
        ("FY2021", "taobao"): (40_00, "platform-partial"),
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "orders"}, "metric"),
        ({"level": "market"}, "by"),
        ({"view": "restated"}, "view"),
        ({"currency": "XQQ"}, "currency"),
        ({"first": "FY22"}, "first"),
        ({"last": "2022-03"}, "last"),
    ],
)
def test_bad_series_requests_get_precise_errors(
    database: Database, lazada_two_years: Path, change: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _series(database, lazada_two_years, **change)
    assert [e.field for e in caught.value.field_errors] == [field], caught.value.detail


def test_a_bad_view_is_refused_even_when_only_published_figures_are_shown(
    database: Database, lazada_two_years: Path
) -> None:
    _publish(database, "gmv,lazada,FY2019,USD,50")  # before the platform's first order
    assert _series(database, lazada_two_years, first="FY2019", last="FY2019") == {
        ("FY2019", "lazada"): (50_00, "external")
    }
    with pytest.raises(ValidationFailed) as caught:
        _series(database, lazada_two_years, view="restated", first="FY2019", last="FY2019")
    assert [e.field for e in caught.value.field_errors] == ["view"]
