"""The operator's overview: GMV and orders today and over 7 days by division and market, how payments
fare, and how far behind the outbox relay is. Every figure comes from a context's query (reporting.live,
ordering.queries, platform.outbox); this page only lays them side by side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from entrepot.ordering import queries
from entrepot.platform import outbox
from entrepot.platform.deps import Ctx
from entrepot.reporting import live
from entrepot.web.auth import Viewer
from entrepot.web.days import home_today
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
WEEK = 7
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


def side_by_side(today: list[live.Row], week: list[live.Row]) -> list[MarketLine]:
    """One line per division and market, today's figures beside the week's."""
    lines: dict[tuple[str, str], MarketLine] = {}
    for row in week:
        line = lines.setdefault((row.division, row.market), MarketLine(row.division, row.market))
        line.orders_week, line.gmv_week = row.orders, row.gmv_usd
    for row in today:
        line = lines.setdefault((row.division, row.market), MarketLine(row.division, row.market))
        line.orders_today, line.gmv_today = row.orders, row.gmv_usd
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
    day = on or home_today(now)
    week_start = day - dt.timedelta(days=WEEK - 1)
    after_day = day + dt.timedelta(days=1)
    with ctx.db.transaction() as session:
        today = live.gmv_rows(session, day, after_day)
        week = live.gmv_rows(session, week_start, after_day)
        payments = queries.payment_outcomes(session, week_start, after_day)
        backlog = outbox.backlog(session)
        latest = queries.last_order_date(session) if not week else None
    return render(
        request,
        "overview.html",
        day=day,
        week_start=week_start,
        lines=side_by_side(today, week),
        today=_totals(today),
        week=_totals(week),
        payments=payments,
        backlog=backlog,
        lag_seconds=int(backlog.lag(now).total_seconds()),
        definition=live.GMV_DEFINITION,
        latest=latest,  # a quiet week: where the orders are (a demo's are weeks old)
    )


def _totals(rows: list[live.Row]) -> dict[str, int]:
    return {"orders": sum(r.orders for r in rows), "gmv": sum(r.gmv_usd for r in rows)}
