"""API shapes of identity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from entrepot.api.schemas import Request


class BuyerIn(Request):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class BuyerOut(BaseModel):
    id: str
    name: str
    country: str


class ApiKeyIn(Request):
    role: Literal["operator", "seller", "buyer", "carrier"]
    name: str = Field(min_length=1, max_length=200)
    seller: str | None = None
    buyer: str | None = None
    carrier: str | None = Field(default=None, description="carrier keys: the carrier, as lanes name it")


class ApiKeyOut(BaseModel):
    id: str
    role: str
    name: str
    carrier: str | None = None
    key: str | None = Field(default=None, description="shown once, at creation; only its hash is stored")
