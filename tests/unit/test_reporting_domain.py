"""Pure rules of reporting: the fiscal calendar, periods and LTM windows, CAGR, bands and the bridge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import ValidationFailed
from entrepot.reporting.domain import (
    NO_COVERAGE,
    Coverage,
    Edge,
    FiscalCalendar,
    ancestor_at,
    band_status,
    bucket_key,
    buckets,
    cagr,
    figure_source,
    growth_bridge,
    jointly,
    latest_covered_ltm,
    ltm_window,
    parse_period,
    prior_year,
    year_earlier,
    years_between,
)
from tests.reporting_data import EDGES, REORG

MARCH = FiscalCalendar(3)


def test_fy2022_runs_from_april_2021_to_march_2022() -> None:
    fy = parse_period("FY2022", MARCH)
    assert (fy.start, fy.last, fy.days) == (dt.date(2021, 4, 1), dt.date(2022, 3, 31), 365)
    q3 = parse_period("fy2022q3", MARCH)
    assert (q3.label, q3.start, q3.last) == ("FY2022Q3", dt.date(2021, 10, 1), dt.date(2021, 12, 31))
    assert [b.label for b in buckets(fy, "quarter", MARCH)] == [
        "FY2022Q1",
        "FY2022Q2",
        "FY2022Q3",
        "FY2022Q4",
    ]


def test_the_fiscal_year_end_is_configurable() -> None:
    calendar_year = FiscalCalendar(12)
    assert parse_period("FY2022", calendar_year).start == dt.date(2022, 1, 1)
    june = FiscalCalendar(6)
    assert (parse_period("FY2022Q1", june).start, parse_period("FY2022", june).last) == (
        dt.date(2021, 7, 1),
        dt.date(2022, 6, 30),
    )
    with pytest.raises(ValidationFailed):
        FiscalCalendar(13)


def test_ltm_windows_end_at_any_month_end() -> None:
    sep = ltm_window(2021, 9)
    assert (sep.start, sep.last) == (dt.date(2020, 10, 1), dt.date(2021, 9, 30))
    assert parse_period("LTM2024-02", MARCH).last == dt.date(2024, 2, 29)
    assert len(buckets(sep, "month", MARCH)) == 12
    assert prior_year(sep, MARCH).label == "LTM2020-09"
    assert prior_year(parse_period("FY2022Q3", MARCH), MARCH).label == "FY2021Q3"


@pytest.mark.parametrize(
    ("text", "before"),
    [
        ("FY2022", "FY2021"),
        ("FY2022Q1", "FY2021Q1"),
        ("2024-02", "2023-02"),
        ("LTM2024-02", "LTM2023-02"),
        ("2024-02-29", "2023-02-28"),  # a leap day's year earlier is the 28th
    ],
)
def test_the_prior_year_is_the_same_kind_of_period_a_year_earlier(text: str, before: str) -> None:
    assert prior_year(parse_period(text, MARCH), MARCH) == parse_period(before, MARCH)


def test_a_day_a_year_earlier_keeps_its_date_but_a_leap_day_becomes_the_28th() -> None:
    assert year_earlier(dt.date(2024, 3, 1)) == dt.date(2023, 3, 1)
    assert year_earlier(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)


@pytest.mark.parametrize("text", ["FY22", "2021-13", "LTM2021-00", "2021-02-30", "FY2022Q5", "last year"])
def test_bad_periods_are_rejected_with_the_forms_allowed(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text, MARCH)
    assert caught.value.field_errors[0].field == "period"


@given(st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)), st.integers(1, 12))
def test_bucket_keys_agree_with_the_calendar(day: dt.date, end_month: int) -> None:
    fiscal = FiscalCalendar(end_month)
    key = bucket_key(day, "quarter", fiscal)
    start = fiscal.quarter_start(key // 10, key % 10)
    assert start <= day < start + dt.timedelta(days=93)
    assert fiscal.year_start(bucket_key(day, "year", fiscal)) <= day


def test_lazada_needs_18_9_percent_a_year() -> None:
    years = years_between(dt.date(2021, 9, 30), dt.date(2030, 9, 30))
    assert years == 9
    assert (cagr(21, 100, years) * 100).quantize(Decimal("0.1")) == Decimal("18.9")


def test_band_status() -> None:
    assert band_status(Decimal("18.9"), Decimal(20), Decimal(23)) == "below"
    assert band_status(Decimal("21"), Decimal(20), Decimal(23)) == "within"
    assert band_status(Decimal("29.6"), Decimal("29.5"), Decimal("29.5")) == "above"


@given(st.integers(1, 10**15), st.integers(0, 10**15), st.integers(0, 10**15))
def test_the_constant_currency_bridge_reconciles_exactly(
    prior: int, current: int, at_prior_rates: int
) -> None:
    bridge = growth_bridge(prior, current, at_prior_rates)
    assert bridge is not None
    assert bridge.reported == bridge.constant_currency + bridge.fx_effect
    assert bridge.reported == Fraction(current - prior, prior)
    reported, constant, effect = bridge.printed
    assert reported == constant + effect


def test_no_growth_from_nothing() -> None:
    assert growth_bridge(0, 100, 90) is None


def test_the_unit_sits_under_the_structure_of_the_day() -> None:
    edges = [Edge(c, p, k, f, t) for c, p, k, f, t in EDGES]
    assert ancestor_at(edges, "lazada", "segment", REORG - dt.timedelta(days=1)) == "core-commerce"
    assert ancestor_at(edges, "lazada", "segment", REORG) == "international-commerce"
    assert ancestor_at(edges, "lazada", "group", REORG) == "commerce-group"
    assert ancestor_at(edges, "nobody", "segment", REORG) == "(unassigned)"


def test_a_period_with_no_year_before_it_is_refused_naming_the_period() -> None:
    fiscal = FiscalCalendar(3)
    with pytest.raises(ValidationFailed, match="FY0002 has no year before it") as caught:
        prior_year(parse_period("FY0002", fiscal), fiscal)
    assert caught.value.field_errors[0].field == "period"
    with pytest.raises(ValidationFailed, match="'FY0001' is not a real period: it would reach year 0"):
        parse_period("FY0001", fiscal)


# --- coverage of a period -------------------------------------------------------------------------------

LTM = ltm_window(2026, 11)  # December 2025 to November 2026


def test_a_period_the_data_holds_in_part_says_which_days() -> None:
    demo = Coverage(dt.date(2025, 11, 1), dt.date(2025, 12, 15), taken_on=dt.date(2026, 12, 5))
    covered = demo.of(LTM)
    assert (covered.first_day, covered.last_day, covered.days, covered.status) == (
        dt.date(2025, 12, 1),
        dt.date(2025, 12, 15),
        15,
        "partial",
    )
    assert covered.label() == "partial: 2025-12-01 to 2025-12-15 (15 of 365 days)"
    assert not demo.covers(LTM) and latest_covered_ltm(demo) is None


def test_the_day_the_data_was_taken_is_never_whole() -> None:
    running = Coverage(dt.date(2025, 12, 1), dt.date(2026, 11, 30), taken_on=dt.date(2026, 11, 30))
    assert running.of(LTM).status == "partial" and latest_covered_ltm(running) != LTM
    taken_after = Coverage(dt.date(2025, 12, 1), dt.date(2026, 11, 30), taken_on=dt.date(2026, 12, 1))
    assert taken_after.of(LTM).status == "full" and latest_covered_ltm(taken_after) == LTM


def test_units_together_cover_only_the_days_each_covers() -> None:
    taobao = Coverage(dt.date(2020, 10, 1), dt.date(2021, 10, 2))
    lazada = Coverage(dt.date(2021, 4, 1), dt.date(2021, 9, 30))
    assert jointly([taobao, lazada, NO_COVERAGE]) == Coverage(dt.date(2021, 4, 1), dt.date(2021, 9, 30))
    assert jointly([NO_COVERAGE]) == NO_COVERAGE
    assert jointly([lazada, Coverage(dt.date(2022, 1, 1), dt.date(2022, 2, 1))]) == NO_COVERAGE
    assert NO_COVERAGE.of(LTM).label() == "no data"


def test_a_published_figure_gives_way_only_to_a_platform_figure_covering_its_whole_period() -> None:
    lazada = Coverage(dt.date(2021, 4, 1), dt.date(2021, 9, 30))
    window = ltm_window(2021, 9)
    assert figure_source(window, lazada, has_external=True) == "external"
    assert figure_source(window, lazada, has_external=False) == "platform-partial"
    whole = Coverage(dt.date(2020, 10, 1), dt.date(2021, 10, 2), taken_on=dt.date(2021, 10, 3))
    assert figure_source(window, whole, has_external=True) == "platform"
