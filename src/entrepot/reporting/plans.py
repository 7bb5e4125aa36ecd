"""Use cases of targets, guidance and external actuals: import published figures (CSV), set GMV targets
and guidance bands, and measure them: the growth a target still requires from the latest LTM actual, and
an actual against every issue of a guidance band. The built-in scenario loads group-facts.md's figures."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from importlib.resources import files
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from entrepot.kernel.bounds import BoundedCsv
from entrepot.kernel.errors import FieldError, NotFound, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import Money, exact_minor, validate_currency
from entrepot.kernel.periods import Period
from entrepot.organization import service as organization
from entrepot.platform import audit
from entrepot.reporting.domain import (
    PLATFORM,
    Coverage,
    FiscalCalendar,
    band_status,
    cagr,
    figure_source,
    latest_covered_ltm,
    on_track,
    parse_period,
    pct,
    prior_year,
    years_between,
)
from entrepot.reporting.models import ACTUAL_METRICS, ExternalActual, GmvRule, GuidanceBand, Target

METRICS = ("gmv", "revenue", "active_consumers")
# Adjusted EBITA may be a loss (Innovation initiatives'); a share abroad is a whole per cent, 0 to 100.
SIGNED_METRICS = ("adjusted_ebita",)
PERCENT_METRICS = ("revenue_abroad_pct",)
ACTUAL_COLUMNS = ("metric", "scope", "period", "currency", "value", "source")
# The largest figure taken, in major units or as a count: beyond any group's published GMV, revenue or
# consumers, and 10^18 minor units at most (three-decimal currencies) still fits a BIGINT column.
MAX_FIGURE = Decimal(10) ** 15


def import_actuals_csv(session: Session, text: str, fiscal: FiscalCalendar, now: dt.datetime) -> int:
    """Add or replace published actuals from CSV; a bad row rejects the whole file (nothing is written)."""
    table = BoundedCsv(text)
    missing = [c for c in ACTUAL_COLUMNS if c not in table.fieldnames]
    if missing:
        raise ValidationFailed(
            f"the CSV lacks the columns {', '.join(missing)}; it needs {', '.join(ACTUAL_COLUMNS)}"
        )
    parsed = [(line, _actual(row, line, fiscal, now)) for line, row in table.rows()]
    _check_scopes_exist(session, parsed)
    rows = [row for _, row in parsed]
    for row in rows:
        session.execute(
            delete(ExternalActual).where(
                ExternalActual.metric == row.metric,
                ExternalActual.scope == row.scope,
                ExternalActual.period == row.period,
            )
        )
        session.add(row)
    session.flush()
    audit.record(session, "actuals.imported", "external_actuals", None, _imported(rows), now)
    return len(rows)


def _imported(rows: list[ExternalActual]) -> dict[str, Any]:
    """An import's audit entry: how many figures, and which (the figures themselves are the actuals')."""
    return {
        "rows": len(rows),
        "metrics": sorted({r.metric for r in rows}),
        "scopes": sorted({r.scope for r in rows}),
        "periods": sorted({r.period for r in rows}),
    }


def _check_scopes_exist(session: Session, parsed: list[tuple[int, ExternalActual]]) -> None:
    """A published figure names a unit of the organisation (open or closed), so that it is reported
    where the unit sits; Cloud's revenue needs the Cloud segment."""
    known = organization.existing_codes(session, {row.scope for _, row in parsed})
    for line, row in parsed:
        scope = row.scope
        if scope not in known:
            message = f"no unit {scope!r} in the organisation: a figure names an existing unit's code"
            raise ValidationFailed(
                f"line {line}, column scope: {message}", [FieldError(f"line {line}.scope", message)]
            )


def _actual(row: dict[str, Any], line: int, fiscal: FiscalCalendar, now: dt.datetime) -> ExternalActual:
    def fail(field: str, message: str) -> ValidationFailed:
        detail = f"line {line}, column {field}: {message}"
        return ValidationFailed(detail, [FieldError(f"line {line}.{field}", message)])

    _check_row_shape(row, fail)
    metric = row["metric"].strip()
    if metric not in ACTUAL_METRICS:
        raise fail("metric", f"unknown metric {metric!r}; use one of {', '.join(ACTUAL_METRICS)}")
    try:
        period = parse_period(row["period"], fiscal).label
    except ValidationFailed as exc:
        raise fail("period", exc.detail) from None
    try:
        currency = validate_currency(row["currency"].strip()) if row["currency"].strip() else None
    except ValidationFailed as exc:
        raise fail("currency", exc.detail) from None
    minor = figure_minor(row["value"], currency, fail, signed=metric in SIGNED_METRICS)
    if metric in PERCENT_METRICS and (currency is not None or minor > 100):
        raise fail("value", "a share in per cent: a whole number from 0 to 100, without a currency")
    scope = row["scope"].strip()
    if not scope:
        raise fail("scope", "name the unit (or the group) the figure is for")
    return ExternalActual(
        metric=metric,
        scope=scope,
        period=period,
        currency=currency,
        value_minor=minor,
        source=row["source"].strip()[:200],
        imported_at=now,
    )


def _check_row_shape(row: dict[Any, Any], fail: Callable[[str, str], ValidationFailed]) -> None:
    """csv.DictReader fills a short row's missing columns with None and keeps a long row's extra fields
    under None: either means the row does not line up with the header."""
    missing = [c for c in ACTUAL_COLUMNS if row.get(c) is None]
    if missing:
        raise fail(missing[0], f"the row stops before the {', '.join(missing)} column(s)")
    if row.get(None):
        raise fail("source", f"the row has more fields than the {len(ACTUAL_COLUMNS)} columns of the header")


def figure_minor(
    text: str, currency: str | None, fail: Callable[[str, str], ValidationFailed], signed: bool = False
) -> int:
    """An amount in minor units of `currency`, or a whole count when there is no currency; 0 to
    MAX_FIGURE in major units (beyond any published figure, and within the column in minor units), or
    from -MAX_FIGURE when `signed` (a profit that may be a loss)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if value.is_nan():
        raise fail("value", f"{text!r} is not a number") from None
    if not value.is_finite() or not (-MAX_FIGURE if signed else 0) <= value <= MAX_FIGURE:
        what = "an amount (major units)" if currency else "a count"
        low = "-10^15" if signed else "0"
        raise fail("value", f"{text!r} is out of range: {what} must be from {low} to 10^15")
    if currency is not None:
        try:
            return exact_minor(value, currency)  # refused rather than rounded: it is a published figure
        except ValueError as exc:
            raise fail("value", f"{text!r}: {exc}") from None
    if value != value.to_integral_value():
        raise fail("value", f"{text!r}: a count without a currency must be a whole number")
    return int(value)


def known_scope(session: Session, scope: str) -> str:
    """`scope` when it is the code of a unit of the organisation (a target or guidance is for one, as
    published actuals are)."""
    if organization.find_unit(session, scope) is None:
        message = f"unknown scope {scope!r}: not the code of a unit of the organisation"
        raise ValidationFailed(message, [FieldError("scope", message)])
    return scope


def actuals(session: Session, metric: str | None = None, scope: str | None = None) -> list[ExternalActual]:
    query = select(ExternalActual).order_by(
        ExternalActual.metric, ExternalActual.scope, ExternalActual.period
    )
    if metric:
        query = query.where(ExternalActual.metric == metric)
    if scope:
        query = query.where(ExternalActual.scope == scope)
    return list(session.scalars(query))


def add_target(
    session: Session, metric: str, scope: str, value: Money, due_on: dt.date, note: str, now: dt.datetime
) -> Target:
    if metric != "gmv":
        raise ValidationFailed("targets are GMV targets", [FieldError("metric", "must be gmv")])
    if value.minor <= 0:
        raise ValidationFailed("a target must be positive", [FieldError("value", "must be positive")])
    target = Target(
        public_id=new_id("tgt"),
        metric=metric,
        scope=scope,
        value_minor=value.minor,
        currency=value.currency,
        due_on=due_on,
        note=note,
        created_at=now,
    )
    session.add(target)
    session.flush()
    after = {"metric": metric, "scope": scope, "value_minor": value.minor, "currency": value.currency}
    audit.record(session, "target.created", target.public_id, None, after | {"due_on": due_on}, now)
    return target


def add_guidance(
    session: Session,
    metric: str,
    scope: str,
    period: str,
    low: Decimal,
    high: Decimal,
    issued_on: dt.date,
    note: str,
    fiscal: FiscalCalendar,
) -> GuidanceBand:
    if metric not in METRICS:
        message = f"unknown metric {metric!r}; use one of {', '.join(METRICS)}"
        raise ValidationFailed(message, [FieldError("metric", message)])
    if low > high:
        raise ValidationFailed("the band is upside down", [FieldError("low_pct", "must not exceed high_pct")])
    label = parse_period(period, fiscal).label
    band = GuidanceBand(
        metric=metric, scope=scope, period=label, low_pct=low, high_pct=high, issued_on=issued_on, note=note
    )
    session.add(band)
    session.flush()
    # a later issue revises an earlier one: the latest issued before this one is what it replaced
    after = {
        "low_pct": plain_decimal(low),
        "high_pct": plain_decimal(high),
        "issued_on": issued_on,
        "note": note,
    }
    subject = f"{metric}/{scope}/{label}"
    audit.record(session, "guidance.issued", subject, _guidance_before(session, band), after)
    return band


def _guidance_before(session: Session, band: GuidanceBand) -> dict[str, Any] | None:
    earlier = session.scalar(
        select(GuidanceBand)
        .where(
            GuidanceBand.metric == band.metric,
            GuidanceBand.scope == band.scope,
            GuidanceBand.period == band.period,
            GuidanceBand.issued_on < band.issued_on,
        )
        .order_by(GuidanceBand.issued_on.desc())
        .limit(1)
    )
    if earlier is None:
        return None
    low, high = plain_decimal(earlier.low_pct), plain_decimal(earlier.high_pct)
    return {"low_pct": low, "high_pct": high, "issued_on": earlier.issued_on}


def plain_decimal(value: Decimal) -> str:
    """A percentage or a share as an audit entry shows it: the same figure whether it was typed ("20") or
    read back from its column ("20.00"), never in exponent form."""
    return format(value.normalize(), "f")


class PlatformActuals(Protocol):
    """What a target needs from the platform's own figures (history.PlatformFigures)."""

    def coverage_of(self, scope: str) -> Coverage: ...

    def value(self, metric: str, scope: str, period: Period, currency: str) -> int: ...


@dataclass(frozen=True)
class TargetStatus:
    target: Target
    latest_period: str
    latest_minor: int
    latest_external: bool
    years: Decimal
    required_cagr_pct: Decimal
    achieved_pct: Decimal | None
    status: str
    # The days the platform's data covers for the target's scope ("2025-11-01 to 2025-12-15"); None
    # without a snapshot. A window it does not cover whole keeps its published figure.
    platform_covers: str | None = None


def target_status(
    session: Session,
    target: Target,
    platform: PlatformActuals | None = None,
    published: list[ExternalActual] | None = None,
) -> TargetStatus:
    """The CAGR needed from the latest LTM actual (in the target's currency) to the target's date, and
    whether the growth of the latest twelve months keeps up. The latest actual is the later of the
    published LTM figures and the platform's latest LTM window covered whole; a window with both takes
    the platform's figure (domain.SOURCE_RULE). `published`: the target's metric and scope's actuals
    when the caller read them already (`actuals_of_targets`), else they are read here."""
    if published is None:
        published = actuals(session, target.metric, target.scope)
    figures = _ltm_figures(target, platform, published)
    if not figures:
        raise NotFound(f"no LTM {target.metric} actual in {target.currency} for {target.scope}")
    window = max((parse_period(label, FiscalCalendar()) for label in figures), key=lambda w: w.last)
    latest = window.label
    value, external = figures[latest]
    years = years_between(window.last, target.due_on)
    required = cagr(value, target.value_minor, years)
    year_before = figures.get(prior_year(window, FiscalCalendar()).label)
    achieved = (
        pct(Fraction(value - year_before[0], year_before[0])) if year_before and year_before[0] else None
    )
    required_pct = (required * 100).quantize(Decimal("0.01"))
    covers = None if platform is None else platform.coverage_of(target.scope).describe()
    return TargetStatus(
        target,
        latest,
        value,
        external,
        years,
        required_pct,
        achieved,
        on_track(required_pct, achieved),
        covers,
    )


def _ltm_figures(
    target: Target, platform: PlatformActuals | None, published: list[ExternalActual]
) -> dict[str, tuple[int, bool]]:
    """LTM label -> (value in minor units, external?): the published figures, then the platform's latest
    covered window and the window a year before it, each replacing a published figure it covers."""
    figures = {
        a.period: (a.value_minor, True)
        for a in published
        if a.period.startswith("LTM") and a.currency == target.currency
    }
    if platform is None:
        return figures
    coverage = platform.coverage_of(target.scope)
    latest = latest_covered_ltm(coverage)
    if latest is None:
        return figures
    for window in (latest, prior_year(latest, FiscalCalendar())):
        if figure_source(window, coverage, window.label in figures) == PLATFORM:
            figures[window.label] = (
                platform.value(target.metric, target.scope, window, target.currency),
                False,
            )
    return figures


def targets(session: Session) -> list[Target]:
    return list(session.scalars(select(Target).order_by(Target.id)))


def actuals_of_targets(
    session: Session, targets: list[Target]
) -> dict[tuple[str, str], list[ExternalActual]]:
    """(metric, scope) -> its actuals, as `actuals` orders them, for every target's, in one query."""
    found: dict[tuple[str, str], list[ExternalActual]] = {(t.metric, t.scope): [] for t in targets}
    if not found:
        return found
    query = select(ExternalActual).where(
        ExternalActual.metric.in_({m for m, _ in found}), ExternalActual.scope.in_({s for _, s in found})
    )
    for actual in session.scalars(
        query.order_by(ExternalActual.metric, ExternalActual.scope, ExternalActual.period)
    ):
        if (actual.metric, actual.scope) in found:
            found[(actual.metric, actual.scope)].append(actual)
    return found


def latest_guided_period(session: Session, metric: str, scope: str) -> str | None:
    """The period of the newest guidance issued for a metric of a scope, if any was."""
    return session.scalar(
        select(GuidanceBand.period)
        .where(GuidanceBand.metric == metric, GuidanceBand.scope == scope)
        .order_by(GuidanceBand.issued_on.desc(), GuidanceBand.id.desc())
        .limit(1)
    )


def guidance_status(
    session: Session, metric: str, scope: str, period: str, fiscal: FiscalCalendar
) -> dict[str, Any]:
    """Growth of the period over the year before, from the actuals, against every issue of the band."""
    label = parse_period(period, fiscal).label
    bands = list(
        session.scalars(
            select(GuidanceBand)
            .where(GuidanceBand.metric == metric, GuidanceBand.scope == scope, GuidanceBand.period == label)
            .order_by(GuidanceBand.issued_on)
        )
    )
    if not bands:
        raise NotFound(f"no guidance for {metric} of {scope} in {label}")
    base = prior_year(parse_period(label, fiscal), fiscal).label
    figures = {a.period: a for a in actuals(session, metric, scope)}
    if label not in figures or base not in figures:
        raise NotFound(f"actual {metric} of {scope} for {label} and {base} are both needed")
    now, before = figures[label], figures[base]
    if before.value_minor == 0:  # an import may hold a zero: there is no growth from nothing
        raise ValidationFailed(f"actual {metric} of {scope} for {base} is zero: no growth to measure from it")
    growth = Fraction(now.value_minor - before.value_minor, before.value_minor)
    shown = pct(growth).quantize(Decimal("0.1"))
    revisions = [
        {
            "issued_on": b.issued_on.isoformat(),
            "low_pct": str(b.low_pct),
            "high_pct": str(b.high_pct),
            "note": b.note,
            "actual_vs_band": band_status(pct(growth), b.low_pct, b.high_pct),
        }
        for b in bands
    ]
    return {
        "metric": metric,
        "scope": scope,
        "period": label,
        "base_period": base,
        "actual_growth_pct": str(shown),
        "actual_external": True,
        "current": revisions[-1],
        "revisions": revisions,
    }


def definitions(session: Session) -> dict[str, str]:
    return {r.business_unit: r.definition for r in session.scalars(select(GmvRule))}


def set_definition(session: Session, business_unit: str, definition: str, now: dt.datetime) -> None:
    rule = session.scalar(select(GmvRule).where(GmvRule.business_unit == business_unit))
    before = None if rule is None else {"definition": rule.definition}
    if rule is None:
        session.add(GmvRule(business_unit=business_unit, definition=definition, updated_at=now))
    else:
        rule.definition, rule.updated_at = definition, now
    audit.record(session, "gmv_definition.set", business_unit, before, {"definition": definition}, now)


def load_group_facts(session: Session, fiscal: FiscalCalendar, now: dt.datetime) -> dict[str, Any]:
    """The built-in scenario: group-facts.md's published figures, Lazada's target and FY2022 guidance."""
    data = files("entrepot.reporting") / "data"
    count = import_actuals_csv(session, (data / "group_facts_actuals.csv").read_text(), fiscal, now)
    session.execute(delete(Target).where(Target.note.like("%(investor day, Dec 2021)")))
    session.execute(delete(GuidanceBand).where(GuidanceBand.external.is_(True)))
    for row in csv.DictReader(io.StringIO((data / "group_facts_plans.csv").read_text())):
        if row["kind"] == "target":
            value = Money.from_decimal(row["value"], row["currency"])
            add_target(
                session,
                row["metric"],
                row["scope"],
                value,
                dt.date.fromisoformat(row["date"]),
                row["note"],
                now,
            )
        else:
            band = add_guidance(
                session,
                row["metric"],
                row["scope"],
                row["period"],
                Decimal(row["low_pct"]),
                Decimal(row["high_pct"]),
                dt.date.fromisoformat(row["date"]),
                row["note"],
                fiscal,
            )
            band.external = True
    return {"actuals": count}
