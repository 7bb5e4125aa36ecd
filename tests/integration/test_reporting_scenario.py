"""The built-in group-facts scenario reproduces the published figures from data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib.resources import files

import pytest

from entrepot.kernel.errors import ValidationFailed
from entrepot.platform.db import Database
from entrepot.reporting import plans
from entrepot.reporting.domain import FiscalCalendar
from entrepot.simulation.demo import seed_organisation

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
FISCAL = FiscalCalendar(3)


@pytest.fixture
def scenario_db(database: Database) -> Database:
    with database.transaction() as session:
        seed_organisation(session, NOW)  # the figures name the units of the reported organisation
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
    shipped = files("entrepot.reporting") / "data" / "group_facts_actuals.csv"
    published = len(shipped.read_text().strip().splitlines()) - 1  # a row a figure, under the header
    with scenario_db.transaction() as session:
        plans.load_group_facts(session, FISCAL, NOW)
    with scenario_db.transaction() as session:
        assert len(plans.targets(session)) == 1
        assert len(plans.actuals(session)) == published >= 10


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


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("gmv,lazada,FY2020", "currency", "the row stops before the currency, value, source column(s)"),
        ("gmv,lazada,FY2020,USD,5,x,extra", "source", "more fields than the 6 columns"),
        ("active_consumers,lazada,FY2021,,Infinity,x", "value", "'Infinity' is out of range"),
        ("active_consumers,lazada,FY2021,,99999999999999999999999,x", "value", "a count must be from 0"),
        ("gmv,lazada,FY2021,USD,1e30,x", "value", "'1e30' is out of range: an amount (major units)"),
        ("gmv,lazada,FY2021,USD,NaN,x", "value", "'NaN' is not a number"),
        ("gmv,lazada,FY2021,USD,-5,x", "value", "must be from 0 to 10^15"),
        ("gmv,lazada,FY0001,USD,5,x", "period", "'FY0001' is not a real period: it would reach year 0"),
        ("gmv,lazada,FY2021,USD,5.001,x", "value", "USD allows at most 2 decimal places"),
        ("gmv,lazada,FY2021,VND,5.5,x", "value", "VND allows at most 0 decimal places"),
    ],
)
def test_a_row_that_cannot_be_taken_names_its_line_and_column(
    database: Database, row: str, column: str, message: str
) -> None:
    text = f"metric,scope,period,currency,value,source\ngmv,lazada,LTM2021-09,USD,5,x\n{row}\n"
    with pytest.raises(ValidationFailed) as caught, database.transaction() as session:
        plans.import_actuals_csv(session, text, FISCAL, NOW)
    assert caught.value.detail.startswith(f"line 3, column {column}: ")
    assert message in caught.value.detail
    assert [e.field for e in caught.value.field_errors] == [f"line 3.{column}"]
    with database.transaction() as session:
        assert plans.actuals(session) == []


def test_the_largest_figures_fit_the_table(scenario_db: Database) -> None:
    database = scenario_db
    text = (
        "metric,scope,period,currency,value,source\n"
        "gmv,lazada,FY2021,BHD,1000000000000000,x\n"  # three decimals: 10^18 minor units
        "active_consumers,lazada,FY2021,,1000000000000000,x\n"
    )
    with database.transaction() as session:
        assert plans.import_actuals_csv(session, text, FISCAL, NOW) == 2
    with database.transaction() as session:
        held = sorted(a.value_minor for a in plans.actuals(session, scope="lazada") if a.period == "FY2021")
        assert held == [10**15, 10**18]


def test_guidance_against_a_zero_base_is_refused(scenario_db: Database) -> None:
    database = scenario_db
    text = (
        "metric,scope,period,currency,value,source\n"
        "revenue,lazada,FY2021,USD,0,x\nrevenue,lazada,FY2022,USD,5,x\n"
    )
    with database.transaction() as session:
        plans.import_actuals_csv(session, text, FISCAL, NOW)
        plans.add_guidance(
            session, "revenue", "lazada", "FY2022", Decimal(1), Decimal(2), dt.date(2021, 5, 1), "", FISCAL
        )
    with pytest.raises(ValidationFailed, match="FY2021 is zero"), database.transaction() as session:
        plans.guidance_status(session, "revenue", "lazada", "FY2022", FISCAL)


def test_guidance_for_an_unknown_metric_is_refused(database: Database) -> None:
    with pytest.raises(ValidationFailed) as caught, database.transaction() as session:
        plans.add_guidance(
            session, "bogus", "lazada", "FY2022", Decimal(1), Decimal(2), dt.date(2021, 5, 1), "", FISCAL
        )
    assert [e.field for e in caught.value.field_errors] == ["metric"]
