"""API shapes of inventory."""

from __future__ import annotations

from pydantic import BaseModel, Field

from entrepot.inventory.domain import MAX_STOCK_UNITS
from entrepot.platform.schemas import COUNTRY_CODES, NEW_CODE, Code, Request, Text


class WarehouseIn(Request):
    code: Code = Field(json_schema_extra=NEW_CODE)
    name: Text = Field(min_length=1, max_length=200)
    country: Text = Field(min_length=2, max_length=2, json_schema_extra=COUNTRY_CODES)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class WarehouseOut(BaseModel):
    id: str
    code: str
    name: str
    country: str
    latitude: float
    longitude: float


class StockIn(Request):
    on_hand: int = Field(strict=True, ge=0, le=MAX_STOCK_UNITS)


class StockOut(BaseModel):
    sku: str
    warehouse: str
    warehouse_country: str
    on_hand: int
    reserved: int
    available: int
