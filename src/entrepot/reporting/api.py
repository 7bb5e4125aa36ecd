"""Routes of reporting (operators only): reports over the snapshot, its refresh, targets, guidance,
external actuals and the GMV definition of each business unit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from entrepot.kernel.errors import DomainError, ValidationFailed
from entrepot.kernel.money import Money
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Ctx, Operator
from entrepot.platform.schemas import CSV_BODY, CodePath, CodeQuery, DayQuery, Text, one_of
from entrepot.reporting import engine, history, plans, service, sources
from entrepot.reporting.accounts import api as accounts_api
from entrepot.reporting.accounts import scenario as accounts_scenario
from entrepot.reporting.domain import (
    FX_METHODS,
    GRAINS,
    ORG_LEVELS,
    VIEWS,
    FiscalCalendar,
    definition_named,
)
from entrepot.reporting.params import (
    BY_PATTERN,
    CURRENCY_PATTERN,
    LONG_WINDOW_PATTERN,
    PERIOD_PATTERN,
    SERIES_PATTERN,
    ReportParams,
)
from entrepot.reporting.schemas import (
    ActualOut,
    DefinitionIn,
    GuidanceIn,
    ReportOut,
    ScenarioOut,
    SnapshotOut,
    TargetIn,
    TargetOut,
)
from entrepot.reporting.snapshot import refresh

router = APIRouter(tags=["reporting"])
# The accounts' routes are reporting's (same tag, same callers): added as they are, so that whatever is
# done to this router's routes (their problem answers declared) is done to them too.
router.routes.extend(accounts_api.router.routes)
PeriodQ = Annotated[
    Text,
    Query(
        max_length=32,
        description="FY2022, FY2022Q3, 2021-12, LTM2021-09 or 2021-12-24",
        json_schema_extra=PERIOD_PATTERN,
    ),
]
ByQ = Annotated[
    Text,
    Query(
        max_length=200,
        description="comma-separated: segment, division, business_unit, market, ...",
        json_schema_extra=BY_PATTERN,
    ),
]
# A name from a short list (a view, an FX method, a metric): the service checks it, the document lists it.
GrainQ = Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*GRAINS))]
ViewQ = Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*VIEWS))]
FxQ = Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*FX_METHODS))]
CurrencyQ = Annotated[
    Text, Query(max_length=64, description="an ISO 4217 code with rates", json_schema_extra=CURRENCY_PATTERN)
]
# The code of an organisation unit (or the group): the service checks it names one.
ScopeQ = Annotated[Text, Query(max_length=64)]
EngineQ = Annotated[
    Text,
    Query(
        max_length=64,
        description="duckdb (embedded) or spark (the spark extra)",
        json_schema_extra=one_of(*engine.ENGINES),
    ),
]


def _fiscal(ctx: AppContext) -> FiscalCalendar:
    return FiscalCalendar(ctx.settings.fiscal_year_end_month)


def _snapshot(ctx: AppContext, engine_name: str = "duckdb") -> service.Snapshot:
    """The snapshot, queried by the engine asked for (Spark only with the spark extra: a 400 without)."""
    backend = engine.backend(engine_name)
    return service.Snapshot(Path(ctx.settings.reporting_snapshot_dir), backend, clock=ctx.clock)


def _report_request(
    period: PeriodQ,
    by: ByQ = "",
    every: GrainQ = "total",
    view: ViewQ = "recast",
    recast_on: DayQuery = None,
    currency: CurrencyQ = "USD",
    fx: FxQ = "transaction-date",
    engine: EngineQ = "duckdb",
) -> service.ReportRequest:
    """The query parameters the GMV and revenue reports share (reporting.params, as the CLI's options)."""
    params = ReportParams(
        period=period,
        by=by,
        every=every,
        view=view,
        recast_on=recast_on,
        currency=currency,
        fx=fx,
        engine=engine,
    )
    return params.request()


ReportQ = Annotated[service.ReportRequest, Depends(_report_request)]


def _out(report: service.Report) -> ReportOut:
    return ReportOut(metric=report.metric, meta=report.meta, columns=report.columns, rows=report.rows())


@router.get("/reports/gmv", response_model=ReportOut)
def gmv(ctx: Ctx, _: Operator, request: ReportQ) -> ReportOut:
    """GMV cut by dimensions, each row labelled with the definition that produced it."""
    return _out(sources.REPORTS.gmv(sources.of_app(ctx, request.engine), request))


@router.get("/reports/revenue", response_model=ReportOut)
def revenue(ctx: Ctx, _: Operator, request: ReportQ) -> ReportOut:
    """Marketplace commission, logistics fees, and local services' delivery fees plus store commissions."""
    return _out(sources.REPORTS.revenue(sources.of_app(ctx, request.engine), request))


@router.get("/reports/gmv-growth", response_model=ReportOut)
def gmv_growth(
    ctx: Ctx,
    _: Operator,
    period: PeriodQ,
    by: ByQ = "",
    view: ViewQ = "recast",
    currency: CurrencyQ = "USD",
    fx: FxQ = "period-average",
) -> ReportOut:
    """Year-on-year growth: reported = constant-currency growth + FX effect. Constant currency takes the
    prior period's average rates (fx=period-average) or each day the rate of the same day a year earlier
    (fx=transaction-date)."""
    request = ReportParams(period=period, by=by, view=view, currency=currency, fx=fx).request()
    return _out(sources.REPORTS.growth(sources.of_app(ctx), request))


@router.get("/reports/active-consumers", response_model=ReportOut)
def active_consumers(
    ctx: Ctx,
    _: Operator,
    period: Annotated[
        Text,
        Query(
            max_length=32,
            description="a twelve-month window: FY2022 or LTM2021-09",
            json_schema_extra=LONG_WINDOW_PATTERN,
        ),
    ],
) -> ReportOut:
    definitions = sources.definitions(ctx.db)
    return _out(service.active_consumers_report(_snapshot(ctx), period, _fiscal(ctx), definitions))


@router.get("/reports/history", response_model=ReportOut)
def metric_history(
    ctx: Ctx,
    _: Operator,
    first: Annotated[
        Text,
        Query(
            max_length=32,
            description="the first period: FY2019, FY2022Q1 or 2021-04",
            json_schema_extra=SERIES_PATTERN,
        ),
    ],
    last: Annotated[
        Text,
        Query(
            max_length=32,
            description="the last period, of the same kind as the first",
            json_schema_extra=SERIES_PATTERN,
        ),
    ],
    metric: Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*history.METRICS))] = "gmv",
    by: Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*ORG_LEVELS))] = "business_unit",
    view: ViewQ = "recast",
    currency: CurrencyQ = "USD",
) -> ReportOut:
    """A metric per unit over a series of periods: published (external) figures for periods before the
    platform ran, the platform's own after, each row labelled, no period counted twice."""
    s = sources.of_app(ctx)
    platform = history.PlatformFigures(s.snap, s.fiscal, s.rates, s.definitions, view=view)
    with ctx.db.transaction() as session:
        return _out(history.history(session, platform, metric, by, first, last, currency))


@router.post("/reports/snapshot", response_model=SnapshotOut)
def refresh_snapshot(ctx: Ctx, _: Operator) -> SnapshotOut:
    """Bring the snapshot up to date: only rows changed since each table's watermark are read."""
    with ctx.db.transaction() as session:
        result = refresh(session, Path(ctx.settings.reporting_snapshot_dir), ctx.clock())
    return SnapshotOut(refreshed_at=result.refreshed_at, new_rows=result.new_rows)


def _target_out(
    session: Any, target: Any, platform: history.PlatformFigures | None, published: list[Any] | None = None
) -> TargetOut:
    base = {
        "id": target.public_id,
        "metric": target.metric,
        "scope": target.scope,
        "currency": target.currency,
        "value": f"{Money(target.value_minor, target.currency).to_decimal():f}",
        "due_on": target.due_on,
        "note": target.note,
    }
    try:
        s = plans.target_status(session, target, platform, published)
    except DomainError as exc:  # no actual to measure from yet: shown, not hidden
        return TargetOut(**base, status=f"unknown: {exc}")
    return TargetOut(
        **base,
        latest_actual_period=s.latest_period,
        latest_actual_external=s.latest_external,
        latest_actual=f"{Money(s.latest_minor, target.currency).to_decimal():f}",
        years=str(s.years),
        required_cagr_pct=str(s.required_cagr_pct),
        achieved_pct=None if s.achieved_pct is None else str(s.achieved_pct),
        status=s.status,
        platform_covers=s.platform_covers,
    )


@router.get("/reports/targets", response_model=list[TargetOut])
def list_targets(ctx: Ctx, _: Operator) -> list[TargetOut]:
    """Each GMV target with the growth it requires from the latest LTM actual, published or the
    platform's own, and whether the latest twelve months' growth keeps up."""
    platform = sources.platform_figures(ctx)
    with ctx.db.transaction() as session:
        targets = plans.targets(session)
        published = plans.actuals_of_targets(session, targets)
        return [_target_out(session, t, platform, published[(t.metric, t.scope)]) for t in targets]


@router.post("/reports/targets", response_model=TargetOut, status_code=201)
def add_target(body: TargetIn, ctx: Ctx, _: Operator) -> TargetOut:
    platform = sources.platform_figures(ctx)  # before the write transaction: it reads the database too
    with ctx.db.transaction() as session:
        value = Money.from_decimal(body.value, body.currency)
        target = plans.add_target(
            session,
            body.metric,
            plans.known_scope(session, body.scope),
            value,
            body.due_on,
            body.note,
            ctx.clock(),
        )
        return _target_out(session, target, platform)


@router.post("/reports/guidance", status_code=201)
def add_guidance(body: GuidanceIn, ctx: Ctx, _: Operator) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        band = plans.add_guidance(
            session,
            body.metric,
            plans.known_scope(session, body.scope),
            body.period,
            body.low_pct,
            body.high_pct,
            body.issued_on,
            body.note,
            _fiscal(ctx),
        )
        return {
            "metric": band.metric,
            "scope": band.scope,
            "period": band.period,
            "issued_on": band.issued_on,
        }


@router.get("/reports/guidance")
def guidance(
    ctx: Ctx,
    _: Operator,
    scope: ScopeQ,
    period: PeriodQ,
    metric: Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*plans.METRICS))] = "revenue",
) -> dict[str, Any]:
    """The actual growth (from actuals) against every issue of the guidance band for the period."""
    with ctx.db.transaction() as session:
        return plans.guidance_status(session, metric, scope, period, _fiscal(ctx))


@router.get("/reports/external-actuals", response_model=list[ActualOut])
def list_actuals(ctx: Ctx, _: Operator, metric: CodeQuery = None, scope: CodeQuery = None) -> list[ActualOut]:
    with ctx.db.transaction() as session:
        return [_actual_out(a) for a in plans.actuals(session, metric, scope)]


def _actual_out(a: Any) -> ActualOut:
    value = f"{Money(a.value_minor, a.currency).to_decimal():f}" if a.currency else str(a.value_minor)
    return ActualOut(
        metric=a.metric, scope=a.scope, period=a.period, currency=a.currency, value=value, source=a.source
    )


@router.post(
    "/reports/external-actuals",
    status_code=201,
    openapi_extra=CSV_BODY,
)
async def import_actuals(request: Request, ctx: Ctx, _: Operator) -> dict[str, int]:
    """Import published actuals as CSV (metric,scope,period,currency,value,source); all rows or none."""
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise ValidationFailed("send the actuals as text/csv")
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV must be UTF-8") from None
    return {"imported": await run_in_threadpool(_import, ctx, text)}


def _import(ctx: AppContext, text: str) -> int:
    with ctx.db.transaction() as session:
        return plans.import_actuals_csv(session, text, _fiscal(ctx), ctx.clock())


@router.post("/reports/scenarios/group-facts", response_model=ScenarioOut, status_code=201)
def load_group_facts(ctx: Ctx, _: Operator) -> ScenarioOut:
    """Load group-facts.md's published figures, Lazada's target, the FY2022 guidance, Ant Group as a
    33 % equity-method investee and the social programmes, and answer with each target measured as GET
    /reports/targets does (from the published LTM unless the platform's data covers a later window
    whole). The figures name units of the organisation: it must hold the reported structure."""
    platform = sources.platform_figures(ctx)  # before the write transaction: it reads the database too
    with ctx.db.transaction() as session:
        loaded = accounts_scenario.load(session, _fiscal(ctx), ctx.clock())
        targets = [_target_out(session, t, platform) for t in plans.targets(session)]
    return ScenarioOut(actuals=loaded["actuals"], targets=targets)


@router.get("/reports/gmv-definitions")
def gmv_definitions(ctx: Ctx, _: Operator) -> dict[str, str]:
    with ctx.db.transaction() as session:
        return plans.definitions(session)


@router.put("/reports/gmv-definitions/{business_unit}")
def set_gmv_definition(business_unit: CodePath, body: DefinitionIn, ctx: Ctx, _: Operator) -> dict[str, str]:
    definition_named(body.definition)
    with ctx.db.transaction() as session:
        unit = organization.get_unit(session, business_unit)
        if unit.kind != "business_unit":
            raise ValidationFailed(
                f"{business_unit} is a {unit.kind}; GMV definitions belong to business units"
            )
        plans.set_definition(session, business_unit, body.definition, ctx.clock())
        return plans.definitions(session)
