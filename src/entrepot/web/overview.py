"""The operator's overview: GMV and orders today, over 7 days and over the last twelve months by division
and market, orders a minute as they come in (server-sent events, web/live.py), how payments fare, and how
far behind the outbox relay is. Every figure comes from a context's query (reporting.live,
ordering.queries, platform.outbox); this page only lays them side by side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.ordering import queries
from entrepot.platform import outbox
from entrepot.platform.deps import Ctx
from entrepot.reporting import live
from entrepot.web import live as web_live
from entrepot.web.auth import Viewer
from entrepot.web.days import home_today
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
WEEK = 7
YEAR = 365  # the last twelve months: the day and the 364 before it
LIVE_MINUTES = 5  # orders a minute, averaged over the last five (one minute's count jumps about)
# Every card counts orders by their date in their own market's time zone; "today" is the day in China
# (days.home_today), so that from 16:00 UTC the new day of the UTC+8 markets is counted, not left out.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # as the API's periods; no date overflow


@dataclass
class MarketLine:
    division: str
    market: str
    orders_today: int = 0
    gmv_today: int = 0
    orders_week: int = 0
    gmv_week: int = 0
    orders_year: int = 0
    gmv_year: int = 0


def side_by_side(today: list[live.Row], week: list[live.Row], year: list[live.Row]) -> list[MarketLine]:
    """One line per division and market, today's figures beside the week's and the twelve months'."""
    lines: dict[tuple[str, str], MarketLine] = {}
    for span, rows in (("year", year), ("week", week), ("today", today)):
        for row in rows:
            line = lines.setdefault((row.division, row.market), MarketLine(row.division, row.market))
            setattr(line, f"orders_{span}", row.orders)
            setattr(line, f"gmv_{span}", row.gmv_usd)
    return [lines[key] for key in sorted(lines)]


@router.get("/overview")
def overview(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    on: Annotated[
        dt.date | None, Query(ge=FIRST_DAY, le=LAST_DAY, description="the day to look at; today by default")
    ] = None,
) -> Response:
    viewer.principal.require("operator")  # as the API's operator routes: 403 for any other role
    now = ctx.clock()
    today = home_today(now)
    with ctx.db.transaction() as session:
        figures = _figures_to(session, on or _day_to_open(session, today))
        backlog = outbox.backlog(session)
        live_figures = _live_figures(session, now, backlog)
    return render(
        request,
        "overview.html",
        day=figures.day,
        week_start=figures.week_start,
        lines=side_by_side(figures.today, figures.week, figures.year),
        today=_totals(figures.today),
        week=_totals(figures.week),
        year=_totals(figures.year),
        live_figures=live_figures,
        live_minutes=LIVE_MINUTES,
        payments=figures.payments,
        backlog=backlog,
        lag_seconds=int(backlog.lag(now).total_seconds()),
        definition=live.GMV_DEFINITION,
        home_day=today,
        moved_from_today=on is None and figures.day != today,
    )


def _day_to_open(session: Session, today: dt.date) -> dt.date:
    """Today, unless the newest order is older than the week to today (a demo's or a restored copy's
    orders): then the latest day with orders, which the page says, rather than a page of zeros."""
    latest = queries.last_order_date(session)
    quiet_week = latest is not None and latest < today - dt.timedelta(days=WEEK - 1)
    return latest if latest is not None and quiet_week else today


@dataclass
class DayFigures:
    day: dt.date
    week_start: dt.date
    today: list[live.Row]
    week: list[live.Row]
    year: list[live.Row]
    payments: queries.PaymentOutcomes


def _figures_to(session: Session, day: dt.date) -> DayFigures:
    """The day's, its week's and its twelve months' orders and GMV, and the week's payments."""
    week_start = day - dt.timedelta(days=WEEK - 1)
    year_start = day - dt.timedelta(days=YEAR - 1)
    after_day = day + dt.timedelta(days=1)
    today, week, year = live.windows_to(session, [day, week_start, year_start], after_day)
    payments = queries.payment_outcomes(session, week_start, after_day)
    return DayFigures(day, week_start, today, week, year, payments)


def _totals(rows: list[live.Row]) -> dict[str, int]:
    return {"orders": sum(r.orders for r in rows), "gmv": sum(r.gmv_usd for r in rows)}


def _live_figures(
    session: Session, now: dt.datetime, backlog: outbox.Backlog | None = None
) -> web_live.Figures:
    """What the overview's live card shows and its event stream sends (the backlog read afresh unless
    the page has it already)."""
    per_minute = queries.orders_per_minute(session, now, LIVE_MINUTES)
    backlog = backlog or outbox.backlog(session)
    return {
        "orders_per_minute": f"{per_minute:,.1f}",
        "outbox_waiting": f"{backlog.pending:,}",
        "as_of": now.astimezone(dt.UTC).strftime("%H:%M:%S UTC"),
    }


@router.get("/overview/live")
async def overview_feed(request: Request, ctx: Ctx, viewer: Viewer) -> Response:
    """The live card's figures as server-sent events, for operators (as the page)."""
    viewer.principal.require("operator")

    def read() -> web_live.Figures:
        with ctx.db.transaction() as session:
            return _live_figures(session, ctx.clock())

    stream = web_live.figures_stream(request, read, web_live.session_check(request, ctx))
    return web_live.live_response(stream)
