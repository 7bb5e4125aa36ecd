"""Routes of group buying: campaigns, teams, joining (payment authorised), and reading a team."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from entrepot.campaigns.group_buys import service as group_buy
from entrepot.campaigns.group_buys.models import GroupBuy, GroupTeam
from entrepot.campaigns.group_buys.schemas import GroupBuyIn, GroupBuyOut, JoinIn, TeamOut
from entrepot.ordering.context import OrderingCtx
from entrepot.platform.deps import Caller, Ctx
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import IdPath

router = APIRouter(tags=["group buying"])


def campaign_out(c: GroupBuy) -> GroupBuyOut:
    return GroupBuyOut(
        id=c.public_id,
        sku=c.sku_ref,
        market=c.market_ref,
        currency=c.currency,
        team_price_minor=c.team_price_minor,
        team_size=c.team_size,
        team_window_seconds=c.team_window_seconds,
        stock=c.stock,
        held=c.held,
        sold=c.sold,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        closed_at=c.closed_at,
    )


def team_out(session: Session, team: GroupTeam, principal: Principal) -> TeamOut:
    campaign = session.get(GroupBuy, team.group_buy_id)
    assert campaign is not None
    mine = group_buy.payment_status_of(session, team.id, principal.buyer_id)
    return TeamOut(
        id=team.public_id,
        group_buy=campaign.public_id,
        status=team.status,
        members=team.members,
        team_size=campaign.team_size,
        deadline=team.deadline,
        your_payment=mine,
    )


@router.post("/group-buys", status_code=201, response_model=GroupBuyOut)
def create_group_buy(body: GroupBuyIn, ctx: Ctx, principal: Caller) -> GroupBuyOut:
    """Set units aside for a team price: a team of `team_size` buyers within `team_window_seconds`."""
    spec = group_buy.GroupBuySpec(**body.model_dump())
    with ctx.db.transaction() as session:
        return campaign_out(group_buy.create_group_buy(session, principal, spec, ctx.clock()))


@router.get("/group-buys/{ref}", response_model=GroupBuyOut)
def get_group_buy(ref: IdPath, ctx: Ctx, _: Caller) -> GroupBuyOut:
    with ctx.db.transaction() as session:
        return campaign_out(group_buy.get_group_buy(session, ref))


@router.post("/group-buys/{ref}/teams", status_code=201, response_model=TeamOut)
def open_team(ref: IdPath, body: JoinIn, ctx: OrderingCtx, principal: Caller) -> TeamOut:
    """Open a team and join it; your payment is authorised now and captured only if the team fills."""
    with ctx.db.transaction() as session:
        team = group_buy.open_team(session, principal, ref, body.payment_method, ctx.payments, ctx.clock())
        return team_out(session, team, principal)


@router.post("/group-teams/{team_ref}/members", status_code=201, response_model=TeamOut)
def join_team(team_ref: IdPath, body: JoinIn, ctx: OrderingCtx, principal: Caller) -> TeamOut:
    """Join an open team. 409 `team-closed` (full, failed or past its deadline), `already-member`,
    `insufficient-stock`; 402 `payment-declined`. Each changes nothing."""
    with ctx.db.transaction() as session:
        team = group_buy.join_team(
            session, principal, team_ref, body.payment_method, ctx.payments, ctx.clock()
        )
        return team_out(session, team, principal)


@router.get("/group-teams/{team_ref}", response_model=TeamOut)
def get_team(team_ref: IdPath, ctx: Ctx, principal: Caller) -> TeamOut:
    with ctx.db.transaction() as session:
        return team_out(session, group_buy.get_team(session, team_ref), principal)
