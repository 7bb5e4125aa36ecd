"""Reporting periods: fiscal years (the group's ends 31 March: FY2022 = Apr-2021 to Mar-2022), fiscal
quarters, calendar years, quarters and months, and explicit date ranges. Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

FISCAL_YEAR_END_MONTH = 3  # March; a parameter everywhere below, so another group can differ
MIN_YEAR, MAX_YEAR = 1990, 2100
PERIOD_FORMS = "FY2025, FY2025-Q1, 2025, 2025-Q4, 2025-11, or 2025-04-01..2025-07-01"


class PeriodError(ValueError):
    pass


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
            following = _add_months(cursor.replace(day=1), 1)
            out.append(Period(f"{cursor:%Y-%m}", cursor, min(following, self.end)))
            cursor = following
        return out


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def fiscal_year(year: int, end_month: int = FISCAL_YEAR_END_MONTH) -> Period:
    """FY`year` ends with month `end_month` of `year` (FY2022: 1 Apr 2021 to 31 Mar 2022)."""
    end = _add_months(dt.date(year, end_month, 1), 1)
    return Period(f"FY{year}", _add_months(end, -12), end)


def fiscal_year_of(day: dt.date, end_month: int = FISCAL_YEAR_END_MONTH) -> int:
    return day.year + 1 if day.month > end_month else day.year


def _year(text: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    return year


def parse_period(text: str, end_month: int = FISCAL_YEAR_END_MONTH) -> Period:
    """A period from its name; PeriodError says which forms are understood."""
    value = text.strip().upper()
    if m := re.fullmatch(r"FY(\d{4})", value):
        return fiscal_year(_year(m[1]), end_month)
    if m := re.fullmatch(r"FY(\d{4})-Q([1-4])", value):
        year = fiscal_year(_year(m[1]), end_month)
        start = _add_months(year.start, 3 * (int(m[2]) - 1))
        return Period(value, start, _add_months(start, 3))
    if m := re.fullmatch(r"(\d{4})", value):
        year_ = _year(m[1])
        return Period(value, dt.date(year_, 1, 1), dt.date(year_ + 1, 1, 1))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", value):
        start = dt.date(_year(m[1]), 3 * int(m[2]) - 2, 1)
        return Period(value, start, _add_months(start, 3))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
        month = int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"month {month} is not 01-12")
        start = dt.date(_year(m[1]), month, 1)
        return Period(value, start, _add_months(start, 1))
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", value):
        return _range(m[1], m[2])
    raise PeriodError(f"period {text!r} is not understood: use {PERIOD_FORMS}")


def _range(first: str, last: str) -> Period:
    try:
        start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError as exc:
        raise PeriodError(f"not a date: {exc}") from None
    if end <= start:
        raise PeriodError(f"the period's end {end} is not after its start {start}")
    _year(str(start.year))
    _year(str(end.year))
    return Period(f"{start}..{end}", start, end)
