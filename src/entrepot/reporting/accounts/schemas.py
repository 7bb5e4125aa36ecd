"""API shapes of the group's accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from entrepot.platform.schemas import (
    COUNTRY_CODES,
    CURRENCY_CODE,
    NEW_CODE,
    POSITIVE_TEXT,
    SIGNED_TEXT,
    Code,
    Day,
    Request,
    Text,
    decimal_text,
    one_of,
    period_pattern,
)
from entrepot.reporting.accounts.domain import CATEGORIES, OUTCOME_METRICS

# Amounts a body may state, in major units: beyond any published figure (as imported actuals).
MAX_AMOUNT = Decimal(10) ** 15
SOURCE = Field(min_length=1, max_length=200, description="where the figure comes from")
QUARTER = period_pattern("fiscal-quarter")
UNSIGNED_TEXT = r"^[0-9]{1,15}(\.[0-9]{1,12})?$"
# A stake: 0 to 1 with up to 6 places (0.33 for 33 %), 1 written as 1 or 1.0.
SHARE_TEXT = r"^(0|0?\.[0-9]{1,6}|1(\.0{1,6})?)$"


class StakeIn(Request):
    share: Decimal = Field(
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="0.33 for 33 %",
        json_schema_extra=decimal_text(SHARE_TEXT),
    )
    valid_from: Day
    source: Text = SOURCE


class InvesteeIn(StakeIn):
    code: Code = Field(json_schema_extra=NEW_CODE, examples=["ant-group"])
    name: Text = Field(min_length=1, max_length=200)
    currency: Text = Field(max_length=3, json_schema_extra=CURRENCY_CODE)
    lag_quarters: int = Field(ge=0, le=4, strict=True, description="quarters in arrears (Ant: 1)")


class StakeOut(BaseModel):
    share: str
    valid_from: dt.date
    source: str


class InvesteeOut(BaseModel):
    code: str
    name: str
    currency: str
    lag_quarters: int
    stakes: list[StakeOut]
    results: int = Field(description="quarterly results imported")
    impairments: list[dict[str, str]]


class ResultIn(Request):
    period: Text = Field(
        max_length=32, description="the investee's quarter: FY2022Q2", json_schema_extra=QUARTER
    )
    currency: Text = Field(max_length=3, json_schema_extra=CURRENCY_CODE)
    net_income: Decimal = Field(
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        allow_inf_nan=False,
        description="major units; a loss is negative",
        json_schema_extra=decimal_text(SIGNED_TEXT),
    )
    source: Text = SOURCE


class ImpairmentIn(Request):
    on: Day
    currency: Text = Field(max_length=3, json_schema_extra=CURRENCY_CODE)
    amount: Decimal = Field(
        gt=0, le=MAX_AMOUNT, allow_inf_nan=False, json_schema_extra=decimal_text(POSITIVE_TEXT)
    )
    source: Text = SOURCE


class ProgrammeIn(Request):
    code: Code = Field(json_schema_extra=NEW_CODE)
    name: Text = Field(min_length=1, max_length=200)
    category: Text = Field(max_length=40, json_schema_extra=one_of(*CATEGORIES))
    countries: list[Text] = Field(
        default_factory=list,
        max_length=20,
        description="where the platform measures its outcomes (buyers' countries)",
        json_schema_extra={"items": {**COUNTRY_CODES, "type": "string"}},
    )
    source: Text = SOURCE


class SpendIn(Request):
    period: Text = Field(max_length=32, json_schema_extra=period_pattern("fiscal-year", "fiscal-quarter"))
    currency: Text = Field(max_length=3, json_schema_extra=CURRENCY_CODE)
    committed: Decimal = Field(
        ge=0, le=MAX_AMOUNT, allow_inf_nan=False, json_schema_extra=decimal_text(UNSIGNED_TEXT)
    )
    spent: Decimal = Field(
        ge=0, le=MAX_AMOUNT, allow_inf_nan=False, json_schema_extra=decimal_text(UNSIGNED_TEXT)
    )
    source: Text = SOURCE


class OutcomeTargetIn(Request):
    metric: Text = Field(max_length=32, json_schema_extra=one_of(*OUTCOME_METRICS))
    value: Decimal = Field(
        gt=0,
        le=MAX_AMOUNT,
        allow_inf_nan=False,
        description="major units for GMV, a count of buyers",
        json_schema_extra=decimal_text(POSITIVE_TEXT),
    )
    currency: Text | None = Field(
        default=None, max_length=3, description="GMV's; none for buyers", json_schema_extra=CURRENCY_CODE
    )
    due_on: Day
    source: Text = SOURCE


class CreatedOut(BaseModel):
    code: str
    detail: str
