"""Pure rules of group reporting: the fiscal calendar, periods and LTM windows, GMV definitions, growth
arithmetic (CAGR, guidance bands, the constant-currency bridge) and the organisation views. No I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

from entrepot.kernel import periods
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.periods import FiscalCalendar as FiscalCalendar  # re-exported: reporting callers
from entrepot.kernel.periods import Period

GRAINS = ("day", "month", "quarter", "year", "total")
VIEWS = ("as-reported", "recast")
FX_METHODS = ("transaction-date", "period-average")
ORG_LEVELS = ("group", "segment", "division", "business_unit")
# The dimensions a report may be cut by: the organisation levels, then the attributes of an order line.
DIMENSIONS = (*ORG_LEVELS, "market", "seller", "category", "buyer_country")
PERCENT = Decimal("0.01")


def bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [FieldError(field, message)])


# --- periods ------------------------------------------------------------------------------------------


# Reporting's periods are the kernel's (`entrepot.kernel.periods.Period`: from `start` up to, not
# including, `stop`; `last` is the last day in it). The forms reporting accepts:
FORMS = frozenset({periods.FISCAL_YEAR, periods.FISCAL_QUARTER, periods.MONTH, periods.LTM, periods.DAY})
PERIOD_FORMS = "FY2022, FY2022Q3, 2021-12, LTM2021-09 (twelve months to that month's end) or 2021-12-24"


def parse_period(text: str, fiscal: FiscalCalendar, field: str = "period") -> Period:
    """The period a name stands for, in a form reporting accepts; refused, naming `field`, otherwise."""
    try:
        return periods.parse(text, periods.PeriodSyntax(FORMS, fiscal))
    except periods.PeriodError as exc:
        if exc.unknown_form:
            raise bad(field, f"unknown period {text!r}; write {PERIOD_FORMS}") from None
        raise bad(field, f"{text!r} is not a real period: {exc}") from None


def ltm_window(year: int, month: int) -> Period:
    """The twelve months ending at the end of `month`: LTM2021-09 is October 2020 to September 2021."""
    return periods.ltm(year, month)


def prior_year(period: Period, fiscal: FiscalCalendar) -> Period:
    """The same period a year earlier, the base of year-on-year growth (29 February's is the 28th).
    Refused, naming the period, when that year is before the first a date can hold."""
    try:
        return periods.shifted(period, -1, fiscal)
    except periods.PeriodError as exc:
        raise bad("period", f"{period.label} has no year before it to grow from: {exc}") from None


def year_earlier(day: dt.date) -> dt.date:
    """The same day a year earlier; 29 February's is the 28th."""
    try:
        return periods.shift_day(day, -1)
    except periods.PeriodError as exc:
        raise bad("period", f"{day} has no day a year before it: {exc}") from None


def period_series(first: str, last: str, fiscal: FiscalCalendar, limit: int = 60) -> list[Period]:
    """Every period from `first` to `last`, both included and of one kind (years, quarters or months)."""
    start, stop = parse_period(first, fiscal, "first"), parse_period(last, fiscal, "last")
    try:
        return periods.series(start, stop, fiscal, limit)
    except periods.PeriodError as exc:
        raise bad("last", str(exc)) from None


@dataclass(frozen=True)
class Bucket:
    """One column of a time series: its key as the engine computes it, and its period (a month, fiscal
    quarter or year, or day, clipped to the report's period; the report's period itself for a total)."""

    key: int
    period: Period

    @property
    def label(self) -> str:
        return self.period.label


GRAIN_FORMS = {
    "day": periods.DAY,
    "month": periods.MONTH,
    "quarter": periods.FISCAL_QUARTER,
    "year": periods.FISCAL_YEAR,
}


def bucket_key(day: dt.date, grain: str, fiscal: FiscalCalendar) -> int:
    """The same integer the query engine computes for a day (see engine.bucket_expr)."""
    if grain == "day":
        return day.year * 10000 + day.month * 100 + day.day
    if grain == "month":
        return day.year * 100 + day.month
    if grain == "quarter":
        return fiscal.fiscal_year(day) * 10 + fiscal.fiscal_quarter(day)
    if grain == "year":
        return fiscal.fiscal_year(day)
    return 0


def buckets(period: Period, grain: str, fiscal: FiscalCalendar) -> list[Bucket]:
    """The buckets a period splits into, clipped to the period (an LTM in fiscal quarters starts and ends
    wherever the window does)."""
    check_grain(grain)
    if grain == "total":
        return [Bucket(0, period)]
    found: dict[int, tuple[dt.date, dt.date]] = {}  # key -> its first and last day in the period
    day = period.start
    while day < period.stop:
        key = bucket_key(day, grain, fiscal)
        found[key] = (found[key][0] if key in found else day, day)
        day += dt.timedelta(days=1)
    form = GRAIN_FORMS[grain]
    return [
        Bucket(key, Period(_bucket_label(key, grain), form, first, last + dt.timedelta(days=1)))
        for key, (first, last) in found.items()
    ]


def _bucket_label(key: int, grain: str) -> str:
    if grain == "day":
        return f"{key // 10000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"
    if grain == "month":
        return f"{key // 100:04d}-{key % 100:02d}"
    if grain == "quarter":
        return f"FY{key // 10}Q{key % 10}"
    return f"FY{key}"


def check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise bad("grain", f"unknown time grain {grain!r}; use one of {', '.join(GRAINS)}")
    return grain


def check_choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise bad(field, f"unknown {field} {value!r}; use one of {', '.join(choices)}")
    return value


def check_dimensions(names: list[str]) -> list[str]:
    for name in names:
        if name not in DIMENSIONS:
            raise bad("by", f"unknown dimension {name!r}; use one of {', '.join(DIMENSIONS)}")
    if len(set(names)) != len(names):
        raise bad("by", "a dimension is named twice")
    return names


# --- GMV definitions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GmvDefinition:
    """Which orders count toward GMV and which parts of their value."""

    name: str
    count_unpaid: bool
    count_cancelled: bool
    net_of_returns: bool
    include_shipping: bool
    include_tax: bool

    def describe(self) -> str:
        parts = [
            "all confirmed orders" if self.count_unpaid else "paid orders",
            "cancelled ones included" if self.count_cancelled else "net of cancellations",
            "net of refunds (as refunded, tax included)" if self.net_of_returns else "returns included",
            "with shipping" if self.include_shipping else "without shipping",
            "with taxes" if self.include_tax else "without taxes",
        ]
        return f"{self.name}: " + ", ".join(parts)


PRESETS = {
    d.name: d
    for d in (
        # Alibaba until 2022: confirmed orders whether or not paid, cancelled or returned.
        GmvDefinition("confirmed-gross", True, True, False, True, True),
        # Alibaba from late 2022: the same without unpaid orders.
        GmvDefinition("paid-gross", False, True, False, True, True),
        # A strict marketplace GMV: paid, net of cancellations and returns, goods only before tax.
        GmvDefinition("net-merchandise", False, False, True, False, False),
    )
}
DEFAULT_DEFINITION = "confirmed-gross"


def definition_named(name: str) -> GmvDefinition:
    if name not in PRESETS:
        raise bad("definition", f"unknown GMV definition {name!r}; use one of {', '.join(PRESETS)}")
    return PRESETS[name]


# --- the organisation views -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """`child` sits under `parent` from valid_from (inclusive) to valid_to (exclusive, open when None)."""

    child: str
    parent: str
    parent_kind: str
    valid_from: dt.date
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def ancestor_at(edges: list[Edge], unit: str, level: str, day: dt.date) -> str:
    """The unit's ancestor of a kind on a day; '(unassigned)' when the tree had none then."""
    by_child: dict[str, list[Edge]] = {}
    for edge in edges:
        by_child.setdefault(edge.child, []).append(edge)
    current = unit
    for _ in range(len(ORG_LEVELS) + 1):
        parent = next((e for e in by_child.get(current, []) if e.covers(day)), None)
        if parent is None:
            return "(unassigned)"
        if parent.parent_kind == level:
            return parent.parent
        current = parent.parent
    return "(unassigned)"


def structure_date(view: str, bucket: Bucket, recast_on: dt.date) -> dt.date:
    """As reported, a period is shown under the structure in force at its end (the Dec-2021 quarter under
    the new segments); recast, every period under the structure in force on one chosen date."""
    return bucket.period.last if view == "as-reported" else recast_on


# --- platform and external figures ---------------------------------------------------------------------

PLATFORM, EXTERNAL, PARTIAL = "platform", "external", "platform-partial"
SOURCE_RULE = (
    "a period the platform's data covers from its first day to its last (each unit's first to last day "
    "with facts) shows the platform's figure; otherwise the published (external) figure when there is "
    "one; otherwise, when the data covers part of the period, the platform's figure labelled "
    "platform-partial. The two are never added together."
)
FULL, PARTLY, NO_DATA = "full", "partial", "no data"


@dataclass(frozen=True)
class Coverage:
    """The days the platform's data holds for a unit: from its first day with facts to its last. Days in
    between without a sale count as covered (the store was recording; nothing sold). `taken_on`: the day
    the data was taken (the snapshot's refresh), still running then, so no period reaching it is whole."""

    first_day: dt.date | None
    last_day: dt.date | None
    taken_on: dt.date | None = None

    def covers(self, period: Period) -> bool:
        if self.first_day is None or self.last_day is None:
            return False
        running = self.taken_on is not None and self.taken_on <= period.last
        return self.first_day <= period.start and period.last <= self.last_day and not running

    def touches(self, period: Period) -> bool:
        if self.first_day is None or self.last_day is None:
            return False
        return period.start <= self.last_day and self.first_day <= period.last

    def of(self, period: Period) -> PeriodCoverage:
        """How much of `period` this covers."""
        if self.first_day is None or self.last_day is None or not self.touches(period):
            return PeriodCoverage(period, None, None, False)
        first, last = max(self.first_day, period.start), min(self.last_day, period.last)
        return PeriodCoverage(period, first, last, self.covers(period))

    def describe(self) -> str:
        return "nothing yet" if self.first_day is None else f"{self.first_day} to {self.last_day}"


NO_COVERAGE = Coverage(None, None)


def jointly(coverages: list[Coverage]) -> Coverage:
    """The days every one of these units covers (a sum over units is whole only where each part is);
    units without facts take no part. No coverage when they never overlap."""
    held = [c for c in coverages if c.first_day is not None and c.last_day is not None]
    if not held:
        return NO_COVERAGE
    first = max(c.first_day for c in held if c.first_day is not None)
    last = min(c.last_day for c in held if c.last_day is not None)
    taken = min((c.taken_on for c in held if c.taken_on is not None), default=None)
    return Coverage(first, last, taken) if first <= last else NO_COVERAGE


@dataclass(frozen=True)
class PeriodCoverage:
    """How much of a period the data covers: the first and the last day inside it with data (None when
    it holds none of it), and whether that is the whole period."""

    period: Period
    first_day: dt.date | None
    last_day: dt.date | None
    whole: bool

    @property
    def days(self) -> int:
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    @property
    def status(self) -> str:
        if self.whole:
            return FULL
        return PARTLY if self.days else NO_DATA

    def label(self) -> str:
        """'full', 'no data', or 'partial: 2025-12-01 to 2025-12-15 (15 of 365 days)'."""
        if self.status != PARTLY:
            return self.status
        return f"{PARTLY}: {self.first_day} to {self.last_day} ({self.days} of {self.period.days} days)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "status": self.status,
            "first_day": None if self.first_day is None else self.first_day.isoformat(),
            "last_day": None if self.last_day is None else self.last_day.isoformat(),
            "days": self.days,
            "period_days": self.period.days,
        }


def figure_source(period: Period, coverage: Coverage, has_external: bool) -> str | None:
    """Which figure stands for a period (see SOURCE_RULE); None when there is none. A published figure
    covers its whole period, so only a platform figure that covers it whole may take its place."""
    if coverage.covers(period):
        return PLATFORM
    if has_external:
        return EXTERNAL
    if coverage.touches(period):
        return PARTIAL
    return None


def latest_covered_ltm(coverage: Coverage) -> Period | None:
    """The latest LTM window that ends at a month end the data reaches and that it covers whole."""
    if coverage.last_day is None:
        return None
    last = coverage.last_day
    if (last + dt.timedelta(days=1)).day != 1:  # inside a month: the month before is the last whole one
        last = last.replace(day=1) - dt.timedelta(days=1)
    window = ltm_window(last.year, last.month)
    return window if coverage.covers(window) else None


# --- growth arithmetic -----------------------------------------------------------------------------------


def pct(value: Fraction) -> Decimal:
    """A fraction as a percentage rounded half up to two decimals."""
    return (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(PERCENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Bridge:
    """reported growth = constant-currency growth + FX effect, exactly, in fractions and as printed."""

    reported: Fraction
    constant_currency: Fraction
    fx_effect: Fraction

    @property
    def printed(self) -> tuple[Decimal, Decimal, Decimal]:
        """Percentages with two decimals whose sum still reconciles: FX effect is the remainder."""
        reported, constant = pct(self.reported), pct(self.constant_currency)
        return reported, constant, reported - constant


def growth_bridge(prior_minor: int, current_minor: int, current_at_prior_rates_minor: int) -> Bridge | None:
    """Year-on-year growth of a translated amount, split into constant-currency growth and FX effect.
    None when there is nothing to grow from."""
    if prior_minor == 0:
        return None
    reported = Fraction(current_minor - prior_minor, prior_minor)
    constant = Fraction(current_at_prior_rates_minor - prior_minor, prior_minor)
    return Bridge(reported, constant, Fraction(current_minor - current_at_prior_rates_minor, prior_minor))


def years_between(start: dt.date, end: dt.date) -> Decimal:
    """Whole months between two month ends, in years: Sep-2021 to Sep-2030 is exactly 9."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return Decimal(months) / 12


def cagr(start_value: int, end_value: int, years: Decimal) -> Decimal:
    """Compound annual growth rate as a fraction (0.189 for 18.9 % a year)."""
    if start_value <= 0 or end_value <= 0:
        raise bad("value", "growth needs positive start and end values")
    if years <= 0:
        raise bad("date", "the target date must come after the latest actual")
    with localcontext() as ctx:
        ctx.prec = 28
        ratio = Decimal(end_value) / Decimal(start_value)
        result: Decimal = ratio ** (Decimal(1) / years) - 1
    return result


def band_status(actual_pct: Decimal, low_pct: Decimal, high_pct: Decimal) -> str:
    if actual_pct < low_pct:
        return "below"
    if actual_pct > high_pct:
        return "above"
    return "within"


def on_track(required: Decimal, achieved: Decimal | None) -> str:
    """On track when the growth of the latest year at least matches the growth still required."""
    if achieved is None:
        return "unknown"
    return "on-track" if achieved >= required else "behind"
