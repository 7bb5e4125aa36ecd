"""Flash sales' API shapes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from entrepot.inventory.domain import MAX_STOCK_UNITS
from entrepot.ordering.payments import METHOD_MAX
from entrepot.platform.schemas import Code, Moment, PublicId, Request, Text


class FlashSaleIn(Request):
    sku: PublicId = Field(examples=["sku_01jd..."])
    market: Code = Field(examples=["lazada-sg"])
    sale_price_minor: int = Field(
        strict=True,
        ge=1,
        description="price of one unit, tax included, in minor units (at most 100,000,000 of the market's"
        " currency)",
    )
    stock: int = Field(
        strict=True, ge=1, le=MAX_STOCK_UNITS, description="units set aside for the sale from one warehouse"
    )
    per_buyer_limit: int = Field(
        strict=True, ge=1, description="most units one buyer may hold, up to the stock"
    )
    starts_at: Moment
    ends_at: Moment
    reservation_ttl_seconds: int = Field(
        default=600, strict=True, ge=5, le=24 * 3600, description="time to pay, 5 s to 24 h"
    )
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
