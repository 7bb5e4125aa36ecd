"""Peak days in the console: flash sales' live boards, group buys and the livestream control room.

The lists (flash sales, group buys, livestream sessions) each have filters and cursor pages, as the
orders' and the inventory's do. Who sees what is the campaigns context's rule (campaigns.listing):
operators every campaign, a seller its own (another seller's is a 404), buyers and carriers 403, as the
livestream's running routes answer them. The live board and the control room are in web/peak_live.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.campaigns.flash import queries as flash_queries
from entrepot.campaigns.group_buys import queries as group_queries
from entrepot.campaigns.listing import WINDOW_STATES, CampaignFilter, window_state
from entrepot.campaigns.livestream import queries as live_queries
from entrepot.catalog import service as catalog
from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.pagination import decode_cursor
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Ctx, next_cursor
from entrepot.platform.schemas import CodeQuery, IdPath
from entrepot.web import peak_forms, peak_live
from entrepot.web.auth import Viewer
from entrepot.web.orders import PAGE_SIZE, CursorQuery
from entrepot.web.organisation import ALL_MARKETS
from entrepot.web.peak_live import CreatedQuery
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
# the new-campaign forms first: /peak/flash/new and /peak/group-buys/new before the pages of one by id
router.include_router(peak_forms.router)
router.include_router(peak_live.router)
VIEWS = (("/peak", "Flash sales"), ("/peak/group-buys", "Group buys"), ("/peak/live", "Livestreams"))
StateQuery = Annotated[str | None, Query(pattern="^(upcoming|running|ended|live)?$")]


@dataclass
class Asked:
    """The filters as typed (kept in the form and the next page's link) and the cursor."""

    market: str
    state: str
    cursor: str | None

    def params(self) -> dict[str, Any]:
        return {name: value for name, value in (("market", self.market), ("state", self.state)) if value}

    def campaigns(self) -> CampaignFilter:
        return CampaignFilter(self.market or None, self.state_among(WINDOW_STATES))

    def state_among(self, states: tuple[str, ...]) -> str | None:
        """The state asked for, which must be one this list knows (a 422 page otherwise)."""
        if self.state and self.state not in states:
            raise ValidationFailed("invalid filter", [FieldError("state", " or ".join(states))])
        return self.state or None


def _asked(market: CodeQuery = None, state: StateQuery = None, cursor: CursorQuery = None) -> Asked:
    return Asked(market or "", state or "", cursor)


AskedFor = Annotated[Asked, Depends(_asked)]


def _markets(session: Session) -> list[str]:
    return [m.code for m, _ in organization.list_markets(session, None, None, ALL_MARKETS)]


@router.get("/peak")
def flash_sales(request: Request, ctx: Ctx, viewer: Viewer, asked: AskedFor) -> Response:
    return _campaign_list(request, ctx, viewer, asked, flash_queries.list_sales, "/peak", "peak.html")


@router.get("/peak/group-buys")
def group_buys(request: Request, ctx: Ctx, viewer: Viewer, asked: AskedFor) -> Response:
    page = group_queries.list_group_buys
    return _campaign_list(request, ctx, viewer, asked, page, "/peak/group-buys", "peak_group_buys.html")


def _campaign_list(
    request: Request,
    ctx: AppContext,
    viewer: SignedIn,
    asked: Asked,
    page: Callable[..., Sequence[Any]],
    view: str,
    template: str,
) -> Response:
    """A page of flash sales or group buys (the same columns: both are campaigns), each with where its
    window stands."""
    limit, now = min(PAGE_SIZE, ctx.settings.page_size_max), ctx.clock()
    with ctx.db.transaction() as session:
        found = page(session, viewer.principal, asked.campaigns(), now, decode_cursor(asked.cursor), limit)
        labels = catalog.sku_labels(session, {c.sku_id for c in found})
        markets = _markets(session)
    return render(
        request,
        template,
        view=view,
        views=VIEWS,
        asked=asked,
        states=WINDOW_STATES,
        markets=markets,
        campaigns=[(c, window_state(c.starts_at, c.ends_at, c.closed_at, now)) for c in found],
        labels=labels,
        next_cursor=next_cursor([c.id for c in found], limit),
    )


@router.get("/peak/group-buys/{ref}")
def group_buy(
    request: Request,
    ref: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    cursor: CursorQuery = None,
    done: CreatedQuery = None,
) -> Response:
    """A campaign's figures and its teams: members against the threshold, state and time left."""
    limit, now = min(PAGE_SIZE, ctx.settings.page_size_max), ctx.clock()
    with ctx.db.transaction() as session:
        campaign = group_queries.group_buy_to_run(session, viewer.principal, ref)
        teams = group_queries.teams_of(session, campaign, decode_cursor(cursor), limit)
        label = catalog.sku_labels(session, {campaign.sku_id})[campaign.sku_id]
    return render(
        request,
        "peak_group_buy.html",
        campaign=campaign,
        state=window_state(campaign.starts_at, campaign.ends_at, campaign.closed_at, now),
        label=label,
        teams=[(t, group_queries.seconds_left(t, now)) for t in teams],
        next_cursor=next_cursor([t.id for t in teams], limit),
        cursor=cursor,
        done=done,
    )


@router.get("/peak/live")
def live_sessions(request: Request, ctx: Ctx, viewer: Viewer, asked: AskedFor) -> Response:
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    status = asked.state_among(live_queries.LIVE_STATUSES)
    with ctx.db.transaction() as session:
        found = live_queries.list_sessions(
            session, viewer.principal, status, asked.market or None, decode_cursor(asked.cursor), limit
        )
        markets = _markets(session)
    return render(
        request,
        "peak_live_sessions.html",
        view="/peak/live",
        views=VIEWS,
        asked=asked,
        states=live_queries.LIVE_STATUSES,
        markets=markets,
        sessions=found,
        next_cursor=next_cursor([live.id for live, _ in found], limit),
    )
