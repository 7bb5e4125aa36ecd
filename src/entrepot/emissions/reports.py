"""Reading the accounts: roll-ups by a dimension over a period, the monthly series a console charts,
targets with their pathway and on-track status, and scenarios. Always one calculation version (the
newest unless asked), and for a seller only its own shipments and deliveries.

A roll-up adds local couriers' trips (each delivered order's share, on the trip's day) to the parcel
network's legs and hubs (on each shipment's planning day), key by key, in one statement: the two grouped
reads are put together (UNION ALL) and grouped again, so the largest rows and the totals are exact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Float, Select, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from entrepot.emissions import versions
from entrepot.emissions.models import (
    ElementActivity,
    ElementResult,
    LocalDelivery,
    LocalResult,
    LocalTripActivity,
    ShipmentActivity,
    TargetRow,
)
from entrepot.emissions.periods import parse_period
from entrepot.emissions.targets import (
    DEFAULT_BASELINE_YEAR,
    DEFAULT_REDUCTION,
    DEFAULT_TARGET_YEAR,
    METRICS,
    Levers,
    ScenarioLeg,
    Target,
    Totals,
    project,
    run_scenario,
)
from entrepot.kernel.errors import FieldError, Forbidden, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.kernel.periods import FiscalCalendar, Period, PeriodError, fiscal_year
from entrepot.logistics import service as logistics
from entrepot.logistics.domain import rule_distance_km
from entrepot.platform import audit
from entrepot.platform.db import by_public_id
from entrepot.platform.principal import Principal

S, E = ShipmentActivity, ElementActivity
T, D, LR = LocalTripActivity, LocalDelivery, LocalResult
DIMENSIONS: dict[str, tuple[Any, ...]] = {
    "leg": (S.shipment_ref, E.seq),
    "shipment": (S.shipment_ref,),
    "order": (S.order_ref,),
    "seller": (S.seller_ref,),
    "marketplace": (S.marketplace,),
    "division": (S.division,),
    "market": (S.market,),
    "mode": (E.mode,),
}
# The same dimensions of a local courier's trip, shared by the orders it delivered (a trip is no
# shipment and has no legs: those roll-ups leave it out; its mode is the courier's, e.g. ebike).
LOCAL_DIMENSIONS: dict[str, tuple[Any, ...] | None] = {
    "leg": None,
    "shipment": None,
    "order": (D.order_ref,),
    "seller": (D.seller_ref,),
    "marketplace": (D.marketplace,),
    "division": (D.division,),
    "market": (D.market,),
    "mode": (T.mode,),
}
MAX_ROWS = 1000


def seller_scope(principal: Principal) -> str | None:
    """Whose emissions a caller may read: None for operators (everything), a seller's own id; every other
    role is refused. The API's routes and the console's page both ask here."""
    if principal.is_operator:
        return None
    if principal.role == "seller" and principal.seller_public_id:
        return principal.seller_public_id
    raise Forbidden("emissions reports need an operator or a seller key")


def period_of(text: str, fiscal: FiscalCalendar) -> Period:
    """A period from its name in the group's fiscal calendar (the setting fiscal_year_end_month)."""
    try:
        return parse_period(text, fiscal)
    except PeriodError as error:
        raise ValidationFailed("invalid period", [FieldError("period", str(error))]) from None


def dimension_of(by: str | None, field: str = "by") -> tuple[Any, ...]:
    if by is None:
        return ()
    if by not in DIMENSIONS:
        raise ValidationFailed(
            f"cannot roll up by {by!r}", [FieldError(field, f"one of {', '.join(DIMENSIONS)}")]
        )
    return DIMENSIONS[by]


@dataclass(frozen=True)
class Row:
    """A roll-up's figures; `hubs_wtw_mg` is the hub operations' part of `totals.wtw_mg` and
    `totals.local_wtw_mg` local couriers' trips' part (the rest is legs), shown apart because ISO 14083
    reports hub and transport emissions separately. `local_km` and `deliveries` are the trips' activity."""

    key: str
    totals: Totals
    missing_factors: int
    hubs_wtw_mg: int = 0
    local_km: float = 0.0
    deliveries: int = 0

    @property
    def legs_wtw_mg(self) -> int:
        return self.totals.wtw_mg - self.hubs_wtw_mg - self.totals.local_wtw_mg

    @property
    def local_wtw_mg(self) -> int:
        return self.totals.local_wtw_mg


FIGURES = ("ttw", "wtt", "tkm", "parcels", "missing", "hubs", "local", "km", "deliveries")


def _zero(kind: Any, name: str) -> Any:
    return cast(literal(0), kind).label(name)  # typed, so PostgreSQL unites it with a sum's column


def _network_part(columns: tuple[Any, ...], version: int, period: Period, seller: str | None) -> Select[Any]:
    """The parcel network's legs and hubs, grouped by `columns` (labelled k0, k1 ...)."""
    query = (
        select(
            *(c.label(f"k{i}") for i, c in enumerate(columns)),
            func.sum(ElementResult.ttw_mg).label("ttw"),
            func.sum(ElementResult.wtt_mg).label("wtt"),
            func.sum(ElementResult.tkm).label("tkm"),
            func.count(func.distinct(ElementResult.shipment_id)).label("parcels"),
            func.sum(case((ElementResult.missing_factor, 1), else_=0)).label("missing"),
            func.sum(case((E.kind == "hub", ElementResult.wtw_mg), else_=0)).label("hubs"),
            _zero(BigInteger, "local"),
            _zero(Float, "km"),
            _zero(BigInteger, "deliveries"),
        )
        .join(S, S.id == ElementResult.shipment_id)
        .join(E, E.id == ElementResult.element_id)
        .where(ElementResult.version == version, S.planned_on >= period.start, S.planned_on < period.stop)
    )
    query = query if seller is None else query.where(S.seller_ref == seller)
    return query.group_by(*columns) if columns else query


def _local_part(columns: tuple[Any, ...], version: int, period: Period, seller: str | None) -> Select[Any]:
    """Local couriers' trips, each delivered order's share, grouped by `columns` (labelled as above)."""
    query = (
        select(
            *(c.label(f"k{i}") for i, c in enumerate(columns)),
            func.sum(LR.ttw_mg).label("ttw"),
            func.sum(LR.wtt_mg).label("wtt"),
            _zero(Float, "tkm"),
            _zero(BigInteger, "parcels"),
            func.sum(case((LR.missing_factor, 1), else_=0)).label("missing"),
            _zero(BigInteger, "hubs"),
            func.sum(LR.wtw_mg).label("local"),
            func.sum(LR.km).label("km"),
            func.count(LR.delivery_id).label("deliveries"),
        )
        .join(D, D.id == LR.delivery_id)
        .join(T, T.id == LR.trip_id)
        .where(LR.version == version, T.done_on >= period.start, T.done_on < period.stop)
    )
    query = query if seller is None else query.where(D.seller_ref == seller)
    return query.group_by(*columns) if columns else query


def _sums(
    by: tuple[tuple[Any, ...], tuple[Any, ...] | None], version: int, period: Period, seller: str | None
) -> Select[Any]:
    """Per key of the dimension (network columns, local columns or None): the figures of `FIGURES`, the
    parcel network's and local trips' added up; without columns, one row of totals."""
    network_columns, local_columns = by
    parts = [_network_part(network_columns, version, period, seller)]
    if local_columns is not None:
        parts.append(_local_part(local_columns, version, period, seller))
    both = union_all(*parts).subquery()
    keys = [both.c[f"k{i}"] for i in range(len(network_columns))]
    query = select(*keys, *(func.sum(both.c[name]) for name in FIGURES))
    return query.group_by(*keys) if keys else query


def _row(key: str, values: Any) -> Row:
    ttw, wtt, tkm, parcels, missing, hubs, local, km, deliveries = values
    ttw, wtt = int(ttw or 0), int(wtt or 0)
    figures = Totals(ttw + wtt, ttw, wtt, float(tkm or 0.0), int(parcels or 0), int(local or 0))
    return Row(key, figures, int(missing or 0), int(hubs or 0), float(km or 0.0), int(deliveries or 0))


def totals(session: Session, period: Period, version: int, seller: str | None = None) -> Row:
    """Every emission of the period: the parcel network's and local couriers' trips'."""
    values = session.execute(_sums(((), ()), version, period, seller)).one()
    return _row("total", tuple(values))


def _both(by: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """A dimension's columns in the parcel network and in local trips (None: trips have no such key)."""
    return dimension_of(by), LOCAL_DIMENSIONS[by] if by is not None else ()


@dataclass(frozen=True)
class Report:
    period: Period
    version: int
    by: str | None
    rows: list[Row]
    total: Row
    truncated: bool


def report(
    session: Session,
    period: Period,
    by: str | None,
    version: int | None = None,
    seller: str | None = None,
    limit: int = 200,
) -> Report:
    """Emissions over a period, by a dimension, largest first."""
    by_columns = _both(by)
    width = len(by_columns[0])
    number = versions.resolve_version(session, version)
    rows: list[Any] = []
    if width:
        query = _sums(by_columns, number, period, seller)
        wtw = query.selected_columns[width] + query.selected_columns[width + 1]  # ttw + wtt
        query = query.order_by(wtw.desc(), *query.selected_columns[:width])
        rows = list(session.execute(query.limit(min(limit, MAX_ROWS) + 1)).all())
    out = [_row(":".join(str(v) for v in r[:width]), tuple(r[width:])) for r in rows]
    truncated = len(out) > min(limit, MAX_ROWS)
    return Report(
        period, number, by, out[: min(limit, MAX_ROWS)], totals(session, period, number, seller), truncated
    )


def series(
    session: Session, period: Period, by: str | None, version: int | None = None, seller: str | None = None
) -> tuple[int, list[tuple[str, str, Totals]]]:
    """(month, key, totals) for each month of the period and each key: what a console charts."""
    network_columns, local_columns = _both(by)
    daily = (
        (S.planned_on, *network_columns),
        None if local_columns is None else (T.done_on, *local_columns),
    )
    number = versions.resolve_version(session, version)
    rows = session.execute(_sums(daily, number, period, seller)).all()
    width = len(network_columns)
    folded: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        key = ":".join(str(v) for v in r[1 : 1 + width]) or "total"
        ttw, wtt, tkm, parcels, _, _, local, _, _ = r[1 + width :]
        acc = folded.setdefault((f"{_day(r[0]):%Y-%m}", key), [0, 0, 0.0, 0, 0])
        acc[0] += int(ttw or 0)
        acc[1] += int(wtt or 0)
        acc[2] += float(tkm or 0.0)
        acc[3] += int(parcels or 0)  # a shipment sits on one day, so daily counts add up
        acc[4] += int(local or 0)
    out = [
        (month, key, Totals(int(v[0] + v[1]), int(v[0]), int(v[1]), float(v[2]), int(v[3]), int(v[4])))
        for (month, key), v in sorted(folded.items())
    ]
    return number, out


def _day(value: Any) -> dt.date:
    """A day read back through the union: SQLite returns it as the text it stores."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --- targets ----------------------------------------------------------------------------------------


def create_target(
    session: Session,
    name: str,
    metric: str,
    now: dt.datetime,
    baseline_year: int = DEFAULT_BASELINE_YEAR,
    target_year: int = DEFAULT_TARGET_YEAR,
    reduction: float = DEFAULT_REDUCTION,
    baseline_value: float | None = None,
    baseline_source: str | None = None,
) -> TargetRow:
    if metric not in METRICS:
        raise ValidationFailed("invalid metric", [FieldError("metric", f"one of {', '.join(METRICS)}")])
    if baseline_value is not None and baseline_value <= 0:
        raise ValidationFailed("invalid baseline", [FieldError("baseline_value", "must be above 0")])
    source = (baseline_source or "").strip() or None
    if source is not None and baseline_value is None:
        raise ValidationFailed(
            "a source goes with an imported baseline",
            [FieldError("baseline_source", "give baseline_value too, or leave the source out")],
        )
    try:
        Target(metric, baseline_year, baseline_value or 1.0, target_year, reduction)
    except ValueError as error:
        raise ValidationFailed("invalid target", [FieldError("target", str(error))]) from None
    row = TargetRow(
        public_id=new_id("tgt"),
        name=name,
        metric=metric,
        baseline_year=baseline_year,
        target_year=target_year,
        reduction=reduction,
        baseline_value=baseline_value,
        baseline_source=source,
        created_at=now,
    )
    session.add(row)
    session.flush()
    after = {"name": name, "metric": metric, "baseline_year": baseline_year, "target_year": target_year}
    after |= {"reduction": reduction, "baseline_value": baseline_value, "baseline_source": source}
    audit.record(session, "emissions_target.created", row.public_id, None, after, now)
    return row


def get_target(session: Session, public_id: str) -> TargetRow:
    return by_public_id(session, TargetRow, public_id, "target")


def list_targets(session: Session) -> list[TargetRow]:
    return list(session.scalars(select(TargetRow).order_by(TargetRow.id)))


def metric_in(session: Session, period: Period, metric: str, version: int) -> float | None:
    """A target's metric over a period (see `targets` for what each counts); None without activity."""
    row = totals(session, period, version)
    if row.totals.parcels == 0 and row.deliveries == 0:
        return None
    return row.totals.metric(metric, period.days)


def target_of(session: Session, row: TargetRow, version: int, fiscal: FiscalCalendar) -> Target:
    """The target with its baseline, and which kind it is:
    - imported: the figure the target was created with (and its source);
    - measured: the baseline fiscal year's recorded shipments;
    - built: when the baseline year has no recorded shipments, the platform's first fiscal year after it
      that has them stands in (the same tables, the same version), and the basis says so."""
    value, kind, basis = _baseline(session, row, version, fiscal)
    return Target(row.metric, row.baseline_year, value, row.target_year, row.reduction, kind, basis)


def _baseline(
    session: Session, row: TargetRow, version: int, fiscal: FiscalCalendar
) -> tuple[float, str, str]:
    if row.baseline_value is not None:
        source = row.baseline_source or "no source stated"
        return row.baseline_value, "imported", f"imported figure for FY{row.baseline_year} ({source})"
    measured = metric_in(session, fiscal_year(row.baseline_year, fiscal), row.metric, version)
    if measured:
        return (
            measured,
            "measured",
            f"measured: FY{row.baseline_year}'s recorded shipments, version {version}",
        )
    for year in range(row.baseline_year + 1, row.target_year + 1):
        stand_in = metric_in(session, fiscal_year(year, fiscal), row.metric, version)
        if stand_in:
            basis = (
                f"built from the platform's data: FY{row.baseline_year} has no recorded shipments, so "
                f"FY{year}'s (version {version}) stand in for it"
            )
            return stand_in, "built", basis
    raise ValidationFailed(
        f"no emissions recorded in FY{row.baseline_year} or any year to FY{row.target_year} to build the "
        "baseline from",
        [FieldError("baseline_value", "give the baseline value, or record shipments first")],
    )


@dataclass(frozen=True)
class YearStatus:
    year: int
    actual: float | None
    pathway: float
    on_track: bool | None


def progress(
    session: Session, row: TargetRow, today: dt.date, fiscal: FiscalCalendar, version: int | None = None
) -> tuple[Target, list[YearStatus]]:
    """Every fiscal year from the baseline to the target: the pathway, and the actual and on-track
    status of the years that have data (a year still running is measured so far, annualised)."""
    number = versions.resolve_version(session, version)
    target = target_of(session, row, number, fiscal)
    years = []
    for year in range(target.baseline_year, target.target_year + 1):
        actual = (
            metric_in(session, fiscal_year(year, fiscal), target.metric, number)
            if year <= fiscal.fiscal_year(today)
            else None
        )
        on_track = None if actual is None else target.on_track(actual, year)
        years.append(YearStatus(year, actual, target.pathway(year), on_track))
    return target, years


# --- scenarios --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioReport:
    period: Period
    version: int
    levers: Levers
    baseline: Totals
    scenario_wtw_g: float
    scenario_tkm: float
    shifted_tkm: float
    electrified_tkm: float
    not_shiftable: int
    target: Target | None
    baseline_hubs_g: float
    scenario_hubs_g: float
    projected: dict[str, float | None]


def scenario(
    session: Session,
    period: Period,
    levers: Levers,
    fiscal: FiscalCalendar,
    target_ref: str | None = None,
    version: int | None = None,
) -> ScenarioReport:
    """Recompute a period's legs with the levers pulled and project the target year against the target."""
    number = versions.resolve_version(session, version)
    legs = _scenario_legs(session, period, number)
    outcome = run_scenario(legs, levers, versions.factor_set(session))
    base = totals(session, period, number).totals
    days = period.days
    local_g = base.local_wtw_mg / 1000  # no lever acts on couriers' trips: they are carried as they are
    scenario_g = outcome.scenario_wtw_g + local_g
    scenario_totals = Totals(
        round(scenario_g * 1000), 0, 0, outcome.scenario_tkm, base.parcels, base.local_wtw_mg
    )
    target = target_of(session, get_target(session, target_ref), number, fiscal) if target_ref else None
    year = fiscal.fiscal_year(period.last)
    projected: dict[str, float | None] = {}
    if target is not None:
        value = scenario_totals.metric(target.metric, days)
        projected = {
            "metric_in_period": value,
            "target_year_value": None
            if value is None
            else project(value, target.metric, year, target.target_year, levers.activity_growth),
            "target_value": target.target_value,
        }
    return ScenarioReport(
        period,
        number,
        levers,
        base,
        scenario_g,
        outcome.scenario_tkm,
        outcome.shifted_tkm,
        outcome.electrified_tkm,
        outcome.not_shiftable,
        target,
        outcome.baseline_hubs_g,
        outcome.scenario_hubs_g,
        projected,
    )


def _scenario_legs(session: Session, period: Period, version: int) -> list[ScenarioLeg]:
    rows = session.execute(
        select(E, ElementResult.wtw_mg, S.origin_country, S.destination_country)
        .join(ElementResult, ElementResult.element_id == E.id)
        .join(S, S.id == E.shipment_id)
        .where(ElementResult.version == version, S.planned_on >= period.start, S.planned_on < period.stop)
    ).all()
    nodes = logistics.network(session).nodes
    alternatives: dict[tuple[str, str], dict[str, float]] = {}
    legs = []
    for element, wtw_mg, origin, destination in rows:
        other: dict[str, float] = {}
        if element.mode == "air" and element.origin in nodes and element.destination in nodes:
            pair = (element.origin, element.destination)
            if pair not in alternatives:
                a, b = nodes[pair[0]], nodes[pair[1]]
                alternatives[pair] = {mode: rule_distance_km(mode, a, b)[0] for mode in ("sea", "rail")}
            other = alternatives[pair]
        legs.append(
            ScenarioLeg(
                element.mode,
                element.vehicle,
                f"{origin}-{destination}",
                element.mass_g,
                element.distance_km,
                int(wtw_mg),
                other,
                element.origin if element.kind == "hub" else "",
            )
        )
    return legs
