"""Livestream sessions' and drops' API shapes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from entrepot.platform.schemas import Code, PublicId, Request, Text


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
