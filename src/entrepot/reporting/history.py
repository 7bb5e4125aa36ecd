"""The platform's own figures beside published (external) ones: a series over periods that shows, for
each, the one figure that stands for it (domain.SOURCE_RULE), labelled external or platform; and the
platform's latest LTM actual, from which a GMV target's required growth can start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from entrepot.kernel.errors import NotFound
from entrepot.kernel.fx import FxRates
from entrepot.kernel.money import Money
from entrepot.kernel.periods import Period
from entrepot.reporting import plans, service
from entrepot.reporting.domain import (
    EXTERNAL,
    FULL,
    ORG_LEVELS,
    SOURCE_RULE,
    VIEWS,
    Coverage,
    FiscalCalendar,
    GmvDefinition,
    bad,
    check_choice,
    figure_source,
    period_series,
)
from entrepot.reporting.rates import check_target, translate_at_period_average

METRICS = ("gmv", "revenue")
# The column of each report that holds the metric, in minor units of the report's currency.
MEASURE = {"gmv": "gmv_minor", "revenue": "total_minor"}


@dataclass
class PlatformFigures:
    """The platform's figures from the snapshot in one view and FX method, per organisation unit."""

    snap: service.Snapshot
    fiscal: FiscalCalendar
    fx: FxRates
    definitions: dict[str, GmvDefinition]
    view: str = "recast"
    fx_method: str = "transaction-date"
    # A report per (metric, level, period, currency) asked: targets of one level share their windows.
    _reports: dict[tuple[str, str, str, str], dict[str, int]] = field(default_factory=dict, init=False)

    def coverage_of(self, scope: str) -> Coverage:
        """The days the data covers for every business unit under `scope` (Service.Snapshot.coverage):
        a unit's first to last day with facts, not the span of the whole snapshot."""
        return self.snap.coverage_of(self.snap.units_under(scope))

    def level_of(self, scope: str) -> str:
        kind = self.snap.units.get(scope)
        if kind is None:
            raise NotFound(f"{scope} is not a unit of the organisation in the snapshot")
        return str(kind)

    def by_unit(self, metric: str, level: str, period: Period, currency: str) -> dict[str, int]:
        """The metric of every unit of a level over a period, in minor units of `currency`."""
        key = (metric, level, period.label, currency)
        if key not in self._reports:
            request = service.ReportRequest(
                period.label, (level,), "total", self.view, None, currency, self.fx_method
            )
            if metric == "gmv":
                report = service.gmv_report(self.snap, request, self.fiscal, self.fx, self.definitions)
            else:
                report = service.revenue_report(self.snap, request, self.fiscal, self.fx)
            self._reports[key] = {r[level]: r[MEASURE[metric]] for r in report.table.to_pylist()}
        return self._reports[key]

    def value(self, metric: str, scope: str, period: Period, currency: str) -> int:
        return self.by_unit(metric, self.level_of(scope), period, currency).get(scope, 0)


def history(
    session: Session,
    platform: PlatformFigures,
    metric: str,
    level: str,
    first: str,
    last: str,
    currency: str,
) -> service.Report:
    """`metric` of every unit of `level` for each period from `first` to `last` (fiscal years, quarters
    or months), each row the platform's or the published figure, never both (domain.SOURCE_RULE).
    Published figures in another currency are translated at the period's average rate."""
    check_choice("metric", metric, METRICS)
    check_choice("by", level, ORG_LEVELS)
    check_choice("view", platform.view, VIEWS)
    check_target(platform.fx, currency)
    periods = period_series(first, last, platform.fiscal)
    units = sorted(code for code, kind in platform.snap.units.items() if kind == level)
    published = {
        (a.scope, a.period): a
        for a in plans.actuals(session, metric)
        if a.scope in units and a.currency is not None
    }
    rows = []
    for period in periods:
        computed: dict[str, int] | None = None
        for unit in units:
            coverage = platform.coverage_of(unit)
            source = figure_source(period, coverage, (unit, period.label) in published)
            if source is None:
                continue
            if source == EXTERNAL:
                rows.append(
                    _external_row(
                        platform.fx, level, unit, period, published[(unit, period.label)], currency, metric
                    )
                )
                continue
            if computed is None:  # one query per period, and only for periods the platform holds
                computed = platform.by_unit(metric, level, period, currency)
            covered = coverage.of(period).label()
            rows.append(_row(level, unit, period, computed.get(unit, 0), source, "", metric, covered))
    if not rows:
        raise bad(
            "first", f"neither the snapshot nor the published figures hold {metric} from {first} to {last}"
        )
    meta = {
        "period": f"{periods[0].label} to {periods[-1].label}",
        "from": periods[0].start.isoformat(),
        "to": periods[-1].last.isoformat(),
        "currency": currency,
        "view": platform.view,
        "fx_method": f"{platform.fx_method} (a published figure in another currency: the period's mean)",
        "rule": SOURCE_RULE,
        "platform_covers": _coverage_text(platform, units),
        "data_freshness": platform.snap.freshness(),
    }
    columns = ["period", level, metric, "source", "published", "coverage"]
    return service.Report(f"{metric}-history", columns, pa.Table.from_pylist(rows), meta)


def _row(
    level: str,
    unit: str,
    period: Period,
    minor: int,
    source: str,
    published: str,
    metric: str,
    coverage: str = FULL,  # a published figure covers its whole period
) -> dict[str, Any]:
    return {
        "period": period.label,
        level: unit,
        f"{metric}_minor": minor,
        "source": source,
        "published": published,
        "coverage": coverage,
    }


def _external_row(
    fx: FxRates, level: str, unit: str, period: Period, actual: Any, currency: str, metric: str
) -> dict[str, Any]:
    minor = actual.value_minor
    if actual.currency != currency:
        minor = translate_at_period_average(fx, minor, actual.currency, currency, period.start, period.last)
    as_published = (
        f"{actual.currency} {Money(actual.value_minor, actual.currency).to_decimal():f} ({actual.source})"
    )
    return _row(level, unit, period, minor, EXTERNAL, as_published, metric)


def _coverage_text(platform: PlatformFigures, units: list[str]) -> str:
    """Each unit's days with data, e.g. "lazada 2025-11-01 to 2025-12-15; taobao nothing yet"."""
    return "; ".join(f"{unit} {platform.coverage_of(unit).describe()}" for unit in units)
