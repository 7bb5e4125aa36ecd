"""Pure rules of the group's accounts: an investee's results recorded a number of quarters in arrears
at the stake held then, segment figures that reconcile to the group total, programme categories and
the share of a revenue earned abroad."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from entrepot.kernel import periods
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.periods import FiscalCalendar, Period

# The seven categories of investment announced at the investor day (Dec 2021), social ones flagged.
# Issue 27 names two of them (rural revitalisation, China's ageing population) and says four are social;
# group-facts.md names none, so the other five names are the product's own, and say so where shown.
CATEGORIES = {
    "rural-revitalisation": True,
    "ageing-population": True,
    "social-welfare": True,
    "small-business-support": True,
    "technology": False,
    "sustainability": False,
    "globalisation": False,
}
NAMED_BY_ISSUE = ("rural-revitalisation", "ageing-population")
# The outcomes a programme can be measured by from the platform's own data.
# gmv: GMV from buyers in the programme's countries; active_buyers: buyers there with at least one
# confirmed order in the period (the annual-active-consumers rule over the programme's window).
OUTCOME_METRICS = ("gmv", "active_buyers")
NOT_SOURCED = "not sourced: group-facts.md gives no such figure"
UNALLOCATED = "unallocated"


def bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [FieldError(field, message)])


def check_category(category: str) -> bool:
    """Whether the category is a social one; refused when it is not one of the seven."""
    if category not in CATEGORIES:
        raise bad("category", f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
    return CATEGORIES[category]


def category_source(category: str) -> str:
    if category in NAMED_BY_ISSUE:
        return "named in issue 27 (investor day, Dec 2021)"
    return "the product's own name: no source names this category"


def progress_pct(measured: int, target: int) -> Decimal:
    return (Decimal(measured) * 100 / Decimal(target)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def check_share(share: Decimal) -> Decimal:
    if (
        not share.is_finite()
        or not Decimal(0) <= share <= Decimal(1)
        or share != share.quantize(Decimal("1e-6"))
    ):
        raise bad("share", "a fraction from 0 to 1 with at most 6 decimal places, e.g. 0.33 for 33 %")
    return share


def check_lag(lag: int) -> int:
    if not 0 <= lag <= 4:
        raise bad("lag_quarters", "from 0 to 4 quarters")
    return lag


# --- investees -----------------------------------------------------------------------------------------


def quarters_of(period: Period, fiscal: FiscalCalendar) -> list[Period]:
    """The fiscal quarters a period is made of (a fiscal year: four; a quarter: itself)."""
    if period.kind == periods.FISCAL_QUARTER:
        return [period]
    if period.kind == periods.FISCAL_YEAR:
        first = periods.containing(periods.FISCAL_QUARTER, period.start, fiscal)
        return periods.series(
            first, periods.containing(periods.FISCAL_QUARTER, period.last, fiscal), fiscal, 4
        )
    raise bad("period", f"investees are reported by fiscal quarter or year, not by {period.kind}")


def in_arrears(recorded: Period, lag: int, fiscal: FiscalCalendar) -> Period:
    """The investee's quarter whose results the group records in `recorded`, `lag` quarters earlier."""
    day = periods.add_months(recorded.start, -3 * lag)
    return periods.containing(periods.FISCAL_QUARTER, day, fiscal)


@dataclass(frozen=True)
class Stake:
    share: Decimal
    valid_from: dt.date
    source: str


def stake_on(stakes: Iterable[Stake], day: dt.date) -> Stake | None:
    """The stake held on a day: the latest one starting on or before it."""
    held = [s for s in stakes if s.valid_from <= day]
    return max(held, key=lambda s: s.valid_from) if held else None


def share_of(net_income_minor: int, share: Decimal) -> int:
    """The group's share of a result, to the minor unit (half to even: no bias over many quarters)."""
    return int((Decimal(net_income_minor) * share).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# --- segments ------------------------------------------------------------------------------------------


def by_segment(figures: Mapping[str, int], segment_of: Mapping[str, str | None]) -> dict[str, int]:
    """Unit figures summed into the segment each unit sits in (on the structure asked for); a unit
    outside every segment is counted as unallocated, so the segments always add up to the total."""
    totals: dict[str, int] = {}
    for unit, value in figures.items():
        segment = segment_of.get(unit) or UNALLOCATED
        totals[segment] = totals.get(segment, 0) + value
    return totals


def remainder(total: int, parts: Iterable[int]) -> int:
    """What the named parts leave of a total (published segments leave the others and eliminations)."""
    return total - sum(parts)


# --- revenue abroad ------------------------------------------------------------------------------------


def share_pct(part: int, whole: int) -> Decimal | None:
    """part / whole in per cent to one decimal (None without a whole)."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
