"""What the console's peak-day lists share: whose campaigns a caller sees, and a campaign's window as a
state to filter on. Flash sales and group buys (both CampaignHeader rows) are listed through these, so
the rule is stated once: operators see every campaign, a seller its own, buyers and carriers no list
(they buy from a campaign by its id, as the API's routes let them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from entrepot.campaigns.common import CampaignHeader
from entrepot.kernel.errors import not_found
from entrepot.platform.principal import Principal

Campaign = TypeVar("Campaign", bound=CampaignHeader)

WINDOW_STATES = ("upcoming", "running", "ended")


@dataclass(frozen=True)
class CampaignFilter:
    """A page's filters: the market's code and where the campaign's window stands (WINDOW_STATES)."""

    market: str | None = None
    state: str | None = None


def seller_scope(principal: Principal) -> int | None:
    """None for operators (every campaign), the seller's id for a seller; 403 for anyone else, decided
    before any id is looked up (as the livestream's running routes decide it)."""
    principal.require("seller", "operator")
    return None if principal.is_operator else principal.seller_id


def filtered(
    query: Select[Any], model: Any, seller_id: int | None, filters: CampaignFilter, now: dt.datetime
) -> Select[Any]:
    """`query` over campaigns of `model` narrowed to the seller (when given) and the filters."""
    if seller_id is not None:
        query = query.where(model.seller_id == seller_id)
    if filters.market:
        query = query.where(model.market_ref == filters.market)
    if filters.state == "upcoming":
        query = query.where(model.starts_at > now, model.closed_at.is_(None))
    elif filters.state == "running":
        query = query.where(model.starts_at <= now, model.ends_at > now, model.closed_at.is_(None))
    elif filters.state == "ended":
        query = query.where(or_(model.ends_at <= now, model.closed_at.is_not(None)))
    return query


def window_state(
    starts_at: dt.datetime, ends_at: dt.datetime, closed_at: dt.datetime | None, now: dt.datetime
) -> str:
    """The state `filtered` selects a campaign by, for showing beside it."""
    if closed_at is not None or ends_at <= now:
        return "ended"
    return "upcoming" if starts_at > now else "running"


def campaigns_page(
    session: Session,
    model: type[Campaign],
    principal: Principal,
    filters: CampaignFilter,
    now: dt.datetime,
    before_id: int | None,
    limit: int,
) -> list[Campaign]:
    """Campaigns of `model` newest first, keyset-paginated on the internal id; a seller's own only."""
    query = filtered(select(model), model, seller_scope(principal), filters, now)
    if before_id is not None:
        query = query.where(model.id < before_id)
    return list(session.scalars(query.order_by(model.id.desc()).limit(limit)))


def campaign_to_run(
    principal: Principal, find: Callable[[], Campaign], what: str, public_id: str
) -> Campaign:
    """The campaign `find` looks up, for its seller or an operator; to another seller it is an unknown
    one (404), to a buyer or a carrier this view is refused (403) before any id is looked up."""
    seller_scope(principal)
    campaign = find()
    if not principal.sees(seller_id=campaign.seller_id):
        raise not_found(what, public_id)
    return campaign
