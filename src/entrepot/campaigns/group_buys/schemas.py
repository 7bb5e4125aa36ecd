"""Group buys' API shapes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from entrepot.inventory.domain import MAX_STOCK_UNITS
from entrepot.ordering.payments import METHOD_MAX
from entrepot.platform.schemas import Code, Moment, PublicId, Request, Text


class GroupBuyIn(Request):
    sku: PublicId
    market: Code
    team_price_minor: int = Field(
        strict=True,
        ge=0,
        description="what each member pays when the team fills, in minor units (at most 100,000,000 of"
        " the market's currency)",
    )
    team_size: int = Field(strict=True, ge=2, le=100, description="buyers a team needs, 2 to 100")
    team_window_seconds: int = Field(
        strict=True,
        ge=60,
        le=7 * 24 * 3600,
        description="a team fails unless full within this: 1 minute to 7 days",
    )
    stock: int = Field(
        strict=True,
        ge=2,
        le=MAX_STOCK_UNITS,
        description="units set aside for the campaign from one warehouse: at least one team's worth",
    )
    starts_at: Moment
    ends_at: Moment


class GroupBuyOut(BaseModel):
    id: str
    sku: str
    market: str
    currency: str
    team_price_minor: int
    team_size: int
    team_window_seconds: int
    stock: int
    held: int = Field(description="units held for teams still filling")
    sold: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime | None


class JoinIn(Request):
    payment_method: Text = Field(
        max_length=METHOD_MAX, description="authorised now, captured when the team fills"
    )


class TeamOut(BaseModel):
    id: str
    group_buy: str
    status: str = Field(description="open, completed or failed")
    members: int
    team_size: int
    deadline: dt.datetime
    your_payment: str | None = Field(description="authorized, captured or released; none if not a member")
