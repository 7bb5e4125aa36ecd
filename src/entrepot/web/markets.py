"""Markets and FX: every market with its currency, locale and time zone (GET /api/v1/markets), what a
US dollar bought in each market currency on a day, with the rate's date, source and age and whether it
is provisional (GET /api/v1/fx/convert's answer), and, for operators, how fresh each currency's newest
rate is today (GET /api/v1/fx/status, operators only as there)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Request
from starlette.responses import Response

from entrepot.kernel.errors import DomainError
from entrepot.kernel.fx import FxRates
from entrepot.kernel.money import Money
from entrepot.organization import rates, service
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import DayQuery
from entrepot.web.auth import Viewer
from entrepot.web.days import home_today
from entrepot.web.organisation import ALL_MARKETS
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ONE_DOLLAR = Money(100, "USD")


@dataclass(frozen=True)
class DollarRate:
    """What one US dollar bought in `currency` on a day, as GET /fx/convert answers it; `problem`
    when there is no rate (the API's 422 detail)."""

    currency: str
    per_usd: Decimal | None = None
    as_of: dt.date | None = None
    source: str = ""
    age_days: int | None = None
    provisional: bool = False
    problem: str = ""


@router.get("/markets")
def markets(request: Request, ctx: Ctx, viewer: Viewer, on: DayQuery = None) -> Response:
    day = on or home_today(ctx.clock())
    with ctx.db.transaction() as session:
        rows = service.list_markets(session, None, None, ALL_MARKETS)
        currencies = sorted({"USD", "CNY", *(market.currency for market, _ in rows)})
        dollar = [_dollar_rate(service.rates_for(session, ctx.fx, c, day), c, day) for c in currencies]
        freshness = None
        if viewer.principal.is_operator:
            rates.sync_book(session, ctx.fx.book)
            freshness = rates.fx_status(session, ctx.fx, ctx.clock().date())
    return render(request, "markets.html", day=day, markets=rows, dollar=dollar, freshness=freshness)


def _dollar_rate(fx: FxRates, currency: str, day: dt.date) -> DollarRate:
    try:
        found = fx.convert(ONE_DOLLAR, currency, day)
    except DomainError as problem:
        return DollarRate(currency, problem=problem.detail)
    return DollarRate(
        currency, found.rate, found.as_of, found.source, (day - found.as_of).days, found.provisional
    )
