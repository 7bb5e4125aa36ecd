"""Translation factors for a report, from the kernel's dated FX rates.

A factor turns minor units of a source currency into minor units of the target: the ECB cross rate of the
day times the difference of the two currencies' minor-unit scales, kept to ten decimals like every rate
the kernel returns. The transaction-date method has one factor per currency and day; the period-average
method one per currency and bucket, the plain mean of the daily cross rates over the bucket's days (the
days without a fixing take the latest earlier one, as the kernel does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.fx import RATE_PRECISION, FxRates
from entrepot.kernel.money import minor_unit_exponent, validate_currency
from entrepot.reporting.domain import Bucket, FiscalCalendar, bucket_key

# `provisional`: the factor took a rate older than the staleness limit (the newest held then; the kernel
# marks it), so the amounts it translates are re-stated once a rate for their day is loaded.
RATES_SCHEMA = pa.schema(
    [
        ("currency", pa.string()),
        ("rate_key", pa.int64()),
        ("factor", pa.decimal128(18, 10)),
        ("provisional", pa.bool_()),
    ]
)


def check_target(fx: FxRates, currency: str) -> str:
    try:
        validate_currency(currency)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.detail, [FieldError("currency", exc.detail)]) from None
    if not fx.publishes(currency):
        detail = f"no FX rates for {currency}: reports can be translated only into currencies with rates"
        raise ValidationFailed(detail, [FieldError("currency", detail)])
    return currency


def daily_factor(fx: FxRates, source: str, target: str, day: dt.date) -> Decimal:
    """Target minor units per source minor unit on a day, unrounded."""
    return daily_rate(fx, source, target, day)[0]


def daily_rate(fx: FxRates, source: str, target: str, day: dt.date) -> tuple[Decimal, bool]:
    """The day's factor, and whether either rate behind it is provisional (older than the limit)."""
    if source == target:
        return Decimal(1), False
    scale = Decimal(10) ** (minor_unit_exponent(target) - minor_unit_exponent(source))
    to, of = fx.rate(target, day), fx.rate(source, day)
    return to.per_eur / of.per_eur * scale, to.provisional or of.provisional


def days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def transaction_date_factors(
    fx: FxRates,
    currencies: list[str],
    target: str,
    start: dt.date,
    end: dt.date,
    rate_day: Callable[[dt.date], dt.date] | None = None,
    held: Mapping[str, tuple[dt.date, dt.date]] | None = None,
) -> pa.Table:
    """One factor per currency and day from `start` to `end`: the rate of that day, or of the day
    `rate_day` names (constant currency: the same day a year earlier). A currency with a span in `held`
    (its first and last day with an amount) gets factors on those days only: no amount needs the others,
    and a currency the operator prices by hand may have no rate there."""
    rows = [
        _factor_row(
            c,
            bucket_key(day, "day", FiscalCalendar()),
            daily_rate(fx, c, target, rate_day(day) if rate_day else day),
        )
        for c in currencies
        for day in days(*_clipped(start, end, (held or {}).get(c)))
    ]
    return pa.Table.from_pylist(rows, schema=RATES_SCHEMA)


def _factor_row(currency: str, key: int, rate: tuple[Decimal, bool]) -> dict[str, Any]:
    factor, provisional = rate
    return {
        "currency": currency,
        "rate_key": key,
        "factor": factor.quantize(RATE_PRECISION),
        "provisional": provisional,
    }


def _clipped(start: dt.date, end: dt.date, span: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date]:
    """The days from `start` to `end` inside `span` (an empty range when they do not meet)."""
    if span is None:
        return start, end
    return max(start, span[0]), min(end, span[1])


def period_average_factors(
    fx: FxRates,
    currencies: list[str],
    target: str,
    periods: list[Bucket],
    held: Mapping[str, tuple[dt.date, dt.date]] | None = None,
) -> pa.Table:
    """One factor per currency and bucket: the mean of the daily rates over the bucket's days from the
    first day both currencies have a rate (a currency the operator prices by hand has none before its
    first rate). A bucket a currency has no amount in (by `held`, its first and last such days) gets
    no factor, as none is needed."""
    rows = [
        _factor_row(
            c,
            bucket.key,
            mean_rate(fx, c, target, _rated_from(fx, c, target, bucket.period.start), bucket.period.last),
        )
        for c in currencies
        for bucket in periods
        if meets(bucket.period.start, bucket.period.last, (held or {}).get(c))
    ]
    return pa.Table.from_pylist(rows, schema=RATES_SCHEMA)


def _rated_from(fx: FxRates, source: str, target: str, start: dt.date) -> dt.date:
    """`start`, or the later first day with rates of both currencies (when that leaves no day, the
    bucket's start stays, so that the lookup says which rate is missing)."""
    firsts = [fx.first_day(c) for c in (source, target)]
    return max([start, *(d for d in firsts if d is not None)])


def meets(start: dt.date, end: dt.date, span: tuple[dt.date, dt.date] | None) -> bool:
    """Whether the days from `start` to `end` meet `span` (None: unknown, so they may)."""
    return span is None or (span[0] <= end and start <= span[1])


def mean_factor(fx: FxRates, source: str, target: str, start: dt.date, end: dt.date) -> Decimal:
    """The mean of the daily factors from `start` to `end`, both included, to RATE_PRECISION."""
    return mean_rate(fx, source, target, start, end)[0]


def mean_rate(fx: FxRates, source: str, target: str, start: dt.date, end: dt.date) -> tuple[Decimal, bool]:
    """The mean factor, and whether any day's rate behind it is provisional."""
    daily = [daily_rate(fx, source, target, day) for day in days(start, end)]
    if not daily:  # the currencies' rates begin after the period: say which one is missing
        daily = [daily_rate(fx, source, target, end)]
    mean = sum((factor for factor, _ in daily), Decimal(0)) / len(daily)
    return mean.quantize(RATE_PRECISION), any(provisional for _, provisional in daily)


def translate_at_period_average(
    fx: FxRates, minor: int, source: str, target: str, start: dt.date, end: dt.date
) -> int:
    """An amount of a whole period (a published figure) in the target's minor units, at the mean of the
    daily rates over the period's days, rounded half up as the reports round their atoms."""
    factor = mean_factor(fx, source, target, start, end)
    return int((minor * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
