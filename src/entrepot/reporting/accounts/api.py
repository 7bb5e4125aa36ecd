"""Routes of the group's accounts (operators only): the investee register and its results, the group's
share of them, programmes with their spend and outcomes, segment results and Cainiao's revenue abroad."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from entrepot.kernel.errors import NotFound, ValidationFailed
from entrepot.kernel.money import Money
from entrepot.platform.deps import AppContext, Ctx, Operator
from entrepot.platform.schemas import CSV_BODY, CodePath, Text, one_of, period_pattern
from entrepot.reporting import sources
from entrepot.reporting.accounts import investees, programmes, segments
from entrepot.reporting.accounts.domain import Stake
from entrepot.reporting.accounts.platform import PlatformAccounts
from entrepot.reporting.accounts.schemas import (
    CreatedOut,
    ImpairmentIn,
    InvesteeIn,
    InvesteeOut,
    OutcomeTargetIn,
    ProgrammeIn,
    ResultIn,
    SpendIn,
    StakeIn,
    StakeOut,
)
from entrepot.reporting.domain import VIEWS, FiscalCalendar
from entrepot.reporting.params import PERIOD_PATTERN
from entrepot.reporting.schemas import ReportOut

router = APIRouter(tags=["reporting"])
FiscalPeriodQ = Annotated[
    Text,
    Query(
        max_length=32,
        description="a fiscal year or quarter: FY2022 or FY2022Q3",
        json_schema_extra=period_pattern("fiscal-year", "fiscal-quarter"),
    ),
]
AnyPeriodQ = Annotated[
    Text,
    Query(
        max_length=32, description="FY2022, FY2022Q3, 2021-12, LTM2021-09", json_schema_extra=PERIOD_PATTERN
    ),
]
ViewQ = Annotated[Text, Query(max_length=64, json_schema_extra=one_of(*VIEWS))]


def _fiscal(ctx: AppContext) -> FiscalCalendar:
    return FiscalCalendar(ctx.settings.fiscal_year_end_month)


def platform_accounts(ctx: AppContext) -> PlatformAccounts | None:
    """The platform's figures from the snapshot, when there is one."""
    root = Path(ctx.settings.reporting_snapshot_dir)
    try:
        s = sources.open_sources(ctx.db, ctx.fx, root, _fiscal(ctx), ctx.clock)
    except NotFound:
        return None
    return PlatformAccounts(s.snap, s.fiscal, s.rates, s.definitions)


def _investee_out(view: investees.InvesteeView) -> InvesteeOut:
    return InvesteeOut(
        code=view.code,
        name=view.name,
        currency=view.currency,
        lag_quarters=view.lag_quarters,
        stakes=[
            StakeOut(share=f"{s.share.normalize():f}", valid_from=s.valid_from, source=s.source)
            for s in view.stakes
        ],
        results=view.results,
        impairments=[
            {
                "on": on.isoformat(),
                "amount": f"{Money(minor, view.currency).to_decimal():f}",
                "source": source,
            }
            for on, minor, source in view.impairments
        ],
    )


@router.get("/reports/investees", response_model=list[InvesteeOut])
def list_investees(ctx: Ctx, _: Operator) -> list[InvesteeOut]:
    """Equity-method investees with their dated stakes, impairments and how many results are imported."""
    with ctx.db.transaction() as session:
        return [_investee_out(v) for v in investees.investees(session)]


@router.post("/reports/investees", response_model=CreatedOut, status_code=201)
def add_investee(body: InvesteeIn, ctx: Ctx, _: Operator) -> CreatedOut:
    stake = Stake(body.share, body.valid_from, body.source)
    with ctx.db.transaction() as session:
        investees.add_investee(
            session, body.code, body.name, body.currency, body.lag_quarters, stake, ctx.clock()
        )
    return CreatedOut(code=body.code, detail="investee registered")


@router.post("/reports/investees/{code}/stakes", response_model=CreatedOut, status_code=201)
def set_stake(code: CodePath, body: StakeIn, ctx: Ctx, _: Operator) -> CreatedOut:
    """An ownership change from a day on."""
    with ctx.db.transaction() as session:
        investees.set_stake(session, code, Stake(body.share, body.valid_from, body.source))
    return CreatedOut(code=code, detail=f"stake from {body.valid_from}")


@router.post("/reports/investees/{code}/impairments", response_model=CreatedOut, status_code=201)
def add_impairment(code: CodePath, body: ImpairmentIn, ctx: Ctx, _: Operator) -> CreatedOut:
    with ctx.db.transaction() as session:
        investees.add_impairment(
            session, code, body.on, Money.from_decimal(body.amount, body.currency), body.source
        )
    return CreatedOut(code=code, detail=f"impairment on {body.on}")


@router.post("/reports/investees/{code}/results", response_model=CreatedOut, status_code=201)
def record_result(code: CodePath, body: ResultIn, ctx: Ctx, _: Operator) -> CreatedOut:
    """An investee's net income for a quarter, marked external with its source."""
    with ctx.db.transaction() as session:
        money = Money.from_decimal(body.net_income, body.currency)
        row = investees.record_result(
            session, code, body.period, money, body.source, _fiscal(ctx), ctx.clock()
        )
        return CreatedOut(code=code, detail=f"result of {row.period}")


@router.post("/reports/investee-results", status_code=201, openapi_extra=CSV_BODY)
async def import_results(request: Request, ctx: Ctx, _: Operator) -> dict[str, int]:
    """Import results as CSV (investee,period,currency,net_income,source); all rows or none."""
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise ValidationFailed("send the results as text/csv")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV must be UTF-8") from None
    return {"imported": await run_in_threadpool(_import, ctx, text)}


def _import(ctx: AppContext, text: str) -> int:
    with ctx.db.transaction() as session:
        return investees.import_results_csv(session, text, _fiscal(ctx), ctx.clock())


SHARE_COLUMNS = [
    "investee",
    "recorded_in",
    "results_of",
    "share_pct",
    "currency",
    "investee_net_income",
    "group_share",
    "impairment",
    "share_of_results",
    "source",
]


@router.get("/reports/investees/share", response_model=ReportOut)
def share_of_results(ctx: Ctx, _: Operator, period: FiscalPeriodQ) -> ReportOut:
    """The group's share of each investee's results per quarter of the period, recorded in arrears;
    a quarter without an imported result says so instead of showing a figure."""
    with ctx.db.transaction() as session:
        rows = [r.as_dict() for r in investees.share_of_results(session, period, _fiscal(ctx))]
    meta = {"period": period, "rule": "equity method: the share enters group profit, not revenue or GMV"}
    return ReportOut(metric="investee-share", meta=meta, columns=SHARE_COLUMNS, rows=rows)


@router.get("/reports/segment-results", response_model=ReportOut)
def segment_results(ctx: Ctx, _: Operator, period: FiscalPeriodQ, view: ViewQ = "recast") -> ReportOut:
    """Revenue and adjusted EBITA by segment, as reported or recast, each figure with its source; the
    group's share of its investees' results below."""
    platform = platform_accounts(ctx)
    with ctx.db.transaction() as session:
        report = segments.public_rows(segments.segment_results(session, period, view, _fiscal(ctx), platform))
    return ReportOut(**report)


@router.get("/reports/cainiao-abroad", response_model=ReportOut)
def cainiao_abroad(ctx: Ctx, _: Operator, period: AnyPeriodQ) -> ReportOut:
    """The share of Cainiao's revenue earned outside China: published, and from the platform's fees."""
    with ctx.db.transaction() as session:
        return ReportOut(**segments.cainiao_abroad(session, period, _fiscal(ctx)))


@router.post("/reports/programmes", response_model=CreatedOut, status_code=201)
def add_programme(body: ProgrammeIn, ctx: Ctx, _: Operator) -> CreatedOut:
    with ctx.db.transaction() as session:
        programmes.add_programme(
            session, body.code, body.name, body.category, body.countries, body.source, ctx.clock()
        )
    return CreatedOut(code=body.code, detail="programme added")


@router.post("/reports/programmes/{code}/spend", response_model=CreatedOut, status_code=201)
def record_spend(code: CodePath, body: SpendIn, ctx: Ctx, _: Operator) -> CreatedOut:
    committed = Money.from_decimal(body.committed, body.currency)
    spent = Money.from_decimal(body.spent, body.currency)
    with ctx.db.transaction() as session:
        row = programmes.record_spend(session, code, body.period, committed, spent, body.source, _fiscal(ctx))
        return CreatedOut(code=code, detail=f"spend of {row.period}")


@router.post("/reports/programmes/{code}/targets", response_model=CreatedOut, status_code=201)
def add_outcome_target(code: CodePath, body: OutcomeTargetIn, ctx: Ctx, _: Operator) -> CreatedOut:
    with ctx.db.transaction() as session:
        programmes.add_target(session, code, body.metric, body.value, body.currency, body.due_on, body.source)
    return CreatedOut(code=code, detail=f"{body.metric} target due on {body.due_on}")


@router.get("/reports/programmes", response_model=ReportOut)
def programmes_report(ctx: Ctx, _: Operator, period: FiscalPeriodQ) -> ReportOut:
    """Programmes by category (social ones flagged) with commitments, spend, and the outcomes the
    platform measures against their targets."""
    platform = platform_accounts(ctx)
    measure = platform.measure if platform else _unmeasured
    with ctx.db.transaction() as session:
        rows = programmes.programmes_report(session, period, _fiscal(ctx), measure)
    return ReportOut(
        metric="programmes", meta={"period": period}, columns=list(programmes.COLUMNS), rows=rows
    )


def _unmeasured(*_: Any) -> None:
    return None
