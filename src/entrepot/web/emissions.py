"""Emissions, for operators and sellers (as GET /api/v1/emissions/*: a seller sees only its own
shipments, buyers and carriers are refused): a period's well-to-wheel CO2e month by month by transport
mode (GET /emissions/series), broken down by mode, division and market (GET /emissions/report), and,
for operators (targets are theirs, as GET /emissions/targets/{id}/progress), the straight-line pathway
to the target (by default -50 % by FY2030 on FY2022) against each fiscal year's actual. The same
emissions functions as the API's routes; a bad period is shown beside its field as the API's problem."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.emissions import reports
from entrepot.emissions.models import TargetRow
from entrepot.emissions.schemas import FiguresOut
from entrepot.kernel.errors import DomainError
from entrepot.kernel.periods import FiscalCalendar, Period
from entrepot.platform.deps import Ctx
from entrepot.web.auth import Viewer
from entrepot.web.charts import Chart, Level, Series
from entrepot.web.days import this_year, year_to_open
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FormText = Annotated[str, Query(max_length=64)]
BREAKDOWNS = (("mode", "Transport mode"), ("division", "Division"), ("market", "Market"))
UNITS = {"absolute_t": "t CO2e", "g_per_tkm": "g CO2e per tkm", "g_per_parcel": "g CO2e per parcel"}


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    label: str
    rows: list[tuple[str, FiguresOut]]
    total: FiguresOut
    truncated: bool
    hubs_kg: float = 0.0  # the hub operations' part of the total's WTW


@dataclass
class Pathway:
    """A target's progress, or `problem` saying why it cannot be measured (no baseline yet)."""

    target: TargetRow
    chart: Chart | None = None
    on_track: list[tuple[str, bool | None]] = field(default_factory=list)
    problem: str = ""
    basis: str = ""  # where the baseline comes from: measured, built from later data, or imported


@router.get("/emissions")
def emissions_page(
    request: Request, ctx: Ctx, viewer: Viewer, period: FormText = "", target: FormText = ""
) -> Response:
    seller = reports.seller_scope(viewer.principal)
    fiscal = FiscalCalendar(ctx.settings.fiscal_year_end_month)
    today = ctx.clock().date()
    opened_on = "" if period.strip() else year_to_open(ctx)
    values = {"period": period.strip() or opened_on, "target": target}
    problem, status = FormProblem(), 200
    monthly, breakdowns, span = None, [], None
    try:
        span = reports.period_of(values["period"], fiscal)
    except DomainError as refused:
        problem, status = FormProblem.of(refused), refused.status
    with ctx.db.transaction() as session:
        if span is not None:
            monthly = _monthly(session, span, seller)
            breakdowns = [_breakdown(session, span, by, label, seller) for by, label in BREAKDOWNS]
        targets = reports.list_targets(session) if seller is None else []
        chosen = next((t for t in targets if t.public_id == target), targets[0] if targets else None)
        pathway = _pathway(session, chosen, today, fiscal) if chosen else None
    return render(
        request,
        "emissions.html",
        status,
        values=values,
        problem=problem,
        span=span,
        monthly=monthly,
        breakdowns=breakdowns,
        targets=targets,
        pathway=pathway,
        this_year=this_year(ctx),
        moved_from_this_year=bool(opened_on) and opened_on != this_year(ctx),
    )


def _monthly(session: Session, span: Period, seller: str | None) -> Chart:
    """Stacked bars: a bar per month, a part per transport mode, in kilograms CO2e well to wheel."""
    _, points = reports.series(session, span, "mode", None, seller)
    months = sorted({month for month, _, _ in points})
    modes = sorted({key for _, key, _ in points})
    kg = {(month, key): FiguresOut.of(t).wtw_kg for month, key, t in points}
    series = [
        Series(m.replace("_", " "), [kg.get((month, m)) for month in months], stack="co2e") for m in modes
    ]
    title = f"CO2e by month and transport mode, {span.label}"
    return Chart("emissions-monthly", title, "bar", months, series, "kg CO2e", "Month", decimals=3)


def _breakdown(session: Session, span: Period, by: str, label: str, seller: str | None) -> Breakdown:
    found = reports.report(session, span, by, None, seller)
    rows = [(r.key, FiguresOut.of(r.totals)) for r in found.rows]
    total = FiguresOut.of(found.total.totals)
    return Breakdown(by, label, rows, total, found.truncated, found.total.hubs_wtw_mg / 1e6)


def _pathway(session: Session, row: TargetRow, today: dt.date, fiscal: FiscalCalendar) -> Pathway:
    """The target's pathway and actuals, as GET /emissions/targets/{id}/progress answers them."""
    try:
        target, years = reports.progress(session, row, today, fiscal)
    except DomainError as unmeasured:
        return Pathway(row, problem=unmeasured.detail)
    labels = [f"FY{y.year}" for y in years]
    unit = UNITS.get(row.metric, row.metric)
    chart = Chart(
        "emissions-pathway",
        f"{row.name}: {row.metric.replace('_', ' ')} against the pathway to "
        f"-{row.reduction:.0%} by FY{row.target_year}",
        "line",
        labels,
        [
            Series("Pathway", [y.pathway for y in years], dashed=True),
            Series("Actual", [y.actual for y in years]),
        ],
        unit,
        "Fiscal year",
        decimals=2,
        levels=[Level(f"Target FY{row.target_year}", target.target_value)],
    )
    marks = [(label, y.on_track) for label, y in zip(labels, years, strict=True)]
    return Pathway(row, chart, marks, basis=target.baseline_basis)
