"""Group buys in a shop: a campaign's page (its team price, team size, the units left), opening a team
and sharing its page, and joining a team (campaigns.group_buys' service, as POST /group-buys/{id}/teams
and /group-teams/{id}/members): each member's payment is authorised on joining and captured only when
the team fills, per that service's rules; a refusal (a full or failed team, a declined payment, no units
left) is shown in place with the API's status and changes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.campaigns.group_buys import service as group_buy
from entrepot.campaigns.group_buys.models import GroupBuy, GroupTeam
from entrepot.catalog import service as catalog
from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed, not_found
from entrepot.ordering.context import OrderingContext, OrderingCtx
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import IdPath
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.shop.common import (
    MarketPart,
    Marketplace,
    Shop,
    ShopRoute,
    current_cart,
    items_in,
    open_shop,
    render_shop,
)
from entrepot.web.shop.words import PAYMENT_METHODS

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
MethodField = Annotated[str, Form(max_length=64)]
JoinedQuery = Annotated[int | None, Query(ge=1, le=1, description="the buyer just joined")]


def _method(given: str) -> str:
    if given not in PAYMENT_METHODS:
        raise ValidationFailed(
            "choose how to pay", [FieldError("payment_method", f"one of {', '.join(PAYMENT_METHODS)}")]
        )
    return given


def _campaign_in(shop: Shop, campaign: GroupBuy) -> GroupBuy:
    """The campaign, when it sells in this shop's market: another market's is not found here."""
    if campaign.market_ref != shop.market.code:
        raise not_found("group buy", campaign.public_id)
    return campaign


@router.get("/shop/{marketplace}/{market}/group-buys/{ref}")
def campaign_page(
    request: Request, marketplace: Marketplace, market: MarketPart, ref: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    return _campaign_page(request, ctx, viewer, marketplace, market, ref)


def _campaign_page(
    request: Request,
    ctx: Ctx | OrderingContext,
    viewer: SignedIn,
    marketplace: str,
    market: str,
    ref: str,
    status: int = 200,
    problem: FormProblem | None = None,
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        campaign = _campaign_in(shop, group_buy.get_group_buy(session, ref))
        title = _title(session, shop, campaign.sku_ref)
        count = items_in(session, current_cart(session, request, viewer))
    now = ctx.clock()
    return render_shop(
        request,
        "shop_group_buy.html",
        shop,
        status,
        cart_count=count,
        campaign=campaign,
        title=title,
        running=campaign.starts_at <= now < campaign.ends_at and campaign.closed_at is None,
        left=campaign.stock - campaign.held - campaign.sold,
        problem=problem or FormProblem(),
        methods=PAYMENT_METHODS,
        csrf=viewer.csrf_token,
    )


def _title(session: Session, shop: Shop, sku: str) -> str:
    priced = catalog.priced_skus(session, shop.market.id, [sku])
    if sku not in priced:
        return sku
    label = catalog.sku_labels(session, [priced[sku].sku_id])[priced[sku].sku_id]
    return f"{label.title} {label.code}"


@router.post("/shop/{marketplace}/{market}/group-buys/{ref}/teams")
def open_team(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ref: IdPath,
    ctx: OrderingCtx,
    viewer: Viewer,
    csrf: CsrfField = "",
    payment_method: MethodField = "",
) -> Response:
    """Open a team and join it as its first member; the team's page is the one to share."""
    auth.check_csrf(viewer, csrf)
    try:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            _campaign_in(shop, group_buy.get_group_buy(session, ref))
            method = _method(payment_method)
            team = group_buy.open_team(session, viewer.principal, ref, method, ctx.payments, ctx.clock())
    except DomainError as problem:
        if problem.status in (401, 403, 404):
            raise
        found = FormProblem.of(problem)
        return _campaign_page(request, ctx, viewer, marketplace, market, ref, problem.status, found)
    return RedirectResponse(f"{shop.path}/teams/{team.public_id}?joined=1", status_code=303)


@router.get("/shop/{marketplace}/{market}/teams/{team_ref}")
def team_page(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    team_ref: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    joined: JoinedQuery = None,
) -> Response:
    return _team_page(request, ctx, viewer, marketplace, market, team_ref, joined=joined)


def _team_page(
    request: Request,
    ctx: Ctx | OrderingContext,
    viewer: SignedIn,
    marketplace: str,
    market: str,
    team_ref: str,
    status: int = 200,
    problem: FormProblem | None = None,
    joined: int | None = None,
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        team = group_buy.get_team(session, team_ref)
        campaign = _campaign_in(shop, _campaign_of(session, team))
        mine = group_buy.payment_status_of(session, team.id, viewer.principal.buyer_id)
        title = _title(session, shop, campaign.sku_ref)
        count = items_in(session, current_cart(session, request, viewer))
    return render_shop(
        request,
        "shop_team.html",
        shop,
        status,
        cart_count=count,
        team=team,
        campaign=campaign,
        title=title,
        mine=mine,
        joinable=team.status == "open" and ctx.clock() < team.deadline and mine is None,
        joined=joined,
        problem=problem or FormProblem(),
        methods=PAYMENT_METHODS,
        csrf=viewer.csrf_token,
    )


def _campaign_of(session: Session, team: GroupTeam) -> GroupBuy:
    found = session.get(GroupBuy, team.group_buy_id)
    assert found is not None  # a team's campaign is never deleted
    return found


@router.post("/shop/{marketplace}/{market}/teams/{team_ref}/members")
def join_team(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    team_ref: IdPath,
    ctx: OrderingCtx,
    viewer: Viewer,
    csrf: CsrfField = "",
    payment_method: MethodField = "",
) -> Response:
    """Join the team; the member who fills it completes it, and every member's payment is captured."""
    auth.check_csrf(viewer, csrf)
    try:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            _campaign_in(shop, _campaign_of(session, group_buy.get_team(session, team_ref)))
            method = _method(payment_method)
            group_buy.join_team(session, viewer.principal, team_ref, method, ctx.payments, ctx.clock())
    except DomainError as problem:
        if problem.status in (401, 403, 404):
            raise
        found = FormProblem.of(problem)
        return _team_page(request, ctx, viewer, marketplace, market, team_ref, problem.status, found)
    return RedirectResponse(f"{shop.path}/teams/{team_ref}?joined=1", status_code=303)
