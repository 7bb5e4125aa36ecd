"""Use cases of investment programmes: each filed under one of the seven categories (social ones
flagged), its commitments and spend per fiscal period, and outcome targets measured from the platform's
own data (GMV and orders from buyers in the programme's countries) with their progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import Money
from entrepot.kernel.periods import FiscalCalendar
from entrepot.organization.domain import check_code
from entrepot.platform import audit
from entrepot.platform.db import refuse_taken_code
from entrepot.reporting.accounts.domain import (
    NOT_SOURCED,
    OUTCOME_METRICS,
    category_source,
    check_category,
    progress_pct,
)
from entrepot.reporting.accounts.models import Programme, ProgrammeSpend, ProgrammeTarget
from entrepot.reporting.domain import parse_period

# What measures an outcome: (metric, countries, period label) -> value (minor units of the currency
# asked for, or a count), or None when the platform has no data to measure it from.
Measure = Callable[[str, list[str], str, str], int | None]


# The report's columns, as the API and the CLI show them.
COLUMNS = (
    "programme",
    "category",
    "social",
    "category_named_by",
    "committed",
    "spent",
    "spend_source",
    "outcome",
    "measured",
    "measured_source",
    "target",
    "progress_pct",
)


def get_programme(session: Session, code: str) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        raise NotFound(f"no programme {code!r}")
    return programme


def check_countries(countries: list[str]) -> str:
    errors = [e for e in (country_error(c) for c in countries) if e is not None]
    if errors:
        raise ValidationFailed("invalid countries", [FieldError("countries", e.message) for e in errors])
    return ",".join(sorted(set(countries)))


def add_programme(
    session: Session, code: str, name: str, category: str, countries: list[str], source: str, now: dt.datetime
) -> Programme:
    check_code(code)
    check_category(category)
    listed = check_countries(countries)
    refuse_taken_code(session, Programme, code, "a programme")
    programme = Programme(
        public_id=new_id("prg"),
        code=code,
        name=name,
        category=category,
        countries=listed,
        source=source,
        created_at=now,
    )
    session.add(programme)
    session.flush()
    after = {"name": name, "category": category, "countries": listed, "source": source}
    audit.record(session, "programme.created", code, None, after, now)
    return programme


def record_spend(
    session: Session,
    code: str,
    period: str,
    committed: Money,
    spent: Money,
    source: str,
    fiscal: FiscalCalendar,
) -> ProgrammeSpend:
    """What a programme committed and spent in a fiscal period; a second record replaces the first."""
    programme = get_programme(session, code)
    label = parse_period(period, fiscal).label
    if committed.currency != spent.currency:
        raise ValidationFailed(
            "commitment and spend in one currency", [FieldError("currency", "one currency")]
        )
    if committed.minor < 0 or spent.minor < 0:
        raise ValidationFailed("amounts are not negative", [FieldError("spent", "not negative")])
    earlier = session.scalar(
        select(ProgrammeSpend).where(
            ProgrammeSpend.programme_id == programme.id, ProgrammeSpend.period == label
        )
    )
    before = None if earlier is None else _spend_terms(earlier)
    session.execute(
        delete(ProgrammeSpend).where(
            ProgrammeSpend.programme_id == programme.id, ProgrammeSpend.period == label
        )
    )
    row = ProgrammeSpend(
        programme_id=programme.id,
        period=label,
        currency=committed.currency,
        committed_minor=committed.minor,
        spent_minor=spent.minor,
        source=source,
    )
    session.add(row)
    session.flush()
    audit.record(session, "programme_spend.recorded", f"{code}/{label}", before, _spend_terms(row))
    return row


def _spend_terms(row: ProgrammeSpend) -> dict[str, Any]:
    return {
        "committed_minor": row.committed_minor,
        "spent_minor": row.spent_minor,
        "currency": row.currency,
        "source": row.source,
    }


def add_target(
    session: Session,
    code: str,
    metric: str,
    value: Decimal,
    currency: str | None,
    due_on: dt.date,
    source: str,
) -> ProgrammeTarget:
    """An outcome target by a day: GMV (minor units of `currency`) or active buyers (a count, no
    currency) from the programme's countries."""
    programme = get_programme(session, code)
    if metric not in OUTCOME_METRICS:
        raise ValidationFailed(
            f"unknown metric {metric!r}", [FieldError("metric", f"one of {', '.join(OUTCOME_METRICS)}")]
        )
    if (metric == "gmv") != (currency is not None):
        message = "a GMV target names its currency; a count of buyers has none"
        raise ValidationFailed(message, [FieldError("currency", message)])
    if currency is not None:
        minor = Money.from_decimal(value, currency).minor
    elif value != value.to_integral_value():
        raise ValidationFailed(
            "a count of buyers is whole", [FieldError("value", "a whole number of buyers")]
        )
    else:
        minor = int(value)
    if minor <= 0:
        raise ValidationFailed("a target is positive", [FieldError("value", "must be positive")])
    existing = select(ProgrammeTarget.id).where(
        ProgrammeTarget.programme_id == programme.id,
        ProgrammeTarget.metric == metric,
        ProgrammeTarget.due_on == due_on,
    )
    if session.scalar(existing) is not None:
        raise Conflict(f"{code} has a {metric} target due on {due_on}", code="duplicate")
    row = ProgrammeTarget(
        programme_id=programme.id, metric=metric, value=minor, currency=currency, due_on=due_on, source=source
    )
    session.add(row)
    session.flush()
    after = {"metric": metric, "value": minor, "currency": currency, "due_on": due_on, "source": source}
    audit.record(session, "programme_target.created", code, None, after)
    return row


def programmes_report(
    session: Session, period: str, fiscal: FiscalCalendar, measure: Measure
) -> list[dict[str, Any]]:
    """Each programme in the period: category (social or not, and who names it), commitment and spend
    (or why there is none), and each outcome the platform measures against its targets."""
    label = parse_period(period, fiscal).label
    spend = {
        s.programme_id: s
        for s in session.scalars(select(ProgrammeSpend).where(ProgrammeSpend.period == label))
    }
    targets: dict[int, list[ProgrammeTarget]] = {}
    for t in session.scalars(select(ProgrammeTarget).order_by(ProgrammeTarget.due_on)):
        targets.setdefault(t.programme_id, []).append(t)
    rows = []
    for p in session.scalars(select(Programme).order_by(Programme.code)):
        countries = [c for c in p.countries.split(",") if c]
        base = _programme_base(p, label, spend.get(p.id))
        for metric in OUTCOME_METRICS:
            rows.append(base | _outcome(metric, countries, label, targets.get(p.id, []), measure))
    return rows


def _programme_base(p: Programme, label: str, spend: ProgrammeSpend | None) -> dict[str, Any]:
    def major(minor: int) -> str:
        return f"{Money(minor, spend.currency if spend else 'USD').to_decimal():f}"

    return {
        "programme": p.code,
        "name": p.name,
        "category": p.category,
        "social": check_category(p.category),
        "category_named_by": category_source(p.category),
        "countries": p.countries,
        "period": label,
        "spend_currency": spend.currency if spend else None,
        "committed": major(spend.committed_minor) if spend else None,
        "spent": major(spend.spent_minor) if spend else None,
        "spend_source": spend.source if spend else f"none recorded ({NOT_SOURCED})",
    }


def _outcome(
    metric: str, countries: list[str], label: str, targets: list[ProgrammeTarget], measure: Measure
) -> dict[str, Any]:
    target = next((t for t in targets if t.metric == metric), None)
    currency = ((target.currency if target else None) or "USD") if metric == "gmv" else None
    measured = measure(metric, countries, label, currency or "USD") if countries else None

    def shown(value: int | None) -> str | None:
        if value is None or currency is None:
            return None if value is None else str(value)
        return f"{Money(value, currency).to_decimal():f}"

    progress = None
    if measured is not None and target is not None:
        progress = str(progress_pct(measured, target.value))
    return {
        "outcome": metric,
        "outcome_currency": currency,
        "measured": shown(measured),
        "measured_source": "platform: buyers in the programme's countries"
        if measured is not None
        else "no platform data",
        "target": None if target is None else shown(target.value),
        "target_due_on": None if target is None else target.due_on.isoformat(),
        "target_source": None if target is None else target.source,
        "progress_pct": progress,
    }


# The built-in scenario's programmes: the two social categories issue 27 names, measured on the
# platform's buyers in China; no commitment, spend or target is seeded (none is sourced).
SCENARIO = (
    ("rural-revitalisation-cn", "Rural revitalisation", "rural-revitalisation", ["CN"]),
    ("ageing-population-cn", "China's ageing population", "ageing-population", ["CN"]),
)
SCENARIO_SOURCE = "investor day, Dec 2021 (category named in issue 27); no amount is sourced"


def load_scenario(session: Session, now: dt.datetime) -> int:
    added = 0
    for code, name, category, countries in SCENARIO:
        if session.scalar(select(Programme.id).where(Programme.code == code)) is None:
            add_programme(session, code, name, category, countries, SCENARIO_SOURCE, now)
            added += 1
    return added
