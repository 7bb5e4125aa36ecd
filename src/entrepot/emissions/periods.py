"""The periods emissions reports over: fiscal years and quarters, calendar years, quarters and months,
and explicit date ranges. Pure.

A period is the kernel's (`entrepot.kernel.periods.Period`: from `start` up to, not including, `stop`),
labelled as everywhere else (FY2025Q1), in the fiscal calendar the caller passes (the setting
ENTREPOT_FISCAL_YEAR_END_MONTH). This module chooses the forms emissions accepts, the years it allows and
its wording of errors."""

from __future__ import annotations

from entrepot.kernel import periods as kernel
from entrepot.kernel.periods import FiscalCalendar, Period, PeriodError

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

__all__ = ["Period", "PeriodError", "parse_period"]


def parse_period(text: str, fiscal: FiscalCalendar) -> Period:
    """A period from its name; PeriodError says which forms are understood, or why the period is not
    real (a month 13, a year outside MIN_YEAR-MAX_YEAR, a range that ends before it starts)."""
    syntax = kernel.PeriodSyntax(FORMS, fiscal, MIN_YEAR, MAX_YEAR)
    try:
        return kernel.parse(text, syntax)
    except PeriodError as exc:
        if exc.unknown_form:
            raise PeriodError(f"period {text!r} is not understood: use {PERIOD_FORMS}", True) from None
        raise
