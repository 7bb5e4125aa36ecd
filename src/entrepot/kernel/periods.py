"""Named periods, shared by every context: fiscal years and quarters, calendar years, quarters, months and
days, LTM windows and explicit date ranges. Pure.

One grammar serves every context; each context says which forms it accepts (a `PeriodSyntax`) and words
its own errors from the `PeriodError` raised here, which tells an unknown form apart from a form that is
understood but names no real period (month 13, 30 February, a year out of range, an empty range)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from entrepot.kernel.errors import FieldError, ValidationFailed

FISCAL_YEAR = "fiscal-year"  # FY2022
FISCAL_QUARTER = "fiscal-quarter"  # FY2022Q3 or FY2022-Q3
CALENDAR_YEAR = "calendar-year"  # 2025
CALENDAR_QUARTER = "calendar-quarter"  # 2025-Q4
MONTH = "month"  # 2025-11
DAY = "day"  # 2025-11-24
LTM = "ltm"  # LTM2021-09: the twelve months to the end of September 2021
RANGE = "range"  # 2025-11-01..2025-11-15: from the first day up to, not including, the second
FORMS = (FISCAL_YEAR, FISCAL_QUARTER, CALENDAR_YEAR, CALENDAR_QUARTER, MONTH, DAY, LTM, RANGE)


class PeriodError(ValueError):
    """`unknown_form`: the text matches no accepted form; otherwise the form is known but the period is
    not real, and the message says why."""

    def __init__(self, message: str, unknown_form: bool = False) -> None:
        super().__init__(message)
        self.unknown_form = unknown_form


# --- the fiscal calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiscalCalendar:
    """A fiscal year named after the calendar year it ends in: with year end 31 March, FY2022 runs from
    1 April 2021 to 31 March 2022, and its first quarter is April to June 2021."""

    year_end_month: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.year_end_month <= 12:
            message = "the fiscal year must end in a month from 1 to 12"
            raise ValidationFailed(message, [FieldError("fiscal_year_end_month", message)])

    def fiscal_year(self, day: dt.date) -> int:
        return day.year + (1 if day.month > self.year_end_month else 0)

    def fiscal_quarter(self, day: dt.date) -> int:
        return (day.month - self.year_end_month - 1) % 12 // 3 + 1

    def year_start(self, fiscal_year: int) -> dt.date:
        first_month = self.year_end_month % 12 + 1
        return a_date(fiscal_year - (1 if first_month > 1 else 0), first_month, 1)

    def quarter_start(self, fiscal_year: int, quarter: int) -> dt.date:
        return add_months(self.year_start(fiscal_year), 3 * (quarter - 1))


def a_date(year: int, month: int, day: int) -> dt.date:
    """The date, or a PeriodError when its year is one a date cannot hold: a period near the ends of the
    calendar (fiscal year 1 starts in year 0, the year before 0001-03 is year 0) is refused, not a crash."""
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise PeriodError(f"it would reach year {year}; dates run from year {dt.MINYEAR} to {dt.MAXYEAR}")
    return dt.date(year, month, day)


def next_day(date: dt.date) -> dt.date:
    if date == dt.date.max:
        raise PeriodError(f"no day follows {date}; dates run to year {dt.MAXYEAR}")
    return date + dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return a_date(index // 12, index % 12 + 1, 1)


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


# --- periods ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A named span of whole days: from `start` up to, not including, `stop`."""

    label: str
    kind: str
    start: dt.date
    stop: dt.date

    @property
    def last(self) -> dt.date:
        """The last day in the period."""
        return self.stop - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.stop - self.start).days


def fiscal_year(year: int, fiscal: FiscalCalendar) -> Period:
    start = fiscal.year_start(year)
    return Period(f"FY{year:04d}", FISCAL_YEAR, start, add_months(start, 12))


def fiscal_quarter(year: int, quarter: int, fiscal: FiscalCalendar) -> Period:
    start = fiscal.quarter_start(year, quarter)
    return Period(f"FY{year:04d}Q{quarter}", FISCAL_QUARTER, start, add_months(start, 3))


def calendar_year(year: int) -> Period:
    return Period(f"{year:04d}", CALENDAR_YEAR, a_date(year, 1, 1), a_date(year + 1, 1, 1))


def calendar_quarter(year: int, quarter: int) -> Period:
    start = a_date(year, 3 * quarter - 2, 1)
    return Period(f"{year:04d}-Q{quarter}", CALENDAR_QUARTER, start, add_months(start, 3))


def month(year: int, number: int) -> Period:
    start = a_date(year, number, 1)
    return Period(f"{year:04d}-{number:02d}", MONTH, start, add_months(start, 1))


def day(date: dt.date) -> Period:
    return Period(date.isoformat(), DAY, date, next_day(date))


def ltm(year: int, number: int) -> Period:
    """The twelve months ending at the end of a month: LTM2021-09 is October 2020 to September 2021."""
    stop = add_months(a_date(year, number, 1), 1)
    return Period(f"LTM{year:04d}-{number:02d}", LTM, add_months(stop, -12), stop)


def date_range(start: dt.date, stop: dt.date) -> Period:
    if stop <= start:
        raise PeriodError(f"the period's end {stop} is not after its start {start}")
    return Period(f"{start}..{stop}", RANGE, start, stop)


# --- parsing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodSyntax:
    """The forms a context accepts, its fiscal calendar and the years it allows."""

    forms: frozenset[str]
    fiscal: FiscalCalendar = FiscalCalendar()
    min_year: int = 1
    max_year: int = 9998  # a year later still fits in a date, for the year before and after

    def year(self, text: str) -> int:
        value = int(text)
        if not self.min_year <= value <= self.max_year:
            raise PeriodError(f"year {value} is outside {self.min_year}-{self.max_year}")
        return value


def _month_number(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 12:
        raise PeriodError(f"month {value} is not 01-12")
    return value


def _quarter_number(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 4:
        raise PeriodError(f"quarter {value} is not 1-4")
    return value


def _date(syntax: PeriodSyntax, text: str) -> dt.date:
    syntax.year(text[:4])
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"not a date: {text} ({exc})") from None


Match = re.Match[str]
_GRAMMAR: tuple[tuple[str, re.Pattern[str], Callable[[Match, PeriodSyntax], Period]], ...] = (
    (FISCAL_YEAR, re.compile(r"FY(\d{4})"), lambda m, s: fiscal_year(s.year(m[1]), s.fiscal)),
    (
        FISCAL_QUARTER,
        re.compile(r"FY(\d{4})-?Q(\d)"),
        lambda m, s: fiscal_quarter(s.year(m[1]), _quarter_number(m[2]), s.fiscal),
    ),
    (CALENDAR_YEAR, re.compile(r"(\d{4})"), lambda m, s: calendar_year(s.year(m[1]))),
    (
        CALENDAR_QUARTER,
        re.compile(r"(\d{4})-Q(\d)"),
        lambda m, s: calendar_quarter(s.year(m[1]), _quarter_number(m[2])),
    ),
    (MONTH, re.compile(r"(\d{4})-(\d{2})"), lambda m, s: month(s.year(m[1]), _month_number(m[2]))),
    (DAY, re.compile(r"(\d{4}-\d{2}-\d{2})"), lambda m, s: day(_date(s, m[1]))),
    (LTM, re.compile(r"LTM(\d{4})-(\d{2})"), lambda m, s: ltm(s.year(m[1]), _month_number(m[2]))),
    (
        RANGE,
        re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})"),
        lambda m, s: date_range(_date(s, m[1]), _date(s, m[2])),
    ),
)


def parse(text: str, syntax: PeriodSyntax) -> Period:
    """The period a name stands for, in one of the forms the syntax accepts (case and surrounding spaces
    do not matter). PeriodError says whether the form is unknown or why the period is not real."""
    value = text.strip().upper()
    for form, pattern, build in _GRAMMAR:
        if form in syntax.forms and (m := pattern.fullmatch(value)):
            return build(m, syntax)
    raise PeriodError(f"period {text!r} is not understood", unknown_form=True)


# --- arithmetic ------------------------------------------------------------------------------------------


def shift_day(date: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes the 28th in a year without one."""
    year = date.year + years
    a_date(year, 1, 1)  # a year a date can hold, or a PeriodError
    try:
        return date.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def containing(kind: str, date: dt.date, fiscal: FiscalCalendar) -> Period:
    """The period of a kind that holds a day (LTM windows and ranges have no such period)."""
    if kind == FISCAL_YEAR:
        return fiscal_year(fiscal.fiscal_year(date), fiscal)
    if kind == FISCAL_QUARTER:
        return fiscal_quarter(fiscal.fiscal_year(date), fiscal.fiscal_quarter(date), fiscal)
    if kind == CALENDAR_YEAR:
        return calendar_year(date.year)
    if kind == CALENDAR_QUARTER:
        return calendar_quarter(date.year, (date.month + 2) // 3)
    if kind == MONTH:
        return month(date.year, date.month)
    if kind == DAY:
        return day(date)
    raise PeriodError(f"no {kind} period is named by the day it holds")


def shifted(period: Period, years: int, fiscal: FiscalCalendar) -> Period:
    """The period of the same kind `years` later (earlier when negative): the base of growth. A
    PeriodError when that period would fall outside the years a date can hold."""
    if period.kind == LTM:
        return ltm(period.last.year + years, period.last.month)
    if period.kind == RANGE:
        return date_range(shift_day(period.start, years), shift_day(period.stop, years))
    return containing(period.kind, shift_day(period.start, years), fiscal)


SERIES_FORMS = (FISCAL_YEAR, FISCAL_QUARTER, CALENDAR_YEAR, CALENDAR_QUARTER, MONTH)


def following(period: Period, fiscal: FiscalCalendar) -> Period:
    """The next period of the same kind, the one starting where this one stops."""
    if period.kind not in SERIES_FORMS:
        raise PeriodError(f"a series runs over {', '.join(SERIES_FORMS)}, not over {period.kind} periods")
    return containing(period.kind, period.stop, fiscal)


def series(first: Period, last: Period, fiscal: FiscalCalendar, limit: int) -> list[Period]:
    """Every period from `first` to `last`, both included, all of one kind; at most `limit` of them."""
    if first.kind != last.kind:
        raise PeriodError(f"{first.label} and {last.label} are not the same kind of period")
    if last.start < first.start:
        raise PeriodError(f"{last.label} comes before {first.label}")
    out = [first]
    while out[-1] != last:
        if len(out) == limit:
            raise PeriodError(f"at most {limit} periods from {first.label}")
        out.append(following(out[-1], fiscal))
    return out
