"""Group buys as the console reads them: a seller's or the group's campaigns in pages, and one
campaign's teams with how far each is from its threshold (`team_size`) and its deadline."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.campaigns.group_buys import service as group_buy
from entrepot.campaigns.group_buys.models import GroupBuy, GroupTeam
from entrepot.campaigns.listing import CampaignFilter, campaign_to_run, campaigns_page
from entrepot.platform.principal import Principal


def list_group_buys(
    session: Session,
    principal: Principal,
    filters: CampaignFilter,
    now: dt.datetime,
    before_id: int | None,
    limit: int,
) -> list[GroupBuy]:
    return campaigns_page(session, GroupBuy, principal, filters, now, before_id, limit)


def group_buy_to_run(session: Session, principal: Principal, public_id: str) -> GroupBuy:
    """A campaign for its seller or an operator (listing.campaign_to_run)."""
    return campaign_to_run(
        principal, lambda: group_buy.get_group_buy(session, public_id), "group buy", public_id
    )


def teams_of(session: Session, campaign: GroupBuy, before_id: int | None, limit: int) -> list[GroupTeam]:
    """The campaign's teams, newest first, keyset-paginated on the internal id."""
    query = select(GroupTeam).where(GroupTeam.group_buy_id == campaign.id)
    if before_id is not None:
        query = query.where(GroupTeam.id < before_id)
    return list(session.scalars(query.order_by(GroupTeam.id.desc()).limit(limit)))


def seconds_left(team: GroupTeam, now: dt.datetime) -> int | None:
    """Seconds until an open team's deadline (0 once past, until the sweeper fails it); None for a team
    already completed or failed."""
    if team.status != "open":
        return None
    return max(0, int((team.deadline - now).total_seconds()))
