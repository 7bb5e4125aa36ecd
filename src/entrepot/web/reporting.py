"""Reporting, for operators (as GET /api/v1/reports/*, operators only there): GMV by segment and fiscal
quarter in the view chosen (as reported or recast) drawn and tabled, the two views side by side for the
period, the last twelve months to the period's end, the constant-currency bridge (GET
/reports/gmv-growth), the targets with the growth they require (GET /reports/targets) and the guidance
against the actual growth (GET /reports/guidance). The same reporting functions as the API's routes;
the form's bad input is shown beside its fields, in the words of the API's problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from entrepot.kernel.errors import DomainError, NotFound
from entrepot.kernel.money import Money
from entrepot.platform.deps import AppContext, Ctx
from entrepot.reporting import history, plans, service, sources
from entrepot.reporting.domain import FX_METHODS, VIEWS, FiscalCalendar
from entrepot.reporting.params import ReportParams
from entrepot.reporting.sources import REPORTS, Sources
from entrepot.web import forms
from entrepot.web.auth import Viewer
from entrepot.web.charts import Chart, Series
from entrepot.web.days import this_year, year_to_open
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FormText = Annotated[str, Query(max_length=64)]
# The seed's guidance (reporting/data/group_facts_plans.csv): the group's revenue growth for a year.
GUIDANCE = ("revenue", "commerce-group")
BILLION = Decimal(10) ** 9
SCALES = ((BILLION, "bn "), (Decimal(10) ** 6, "m "), (Decimal(1000), "thousand "), (Decimal(1), ""))


@dataclass
class Figures:
    """What the page shows for a period, or `missing` saying why there is nothing to show."""

    quarters: Chart | None = None
    views: list[dict[str, Any]] = field(default_factory=list)
    ltm: service.Report | None = None
    growth: service.Report | None = None
    missing: str = ""


@dataclass(frozen=True)
class TargetRow:
    metric: str
    scope: str
    value: str
    due_on: dt.date
    note: str
    latest: str = ""
    latest_period: str = ""
    required_cagr_pct: str = ""
    achieved_pct: str = ""
    status: str = ""


def _fiscal(ctx: AppContext) -> FiscalCalendar:
    return FiscalCalendar(ctx.settings.fiscal_year_end_month)


@router.get("/reporting")
def reporting_page(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    period: FormText = "",
    view: FormText = "recast",
    currency: FormText = "USD",
    fx: FormText = "period-average",
) -> Response:
    viewer.principal.require("operator")
    inputs = _inputs(ctx)  # opened once: every report of the page reads the same snapshot and rates
    opened_on = "" if period.strip() else year_to_open(ctx)
    values = _asked(ctx, period or opened_on, view, currency, fx)
    problem, status = FormProblem(), 200
    try:
        figures = _figures(inputs, values)
    except DomainError as refused:
        problem, status, figures = FormProblem.of(refused), refused.status, Figures()
    return render(
        request,
        "reporting.html",
        status,
        values=values,
        views=VIEWS,
        fx_methods=FX_METHODS,
        problem=problem,
        figures=figures,
        targets=_targets(ctx, inputs),
        guidance=_guidance(ctx, values["period"]),
        this_year=this_year(ctx),
        moved_from_this_year=bool(opened_on) and opened_on != this_year(ctx),
    )


def _asked(ctx: AppContext, period: str, view: str, currency: str, fx: str) -> dict[str, str]:
    """The form's values as typed, the period defaulting to the fiscal year of today."""
    return {
        "period": period.strip() or f"FY{_fiscal(ctx).fiscal_year(ctx.clock().date())}",
        "view": view,
        "currency": currency.strip().upper(),
        "fx": fx,
    }


def prepare(ctx: AppContext) -> None:
    """Compute the page's reports as first opened (this fiscal year, recast, USD), so that the first
    operator to open it after a start does not wait seconds for Ibis to compile them (reporting.sources
    remembers them). Nothing to do before a snapshot is written."""
    inputs = _inputs(ctx)
    _figures(inputs, _asked(ctx, year_to_open(ctx), "recast", "USD", "period-average"))


def _inputs(ctx: AppContext) -> Sources | str:
    """What the reports read, or why there is nothing to read (no snapshot written yet)."""
    try:
        return sources.of_app(ctx)
    except NotFound as none:
        return none.detail


def _figures(inputs: Sources | str, values: dict[str, str]) -> Figures:
    """The period's reports; the form's values are checked as the API checks its query (ReportParams)."""
    params = forms.parse(ReportParams, "invalid report", {**values, "by": "segment", "every": "quarter"})
    if isinstance(inputs, str):
        return Figures(missing=inputs)
    # GMV at each day's rate (GET /reports/gmv's default); the form's method is the constant-currency
    # bridge's (GET /reports/gmv-growth's `fx`)
    bridge = params.request()
    asked = replace(bridge, fx_method="transaction-date")

    def gmv(**changes: Any) -> service.Report:
        return REPORTS.gmv(inputs, replace(asked, **changes))

    quarters = gmv()
    totals = {v: gmv(view=v, grain="total") for v in VIEWS}
    ltm = gmv(period="LTM" + quarters.meta["to"][:7], grain="total")
    growth = REPORTS.growth(inputs, replace(bridge, grain="total"))
    return Figures(
        quarters=_quarter_chart(quarters, values["view"]),
        views=_side_by_side(totals),
        ltm=ltm,
        growth=growth,
    )


def _quarter_chart(report: service.Report, view: str) -> Chart:
    """Stacked bars: a bar per fiscal quarter, a part per segment, in a unit that suits the figures
    (the demo's billions, a test's few dollars)."""
    currency = report.meta["currency"]
    rows = report.table.to_pylist()
    quarters = sorted({r["period"] for r in rows})
    segments = sorted({_segment(r["segment"]) for r in rows})
    minor: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["period"], _segment(r["segment"]))
        minor[key] = minor.get(key, 0) + int(r["gmv_minor"])
    largest = max((Money(m, currency).to_decimal() for m in minor.values()), default=Decimal(0))
    scale, unit = next((s, u) for s, u in SCALES if abs(largest) >= s or s == 1)
    series = [
        Series(s, [_scaled(minor.get((q, s)), currency, scale) for q in quarters], stack="gmv")
        for s in segments
    ]
    title = f"GMV by segment and fiscal quarter, {view.replace('-', ' ')}"
    return Chart("gmv-quarters", title, "bar", quarters, series, f"{unit}{currency}", "Quarter", decimals=2)


def _segment(code: str | None) -> str:
    return (code or "unassigned").replace("-", " ")


def _scaled(minor: int | None, currency: str, scale: Decimal) -> float | None:
    return None if minor is None else float(Money(minor, currency).to_decimal() / scale)


def _side_by_side(totals: dict[str, service.Report]) -> list[dict[str, Any]]:
    """A row per segment with its GMV in each view (a segment one view does not have shows `-`)."""
    by_view = {v: {r["segment"]: r["gmv"] for r in report.rows()} for v, report in totals.items()}
    segments = sorted({s for figures in by_view.values() for s in figures}, key=lambda s: s or "")
    return [{"segment": s or "unassigned", **{v: by_view[v].get(s, "-") for v in by_view}} for s in segments]


def _targets(ctx: AppContext, inputs: Sources | str) -> list[TargetRow]:
    """Each target measured as GET /reports/targets measures it (the published LTM, or the
    platform's own where its data covers a later window whole)."""
    platform = None
    if not isinstance(inputs, str):
        platform = history.PlatformFigures(inputs.snap, inputs.fiscal, inputs.rates, inputs.definitions)
    with ctx.db.transaction() as session:
        targets = plans.targets(session)
        published = plans.actuals_of_targets(session, targets)
        return [_target_row(session, t, platform, published[(t.metric, t.scope)]) for t in targets]


def _target_row(session: Any, target: Any, platform: Any, published: Sequence[Any]) -> TargetRow:
    base = TargetRow(
        target.metric,
        target.scope,
        money_text(target.value_minor, target.currency),
        target.due_on,
        target.note,
    )
    try:
        s = plans.target_status(session, target, platform, list(published))
    except DomainError as unknown:  # no actual to measure from yet: shown, not hidden
        return TargetRow(**{**base.__dict__, "status": f"unknown: {unknown.detail}"})
    return TargetRow(
        **{
            **base.__dict__,
            "latest": money_text(s.latest_minor, target.currency),
            "latest_period": s.latest_period + (" (published)" if s.latest_external else " (platform)"),
            "required_cagr_pct": f"{s.required_cagr_pct} %",
            "achieved_pct": "-" if s.achieved_pct is None else f"{s.achieved_pct} %",
            "status": s.status,
        }
    )


def money_text(minor: int, currency: str) -> str:
    """`US$21 bn` reads better than twenty-one billion written out: whole billions, else grouped."""
    amount = Money(minor, currency).to_decimal()
    if abs(amount) >= BILLION:
        return f"{(amount / BILLION).normalize():f} bn {currency}"
    return f"{amount:,f} {currency}"


def _guidance(ctx: AppContext, period: str) -> dict[str, Any] | str:
    """GET /reports/guidance's answer for the group's revenue in the period's fiscal year, or why
    there is none (no guidance loaded, or not both actuals)."""
    metric, scope = GUIDANCE
    year = period[:6] if period.startswith("FY") else period
    try:
        with ctx.db.transaction() as session:
            latest = plans.latest_guided_period(session, metric, scope)
            if latest is None:
                return f"no guidance for {metric} of {scope} has been issued"
            try:
                return plans.guidance_status(session, metric, scope, year, _fiscal(ctx))
            except NotFound as none:
                if latest == year:  # guided, but an actual is missing: say which
                    return none.detail
            # none for this year: the latest issued, the page saying it is another year's
            return {**plans.guidance_status(session, metric, scope, latest, _fiscal(ctx)), "asked": year}
    except DomainError as none:
        return none.detail
