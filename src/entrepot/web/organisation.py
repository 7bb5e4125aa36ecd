"""The organisation: its tree on a day (group > segments > divisions > business units > markets) and
the history of its moves, from the same reads as GET /api/v1/org/tree, /markets and the units' history
(organization.service). Any signed-in role may read it, as any API key may."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from entrepot.organization import service
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import DayQuery
from entrepot.web.auth import Viewer
from entrepot.web.days import home_today
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ALL_MARKETS = 10_000  # the group's markets fit on one page: a tree is not paginated


@router.get("/organisation")
def organisation(request: Request, ctx: Ctx, viewer: Viewer, on: DayQuery = None) -> Response:
    day = on or home_today(ctx.clock())
    with ctx.db.transaction() as session:
        tree = service.tree_on(session, day)
        markets = service.list_markets(session, None, None, ALL_MARKETS)
        moves = service.moves(session)
    by_unit: dict[str, list[str]] = {}
    for market, unit_code in markets:
        by_unit.setdefault(unit_code, []).append(market.code)
    return render(
        request,
        "organisation.html",
        day=day,
        tree=tree,
        markets=by_unit,
        moves=moves,
        moved_on_day={m.code for m in moves if m.effective == day},
    )
