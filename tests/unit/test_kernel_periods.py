"""The one period grammar both reporting and emissions use: forms, errors, and period arithmetic."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.emissions import periods as emissions
from entrepot.kernel import periods
from entrepot.kernel.errors import ValidationFailed
from entrepot.reporting import domain as reporting

MARCH = periods.FiscalCalendar(3)
EVERY_FORM = periods.PeriodSyntax(frozenset(periods.FORMS), MARCH)


@pytest.mark.parametrize(
    ("text", "label", "kind", "start", "stop"),
    [
        ("FY2022", "FY2022", "fiscal-year", dt.date(2021, 4, 1), dt.date(2022, 4, 1)),
        ("fy2022q3", "FY2022Q3", "fiscal-quarter", dt.date(2021, 10, 1), dt.date(2022, 1, 1)),
        ("FY2022-Q4", "FY2022Q4", "fiscal-quarter", dt.date(2022, 1, 1), dt.date(2022, 4, 1)),
        ("2025", "2025", "calendar-year", dt.date(2025, 1, 1), dt.date(2026, 1, 1)),
        ("2025-q4", "2025-Q4", "calendar-quarter", dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
        (" 2024-02 ", "2024-02", "month", dt.date(2024, 2, 1), dt.date(2024, 3, 1)),
        ("2024-02-29", "2024-02-29", "day", dt.date(2024, 2, 29), dt.date(2024, 3, 1)),
        ("LTM2021-09", "LTM2021-09", "ltm", dt.date(2020, 10, 1), dt.date(2021, 10, 1)),
        (
            "2025-11-01..2025-11-15",
            "2025-11-01..2025-11-15",
            "range",
            dt.date(2025, 11, 1),
            dt.date(2025, 11, 15),
        ),
    ],
)
def test_every_form(text: str, label: str, kind: str, start: dt.date, stop: dt.date) -> None:
    period = periods.parse(text, EVERY_FORM)
    assert (period.label, period.kind, period.start, period.stop) == (label, kind, start, stop)
    assert period.last == stop - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2021-13", "month 13 is not 01-12"),
        ("LTM2021-00", "month 0 is not 01-12"),
        ("FY2022Q5", "quarter 5 is not 1-4"),
        ("2021-02-30", "not a date: 2021-02-30"),
        ("2025-12-01..2025-11-01", "is not after its start"),
    ],
)
def test_a_known_form_that_names_no_real_period_says_why(text: str, message: str) -> None:
    with pytest.raises(periods.PeriodError, match=message) as caught:
        periods.parse(text, EVERY_FORM)
    assert not caught.value.unknown_form


def test_a_form_the_context_does_not_accept_is_unknown_there() -> None:
    months_only = periods.PeriodSyntax(frozenset({periods.MONTH}), MARCH)
    with pytest.raises(periods.PeriodError) as caught:
        periods.parse("FY2022", months_only)
    assert caught.value.unknown_form
    with pytest.raises(periods.PeriodError, match="year 1800 is outside 1990-2100"):
        periods.parse("1800-01", periods.PeriodSyntax(frozenset({periods.MONTH}), MARCH, 1990, 2100))


def test_each_context_words_its_own_errors() -> None:
    with pytest.raises(ValidationFailed) as reported:
        reporting.parse_period("2025-Q4", MARCH)  # a calendar quarter: emissions only
    assert reported.value.detail.startswith("unknown period '2025-Q4'; write FY2022, FY2022Q3")
    assert reported.value.field_errors[0].field == "period"
    with pytest.raises(ValidationFailed, match="'2021-13' is not a real period: month 13 is not 01-12"):
        reporting.parse_period("2021-13", MARCH)
    with pytest.raises(periods.PeriodError, match="period 'LTM2021-09' is not understood: use FY2025"):
        emissions.parse_period("LTM2021-09", MARCH)  # an LTM window: reporting only
    # one label style: either spelling of a fiscal quarter is labelled FY2025Q1 by both contexts
    assert emissions.parse_period("FY2025-Q1", MARCH).label == "FY2025Q1"
    assert reporting.parse_period("FY2025-Q1", MARCH).label == "FY2025Q1"


@pytest.mark.parametrize("end_month", [3, 6, 12])
@pytest.mark.parametrize("text", ["FY2025", "FY2025Q1", "fy2025-q4", "2025-11"])
def test_emissions_and_reporting_read_a_name_as_the_same_period(text: str, end_month: int) -> None:
    fiscal = periods.FiscalCalendar(end_month)
    from_emissions, from_reporting = (
        emissions.parse_period(text, fiscal),
        reporting.parse_period(text, fiscal),
    )
    assert type(from_emissions) is type(from_reporting) is periods.Period
    assert from_emissions == from_reporting  # label, kind, start and the exclusive stop


def test_the_year_before() -> None:
    assert periods.shifted(periods.parse("FY2022Q3", EVERY_FORM), -1, MARCH).label == "FY2021Q3"
    assert periods.shifted(periods.parse("LTM2024-02", EVERY_FORM), -1, MARCH).label == "LTM2023-02"
    assert periods.shifted(periods.parse("2024-02-29", EVERY_FORM), -1, MARCH).label == "2023-02-28"
    assert periods.shifted(periods.parse("2025-Q1", EVERY_FORM), -1, MARCH).label == "2024-Q1"
    assert periods.shifted(periods.parse("FY2022", EVERY_FORM), -1, MARCH).label == "FY2021"
    assert periods.shifted(periods.parse("2025", EVERY_FORM), 2, MARCH).label == "2027"
    assert periods.shifted(periods.parse("2025-11", EVERY_FORM), -1, MARCH).label == "2024-11"
    leap_range = periods.parse("2024-02-29..2024-03-10", EVERY_FORM)
    assert periods.shifted(leap_range, -1, MARCH).label == "2023-02-28..2023-03-10"


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("FY2022", "FY2023"),
        ("FY2022Q4", "FY2023Q1"),
        ("2025", "2026"),
        ("2025-Q4", "2026-Q1"),
        ("2025-12", "2026-01"),
    ],
)
def test_the_period_after(text: str, after: str) -> None:
    assert periods.following(periods.parse(text, EVERY_FORM), MARCH) == periods.parse(after, EVERY_FORM)


def test_a_series_of_fiscal_years_and_its_limits() -> None:
    labels = [p.label for p in reporting.period_series("FY2019", "FY2022", MARCH)]
    assert labels == ["FY2019", "FY2020", "FY2021", "FY2022"]
    quarters = reporting.period_series("FY2022Q3", "FY2023Q2", MARCH)
    assert [q.label for q in quarters] == ["FY2022Q3", "FY2022Q4", "FY2023Q1", "FY2023Q2"]
    for first, last, message in (
        ("FY2022", "FY2021", "comes before"),
        ("FY2022", "2022-03", "not the same kind"),
        ("LTM2021-09", "LTM2022-09", "not over ltm"),
        ("2000-01", "2020-01", "at most 60"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            reporting.period_series(first, last, MARCH)


@given(st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)), st.integers(1, 12))
def test_fiscal_periods_tile_the_calendar(day: dt.date, end_month: int) -> None:
    fiscal = periods.FiscalCalendar(end_month)
    year = periods.fiscal_year(fiscal.fiscal_year(day), fiscal)
    quarter = periods.fiscal_quarter(fiscal.fiscal_year(day), fiscal.fiscal_quarter(day), fiscal)
    assert year.start <= quarter.start <= day < quarter.stop <= year.stop
    assert periods.following(year, fiscal).start == year.stop
    assert periods.following(quarter, fiscal).start == quarter.stop


@pytest.mark.parametrize(
    ("text", "end_month"),
    [
        ("FY0001", 3),
        ("FY0001Q1", 3),
        ("LTM0001-01", 3),
        ("FY9999", 12),
        ("9999", 3),
        ("9999-12", 3),
        ("9999-12-31", 3),
    ],
)
def test_a_period_past_the_ends_of_the_calendar_is_refused_not_a_crash(text: str, end_month: int) -> None:
    # Fiscal year 1 ending in March starts in April of year 0; LTM0001-01 starts in February of year 0.
    syntax = periods.PeriodSyntax(frozenset(periods.FORMS), periods.FiscalCalendar(end_month), 1, 9999)
    with pytest.raises(periods.PeriodError, match=r"dates run (from year 1 )?to (year )?9999") as caught:
        periods.parse(text, syntax)
    assert not caught.value.unknown_form


def test_the_year_before_year_1_is_refused() -> None:
    for text in ("0001-03-01", "0001", "0001-02", "FY0002", "0001-01-01..0001-02-01"):
        with pytest.raises(periods.PeriodError, match="year 0"):
            periods.shifted(periods.parse(text, EVERY_FORM), -1, MARCH)


FIRST_AND_LAST_YEARS = st.sampled_from([1, 2, 3, 9997, 9998])


@given(FIRST_AND_LAST_YEARS, st.integers(1, 12), st.integers(1, 4), st.integers(1, 12))
def test_every_period_the_parser_accepts_has_real_dates_or_is_refused(
    year: int, number: int, quarter: int, end_month: int
) -> None:
    syntax = periods.PeriodSyntax(frozenset(periods.FORMS), periods.FiscalCalendar(end_month))
    texts = [
        f"FY{year:04d}",
        f"FY{year:04d}Q{quarter}",
        f"{year:04d}",
        f"{year:04d}-Q{quarter}",
        f"{year:04d}-{number:02d}",
        f"{year:04d}-{number:02d}-01",
        f"LTM{year:04d}-{number:02d}",
    ]
    for text in texts:
        try:
            period = periods.parse(text, syntax)
        except periods.PeriodError:
            continue  # refused with a reason: fine; any other error is the bug this guards against
        assert period.start < period.stop and period.last >= period.start
        for years in (-1, 1):
            with contextlib.suppress(periods.PeriodError):  # refused with a reason, or a real period
                periods.shifted(period, years, syntax.fiscal)
