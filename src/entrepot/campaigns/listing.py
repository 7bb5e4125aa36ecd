"""What the console's peak-day lists share: whose campaigns a caller sees, and a campaign's window as a
state to filter on. Flash sales and group buys (both CampaignHeader rows) are listed through these, so
the rule is stated once: operators see every campaign, a seller its own, buyers and carriers no list
(they buy from a campaign by its id, as the API's routes let them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_

from entrepot.platform.principal import Principal

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
