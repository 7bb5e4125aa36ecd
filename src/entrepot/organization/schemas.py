"""API shapes of the organisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from entrepot.platform.schemas import (
    COUNTRY_CODES,
    CURRENCY_CODE,
    FRACTION_TEXT,
    NEW_CODE,
    RATE_TEXT,
    Code,
    Day,
    Request,
    Text,
    decimal_text,
)


class UnitIn(Request):
    kind: Literal["group", "segment", "division", "business_unit"]
    code: Code = Field(examples=["lazada"], json_schema_extra=NEW_CODE)
    name: Text = Field(min_length=1, max_length=200)
    parent: Code | None = Field(default=None, description="code of the parent unit")
    valid_from: Day = Field(description="when the unit joins its parent")


class UnitOut(BaseModel):
    id: str
    kind: str
    code: str
    name: str
    closed_on: dt.date | None = Field(default=None, description="the day a reorganisation closed it")


class CloseIn(Request):
    on: Day = Field(description="the reorganisation's day: the unit leaves its parent and takes no member")


class MoveRevisionIn(Request):
    reason: Text = Field(min_length=1, max_length=200, description="why the planned move is revised")


class MoveCorrectionIn(MoveRevisionIn):
    parent: Code = Field(description="code of the parent the unit will move under instead")
    effective_from: Day = Field(description="a day after today")


class MoveRevisionOut(BaseModel):
    """The audit record of a planned move corrected or withdrawn before it took effect."""

    action: Literal["corrected", "withdrawn"]
    planned_parent: str
    planned_from: dt.date
    new_parent: str | None
    new_from: dt.date | None
    reason: str
    revised_at: dt.datetime


class MoveIn(Request):
    parent: Code = Field(description="code of the new parent")
    effective_from: Day


class MembershipOut(BaseModel):
    parent: str
    valid_from: dt.date
    valid_to: dt.date | None


class TreeOut(BaseModel):
    code: str
    name: str
    kind: str
    children: list[TreeOut]


class MarketIn(Request):
    business_unit: Code
    country: Text = Field(min_length=2, max_length=2, json_schema_extra=COUNTRY_CODES, examples=["SG"])
    currency: Text = Field(min_length=3, max_length=3, json_schema_extra=CURRENCY_CODE, examples=["SGD"])
    locale: Text = Field(max_length=16, examples=["en_SG"])
    time_zone: Text = Field(max_length=64, examples=["Asia/Singapore"])
    tax_rate: Decimal = Field(
        ge=0,
        lt=1,
        examples=["0.09"],
        description="VAT/GST as a fraction, from 0 up to (not including) 1",
        json_schema_extra=decimal_text(FRACTION_TEXT),
    )
    prices_include_tax: bool = True
    shipping_domestic_minor: int = Field(ge=0, strict=True)
    shipping_cross_border_minor: int = Field(ge=0, strict=True)


class MarketOut(BaseModel):
    id: str
    code: str
    business_unit: str
    country: str
    currency: str
    locale: str
    time_zone: str
    tax_rate: Decimal
    prices_include_tax: bool
    shipping_domestic_minor: int
    shipping_cross_border_minor: int


class ManualRateIn(Request):
    currency: Text = Field(min_length=3, max_length=3, json_schema_extra=CURRENCY_CODE)
    on: Day
    per_usd: Decimal = Field(
        gt=0,
        description="units of the currency per US dollar",
        json_schema_extra=decimal_text(RATE_TEXT, maximum=1e9),
    )
    note: Text = Field(default="", max_length=200)


class ManualRateOut(BaseModel):
    """An operator's rate as PUT /fx/manual-rates set it."""

    currency: str
    on: dt.date
    per_usd: Decimal
    note: str


class ConversionOut(BaseModel):
    amount_minor: int
    currency: str
    rate: Decimal
    rate_date: dt.date
    source: str
    provisional: bool = Field(description="the rate is older than the staleness limit for the day")


class RatesLoadedOut(BaseModel):
    rates: int = Field(description="rates in the file")
    stored: int = Field(description="new or corrected rates (the others were already held)")
    newest: dt.date


class FreshnessOut(BaseModel):
    currency: str
    newest: dt.date | None = Field(description="the newest rate held (none: the currency has no rate)")
    source: str = Field(description="ECB, operator, identity (EUR) or none")
    age_days: int | None
    stale: bool = Field(description="older than the staleness limit: new amounts in it are provisional")
