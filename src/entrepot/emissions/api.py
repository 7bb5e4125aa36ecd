"""Routes of emissions: reports and series (operators see all, a seller only its own shipments), a
shipment's chain with its audit trail, factor tables and versions, targets and scenarios (operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from entrepot.emissions import local_trips, reports, service
from entrepot.emissions import versions as calculation
from entrepot.emissions.defaults import missing_reason
from entrepot.emissions.models import (
    ElementActivity,
    ElementResult,
    FactorTableRow,
    LocalDelivery,
    LocalResult,
    TargetRow,
)
from entrepot.emissions.schemas import (
    PERIOD_PATTERN,
    ElementOut,
    FactorOut,
    FactorTableOut,
    FiguresOut,
    LoadedOut,
    LocalShareOut,
    LocalTripEmissionsOut,
    ProgressOut,
    ReportOut,
    ReportRowOut,
    ScenarioIn,
    ScenarioOut,
    SeriesOut,
    SeriesPointOut,
    ShipmentEmissionsOut,
    TargetIn,
    TargetOut,
    VersionOut,
    YearOut,
)
from entrepot.emissions.targets import Levers
from entrepot.kernel.bounds import MAX_INT32
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.periods import FiscalCalendar
from entrepot.platform.deps import AppContext, Caller, Ctx, Operator
from entrepot.platform.schemas import CSV_BODY, IdPath, Text, one_of

router = APIRouter(tags=["emissions"])
Period = Annotated[
    Text,
    Query(
        max_length=32,
        description="FY2025, FY2025-Q1, 2025, 2025-Q4, 2025-11 or 2025-04-01..2025-07-01",
        json_schema_extra=PERIOD_PATTERN,
    ),
]
By = Annotated[
    Text | None,
    Query(
        max_length=200,
        description=", ".join(reports.DIMENSIONS),
        json_schema_extra=one_of(*reports.DIMENSIONS),
    ),
]
Version = Annotated[
    int | None, Query(ge=1, le=MAX_INT32, description="calculation version; default the newest")
]


def _fiscal(ctx: AppContext) -> FiscalCalendar:
    """The group's fiscal calendar (ENTREPOT_FISCAL_YEAR_END_MONTH), as reporting's routes use it."""
    return FiscalCalendar(ctx.settings.fiscal_year_end_month)


def _row_out(row: reports.Row) -> ReportRowOut:
    return ReportRowOut(
        key=row.key,
        missing_factors=row.missing_factors,
        legs_wtw_kg=row.legs_wtw_mg / 1e6,
        hubs_wtw_kg=row.hubs_wtw_mg / 1e6,
        local_km=round(row.local_km, 6),
        local_deliveries=row.deliveries,
        **FiguresOut.of(row.totals).model_dump(),
    )


@router.get("/emissions/report", response_model=ReportOut)
def report(
    ctx: Ctx,
    principal: Caller,
    period: Period,
    by: By = None,
    version: Version = None,
    limit: Annotated[int, Query(ge=1, le=reports.MAX_ROWS)] = 200,
) -> ReportOut:
    """Emissions per leg, shipment, order, seller, marketplace, division, market or mode over a period:
    the parcel network's legs and hubs and local couriers' trips (`local_wtw_kg`), each split out."""
    seller = reports.seller_scope(principal)
    span = reports.period_of(period, _fiscal(ctx))
    with ctx.db.transaction() as session:
        result = reports.report(session, span, by, version, seller, limit)
    return ReportOut(
        period=span.label,
        start=span.start,
        end=span.stop,  # the day after the last, as it always was
        version=result.version,
        by=by,
        rows=[_row_out(r) for r in result.rows],
        total=_row_out(result.total),
        truncated=result.truncated,
    )


@router.get("/emissions/series", response_model=SeriesOut)
def series(ctx: Ctx, principal: Caller, period: Period, by: By = None, version: Version = None) -> SeriesOut:
    """Monthly figures over a period (per key of `by`, if given): the series an operator console charts."""
    seller = reports.seller_scope(principal)
    span = reports.period_of(period, _fiscal(ctx))
    with ctx.db.transaction() as session:
        number, points = reports.series(session, span, by, version, seller)
    return SeriesOut(
        period=span.label,
        version=number,
        by=by,
        points=[SeriesPointOut(month=m, key=k, **FiguresOut.of(t).model_dump()) for m, k, t in points],
    )


@router.get("/emissions/shipments/{shipment_id}", response_model=ShipmentEmissionsOut)
def shipment(
    shipment_id: IdPath, ctx: Ctx, principal: Caller, version: Version = None
) -> ShipmentEmissionsOut:
    """A shipment's transport chain, element by element, with the factor, its source and version, and
    the distance rule behind each figure."""
    seller = reports.seller_scope(principal)
    with ctx.db.transaction() as session:
        found = service.shipment_emissions(session, shipment_id, version, seller)
    a = found.activity
    elements = [_element_out(e, r) for e, r in found.elements]
    return ShipmentEmissionsOut(
        shipment=a.shipment_ref,
        order=a.order_ref,
        seller=a.seller_ref,
        marketplace=a.marketplace,
        division=a.division,
        market=a.market,
        planned_on=a.planned_on,
        version=found.version,
        wtw_g=sum(r.wtw_mg for _, r in found.elements) / 1000,
        ttw_g=sum(r.ttw_mg for _, r in found.elements) / 1000,
        wtt_g=sum(r.wtt_mg for _, r in found.elements) / 1000,
        legs_wtw_g=sum(r.wtw_mg for e, r in found.elements if e.kind == "leg") / 1000,
        hubs_wtw_g=sum(r.wtw_mg for e, r in found.elements if e.kind == "hub") / 1000,
        elements=elements,
    )


@router.get("/emissions/trips/{trip_id}", response_model=LocalTripEmissionsOut)
def local_trip(
    trip_id: IdPath, ctx: Ctx, principal: Caller, version: Version = None
) -> LocalTripEmissionsOut:
    """A local courier's trip: its mode and kilometres, the factor (table, row, source) behind its figure,
    and each delivered order's share; a seller sees its own orders' shares only."""
    seller = reports.seller_scope(principal)
    with ctx.db.transaction() as session:
        return _trip_out(local_trips.trip_emissions(session, trip_id, version, seller))


def _trip_out(found: local_trips.TripEmissions) -> LocalTripEmissionsOut:
    t, results = found.trip, [r for _, r in found.shares]
    first = results[0] if results else None  # every share of a trip has the trip's factor
    return LocalTripEmissionsOut(
        trip=t.trip_ref,
        courier=t.courier_ref,
        mode=t.mode,
        distance_km=t.distance_m / 1000,
        done_on=t.done_on,
        countries=[c for c in t.countries.split(",") if c],
        version=found.version,
        wtw_g=sum(r.wtw_mg for r in results) / 1000,
        ttw_g=sum(r.ttw_mg for r in results) / 1000,
        wtt_g=sum(r.wtt_mg for r in results) / 1000,
        category=first.category if first else "",
        factor=_factor_out(first) if first else None,
        missing_factor=bool(first and first.missing_factor),
        missing_reason=missing_reason(first.category) if first and first.missing_factor else None,
        orders=[_share_out(d, r) for d, r in found.shares],
    )


def _share_out(d: LocalDelivery, r: LocalResult) -> LocalShareOut:
    return LocalShareOut(
        order=d.order_ref,
        seller=d.seller_ref,
        market=d.market,
        marketplace=d.marketplace,
        division=d.division,
        km=r.km,
        wtw_g=r.wtw_mg / 1000,
        ttw_g=r.ttw_mg / 1000,
        wtt_g=r.wtt_mg / 1000,
    )


def _factor_out(r: ElementResult | LocalResult) -> FactorOut | None:
    if r.factor_table is None:
        return None
    return FactorOut(
        table=r.factor_table,
        row=r.factor_row or 0,
        ttw=r.factor_ttw or 0.0,
        wtt=r.factor_wtt or 0.0,
        wtw=r.factor_wtw or 0.0,
        unit=r.factor_unit or "",
        source=r.factor_source or "",
    )


def _element_out(e: ElementActivity, r: ElementResult) -> ElementOut:
    factor = _factor_out(r)
    return ElementOut(
        seq=e.seq,
        kind=e.kind,
        mode=e.mode,
        vehicle=e.vehicle,
        lane=e.lane,
        origin=e.origin,
        destination=e.destination,
        distance_km=e.distance_km,
        distance_rule=e.distance_rule,
        mass_kg=e.mass_g / 1000,
        tkm=r.tkm,
        wtw_g=r.wtw_mg / 1000,
        ttw_g=r.ttw_mg / 1000,
        wtt_g=r.wtt_mg / 1000,
        category=r.category,
        factor=factor,
        missing_factor=r.missing_factor,
        missing_reason=missing_reason(r.category) if r.missing_factor else None,
    )


@router.get("/emissions/versions", response_model=list[VersionOut])
def versions(ctx: Ctx, _: Operator) -> list[VersionOut]:
    with ctx.db.transaction() as session:
        return [
            VersionOut(number=v.number, tables=v.tables, reason=v.reason, created_at=v.created_at)
            for v in calculation.all_versions(session)
        ]


def _table_out(row: FactorTableRow) -> FactorTableOut:
    return FactorTableOut(
        id=row.public_id,
        name=row.name,
        version=row.version,
        kind=row.kind,
        rows=row.rows,
        countries=row.countries,
        sha256=row.sha256,
        loaded_at=row.loaded_at,
    )


@router.get("/emissions/factor-tables", response_model=list[FactorTableOut])
def factor_tables(ctx: Ctx, _: Operator) -> list[FactorTableOut]:
    with ctx.db.transaction() as session:
        calculation.current_version(session, ctx.clock())  # the default table is there from the first look
        return [_table_out(t) for t in calculation.all_tables(session)]


@router.post(
    "/emissions/factor-tables",
    status_code=201,
    response_model=LoadedOut,
    openapi_extra=CSV_BODY,
)
async def load_factor_table(
    request: Request,
    ctx: Ctx,
    _: Operator,
    name: Annotated[
        Text,
        Query(
            max_length=64,
            description="the table's name; loading a name again makes its next version",
            json_schema_extra={"pattern": f"^{service.NAME_PATTERN.pattern}$"},
        ),
    ],
    kind: Annotated[
        Text,
        Query(
            max_length=16,
            description="regional or carrier (carrier primary data wins over regional)",
            json_schema_extra=one_of(*service.USER_KINDS),
        ),
    ],
    countries: Annotated[
        Text | None,
        Query(
            max_length=1000,
            description="ISO 3166 alpha-2 codes the table applies in (CN,SG,MY); required for regional",
        ),
    ] = None,
) -> LoadedOut:
    """Load a factor table (CSV). A malformed file loads nothing and lists each bad row and why; a good
    one starts a new calculation version and recomputes every stored shipment under it."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV must be UTF-8", [FieldError("file", "not UTF-8")]) from None
    return await run_in_threadpool(_load, ctx, name, kind, text, countries)


def _load(ctx: AppContext, name: str, kind: str, text: str, countries: str | None) -> LoadedOut:
    with ctx.db.transaction() as session:
        row, number = service.load_table(session, name, kind, text, ctx.clock(), countries)
        return LoadedOut(table=_table_out(row), calculation_version=number)


def _target_out(row: TargetRow) -> TargetOut:
    return TargetOut(
        id=row.public_id,
        name=row.name,
        metric=row.metric,
        baseline_year=row.baseline_year,
        target_year=row.target_year,
        reduction=row.reduction,
        baseline_value=row.baseline_value,
        baseline_source=row.baseline_source,
    )


@router.post("/emissions/targets", status_code=201, response_model=TargetOut)
def create_target(body: TargetIn, ctx: Ctx, _: Operator) -> TargetOut:
    """A reduction target; by default -50 % by FY2030 against FY2022 (fiscal years end in the month
    ENTREPOT_FISCAL_YEAR_END_MONTH names, by default 31 March)."""
    with ctx.db.transaction() as session:
        row = reports.create_target(
            session,
            body.name,
            body.metric,
            ctx.clock(),
            body.baseline_year,
            body.target_year,
            body.reduction,
            body.baseline_value,
            body.baseline_source,
        )
        return _target_out(row)


@router.get("/emissions/targets", response_model=list[TargetOut])
def list_targets(ctx: Ctx, _: Operator) -> list[TargetOut]:
    with ctx.db.transaction() as session:
        return [_target_out(t) for t in reports.list_targets(session)]


@router.get("/emissions/targets/{target_id}/progress", response_model=ProgressOut)
def target_progress(target_id: IdPath, ctx: Ctx, _: Operator, version: Version = None) -> ProgressOut:
    """The straight-line pathway from baseline to target, and each fiscal year's actual and on-track."""
    with ctx.db.transaction() as session:
        row = reports.get_target(session, target_id)
        target, years = reports.progress(session, row, ctx.clock().date(), _fiscal(ctx), version)
        return ProgressOut(
            target=_target_out(row),
            baseline_kind=target.baseline_kind,
            baseline_basis=target.baseline_basis,
            baseline_value=target.baseline_value,
            target_value=target.target_value,
            years=[
                YearOut(fiscal_year=f"FY{y.year}", actual=y.actual, pathway=y.pathway, on_track=y.on_track)
                for y in years
            ],
        )


@router.post("/emissions/scenarios", response_model=ScenarioOut)
def run_scenario(body: ScenarioIn, ctx: Ctx, _: Operator) -> ScenarioOut:
    """Recompute a period with levers pulled (air shifted to sea or rail on chosen lanes, electric
    last-mile vans, fuller loads, renewable electricity at hubs) and project the target year against a
    target."""
    span = reports.period_of(body.period, _fiscal(ctx))
    lanes = frozenset(lane.strip().upper() for lane in body.lanes)
    levers = Levers(
        body.shift_air_share,
        body.shift_air_to,
        lanes,
        body.electric_van_share,
        body.load_factor_gain,
        body.activity_growth,
        tuple(sorted((h.hub, h.share) for h in body.renewable_hubs)),
    )
    with ctx.db.transaction() as session:
        result = reports.scenario(session, span, levers, _fiscal(ctx), body.target, body.version)
        target = reports.get_target(session, body.target) if body.target else None
        return scenario_out(result, _target_out(target) if target else None)


def scenario_out(result: reports.ScenarioReport, target: TargetOut | None) -> ScenarioOut:
    base_g = result.baseline.wtw_mg / 1000
    return ScenarioOut(
        period=result.period.label,
        version=result.version,
        baseline=FiguresOut.of(result.baseline),
        scenario_wtw_kg=round(result.scenario_wtw_g / 1000, 6),
        scenario_tkm=round(result.scenario_tkm, 6),
        change_pct=round((result.scenario_wtw_g / base_g - 1) * 100, 3) if base_g else None,
        shifted_tkm=round(result.shifted_tkm, 6),
        electrified_tkm=round(result.electrified_tkm, 6),
        not_shiftable_legs=result.not_shiftable,
        baseline_hubs_wtw_kg=round(result.baseline_hubs_g / 1000, 6),
        scenario_hubs_wtw_kg=round(result.scenario_hubs_g / 1000, 6),
        target=target,
        projection=result.projected,
        assumptions=SCENARIO_ASSUMPTIONS,
    )


SCENARIO_ASSUMPTIONS = [
    "shifted air tonne-km travel the other mode's rule distance between the same two nodes",
    "electric vans take the table's battery-electric van factor",
    "fuller loads divide road intensity by (1 + gain); the extra fuel of a heavier vehicle is ignored",
    "intensities carry to the target year; absolute values are annualised and grown by activity_growth",
    "renewable electricity at a hub takes its share off the site's whole default intensity (treated as "
    "electricity; heating and forklift fuel are not split out)",
    "local couriers' trips are carried as they are: no lever acts on them",
]
