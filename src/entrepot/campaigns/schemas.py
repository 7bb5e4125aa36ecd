"""API shapes of peak-day commerce: flash sales and their orders."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from entrepot.ordering.payments import METHOD_MAX
from entrepot.platform.schemas import Code, Moment, PublicId, Request, Text


class FlashSaleIn(Request):
    sku: PublicId = Field(examples=["sku_01jd..."])
    market: Code = Field(examples=["lazada-sg"])
    sale_price_minor: int = Field(strict=True, description="price of one unit, tax included, in minor units")
    stock: int = Field(strict=True, description="units set aside for the sale from one warehouse")
    per_buyer_limit: int = Field(strict=True, description="most units one buyer may hold")
    starts_at: Moment
    ends_at: Moment
    reservation_ttl_seconds: int = Field(default=600, strict=True, description="time to pay, 5 s to 24 h")
    strategy: Text = Field(
        default="batched",
        max_length=16,
        description="`batched` (requests coalesced, one transaction per batch) or `row_lock` (one"
        " transaction per request: the naive reference the benchmark measures against)",
    )


class FlashSaleOut(BaseModel):
    id: str
    sku: str
    market: str
    currency: str
    sale_price_minor: int
    stock: int
    available: int
    reserved: int
    sold: int
    waiting: int
    per_buyer_limit: int
    phase: str = Field(description="scheduled, open, waiting (all units held unpaid), sold_out or ended")
    starts_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime | None
    strategy: str


class FlashOrderIn(Request):
    quantity: int = Field(default=1, strict=True, ge=1, le=1000)
    payment_method: Text | None = Field(
        default=None, max_length=METHOD_MAX, description="start paying at once with this payment method token"
    )


class FlashOrderOut(BaseModel):
    id: str
    sale: str
    status: str = Field(description="waiting, reserved, paid, expired, released or lapsed")
    quantity: int
    amount_minor: int
    currency: str
    expires_at: dt.datetime | None = Field(description="pay before this, or the units go back to the sale")
    payment_id: str | None
    payment_status: str | None


class FlashPayIn(Request):
    method: Text = Field(max_length=METHOD_MAX)


class GroupBuyIn(Request):
    sku: PublicId
    market: Code
    team_price_minor: int = Field(strict=True, description="what each member pays when the team fills")
    team_size: int = Field(strict=True, description="buyers a team needs, 2 to 100")
    team_window_seconds: int = Field(strict=True, description="a team fails unless full within this")
    stock: int = Field(strict=True, description="units set aside for the campaign from one warehouse")
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


class LiveSessionIn(Request):
    market: Code
    host: Text = Field(max_length=120)
    title: Text = Field(max_length=200)


class DropIn(Request):
    sku: PublicId
    sale_price_minor: int = Field(strict=True)
    stock: int = Field(strict=True)
    per_buyer_limit: int = Field(strict=True)
    reservation_ttl_seconds: int = Field(default=300, strict=True, ge=5, le=24 * 3600)


class DropOut(BaseModel):
    id: str
    position: int
    status: str = Field(description="queued, open or closed")
    sku: str
    sale_price_minor: int
    stock: int
    sale: str | None = Field(description="the flash sale to buy from (`POST /flash-sales/{sale}/orders`)")
    available: int
    sold: int
    phase: str


class LiveSessionOut(BaseModel):
    id: str
    market: str
    host: str
    title: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    drops: list[DropOut]
