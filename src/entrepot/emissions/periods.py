"""Reporting periods of the emissions context: fiscal years (the group's ends 31 March: FY2022 = Apr-2021 to
Mar-2022), fiscal quarters, calendar years, quarters and months, and explicit date ranges. Pure.

The kernel's period grammar parses them (`entrepot.kernel.periods`); this module chooses the forms that
emissions accepts, the years it allows, and its wording of errors and labels (FY2025-Q1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from entrepot.kernel import periods as kernel
from entrepot.kernel.periods import PeriodError

FISCAL_YEAR_END_MONTH = 3  # March; a parameter everywhere below, so another group can differ
MIN_YEAR, MAX_YEAR = 1990, 2100
PERIOD_FORMS = "FY2025, FY2025-Q1, 2025, 2025-Q4, 2025-11, or 2025-04-01..2025-07-01"
FORMS = frozenset(
    {
        kernel.FISCAL_YEAR,
        kernel.FISCAL_QUARTER,
        kernel.CALENDAR_YEAR,
        kernel.CALENDAR_QUARTER,
        kernel.MONTH,
        kernel.RANGE,
    }
)

__all__ = ["FISCAL_YEAR_END_MONTH", "Period", "PeriodError", "fiscal_year", "fiscal_year_of", "parse_period"]


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date  # inclusive
    end: dt.date  # exclusive

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def months(self) -> list[Period]:
        """The calendar months the period spans (clipped to it), for time series."""
        out, cursor = [], self.start
        while cursor < self.end:
            following = kernel.add_months(cursor, 1)
            out.append(Period(f"{cursor:%Y-%m}", cursor, min(following, self.end)))
            cursor = following
        return out


def _emissions_period(period: kernel.Period) -> Period:
    label = period.label
    if period.kind == kernel.FISCAL_QUARTER:  # emissions writes FY2025-Q1
        label = f"{label[:6]}-{label[6:]}"
    return Period(label, period.start, period.stop)


def fiscal_year(year: int, end_month: int = FISCAL_YEAR_END_MONTH) -> Period:
    """FY`year` ends with month `end_month` of `year` (FY2022: 1 Apr 2021 to 31 Mar 2022)."""
    return _emissions_period(kernel.fiscal_year(year, kernel.FiscalCalendar(end_month)))


def fiscal_year_of(day: dt.date, end_month: int = FISCAL_YEAR_END_MONTH) -> int:
    return kernel.FiscalCalendar(end_month).fiscal_year(day)


def parse_period(text: str, end_month: int = FISCAL_YEAR_END_MONTH) -> Period:
    """A period from its name; PeriodError says which forms are understood, or why the period is not
    real (a month 13, a year outside MIN_YEAR-MAX_YEAR, a range that ends before it starts)."""
    syntax = kernel.PeriodSyntax(FORMS, kernel.FiscalCalendar(end_month), MIN_YEAR, MAX_YEAR)
    try:
        return _emissions_period(kernel.parse(text, syntax))
    except PeriodError as exc:
        if exc.unknown_form:
            raise PeriodError(f"period {text!r} is not understood: use {PERIOD_FORMS}", True) from None
        raise
