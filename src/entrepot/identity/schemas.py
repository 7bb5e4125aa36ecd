"""API shapes of identity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from entrepot.platform.schemas import COUNTRY_CODES, PublicId, Request, Text


class BuyerIn(Request):
    name: Text = Field(min_length=1, max_length=200)
    country: Text = Field(min_length=2, max_length=2, json_schema_extra=COUNTRY_CODES)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class BuyerOut(BaseModel):
    id: str
    name: str
    country: str


class ApiKeyIn(Request):
    role: Literal["operator", "seller", "buyer", "carrier"]
    name: Text = Field(min_length=1, max_length=200)
    seller: PublicId | None = None
    buyer: PublicId | None = None
    carrier: Text | None = Field(
        default=None, max_length=64, description="carrier keys: the carrier, as lanes name it"
    )


class ApiKeyOut(BaseModel):
    id: str
    role: str
    name: str
    carrier: str | None = None
    key: str | None = Field(default=None, description="shown once, at creation; only its hash is stored")
