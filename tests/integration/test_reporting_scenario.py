"""The built-in group-facts scenario reproduces the published figures from data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from entrepot.db import Database
from entrepot.kernel.errors import ValidationFailed
from entrepot.reporting import plans
from entrepot.reporting.domain import FiscalCalendar

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
FISCAL = FiscalCalendar(3)


@pytest.fixture
def scenario_db(database: Database) -> Database:
    with database.transaction() as session:
        plans.load_group_facts(session, FISCAL, NOW)
    return database


def test_lazada_needs_18_9_percent_a_year_to_reach_100_bn(scenario_db: Database) -> None:
    with scenario_db.transaction() as session:
        [target] = plans.targets(session)
        status = plans.target_status(session, target)
    assert status.latest_period == "LTM2021-09"
    assert status.latest_minor == 21_000_000_000_00 and status.latest_external
    assert status.years == 9
    assert status.required_cagr_pct.quantize(Decimal("0.1")) == Decimal("18.9")
    assert status.status == "unknown"  # no LTM a year earlier to compare with


def test_fy2022_revenue_growth_is_below_the_revised_band_and_the_first(scenario_db: Database) -> None:
    with scenario_db.transaction() as session:
        result = plans.guidance_status(session, "revenue", "commerce-group", "FY2022", FISCAL)
    assert result["actual_growth_pct"] == "18.9"
    assert [(r["low_pct"], r["high_pct"], r["actual_vs_band"]) for r in result["revisions"]] == [
        ("29.50", "29.50", "below"),
        ("20.00", "23.00", "below"),
    ]
    assert result["current"]["issued_on"] == "2021-11-18"


def test_dec_2021_quarter_segment_revenues_are_there_and_marked_external(scenario_db: Database) -> None:
    with scenario_db.transaction() as session:
        rows = {a.scope: a for a in plans.actuals(session, "revenue") if a.period == "FY2022Q3"}
    assert {s: r.value_minor // 100_000_000 for s, r in rows.items()} == {
        "commerce-group": 242_580,
        "china-commerce": 172_226,
        "international-commerce": 16_449,
        "local-consumer-services": 12_141,
        "cloud": 19_539,
    }
    assert all(r.currency == "CNY" and "results" in r.source for r in rows.values())


def test_loading_twice_replaces_rather_than_doubles(scenario_db: Database) -> None:
    with scenario_db.transaction() as session:
        plans.load_group_facts(session, FISCAL, NOW)
    with scenario_db.transaction() as session:
        assert len(plans.targets(session)) == 1
        assert len(plans.actuals(session)) == 10


def test_a_bad_csv_row_rejects_the_whole_file(database: Database) -> None:
    text = (
        "metric,scope,period,currency,value,source\n"
        "gmv,lazada,LTM2021-09,USD,5,x\ngmv,lazada,FY2022Q5,USD,1,x\n"
    )
    with pytest.raises(ValidationFailed, match="line 3") as caught, database.transaction() as session:
        plans.import_actuals_csv(session, text, FISCAL, NOW)
    assert "FY2022Q5" in caught.value.detail
    with database.transaction() as session:
        assert plans.actuals(session) == []
