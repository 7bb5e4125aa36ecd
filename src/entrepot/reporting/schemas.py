"""API shapes of reporting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from entrepot.platform.schemas import (
    CURRENCY_CODE,
    PERCENT_TEXT,
    POSITIVE_TEXT,
    Code,
    Day,
    Request,
    Text,
    decimal_text,
    one_of,
    period_pattern,
)

# Bounds of what a body may ask for: a target up to 10^15 in major units (as imported actuals), and a
# guidance band within +-10,000 % (the column holds up to 99,999.99).
MAX_TARGET = Decimal(10) ** 15
MAX_GUIDANCE_PCT = Decimal(10_000)


class ReportOut(BaseModel):
    metric: str
    meta: dict[str, Any] = Field(
        description="period, view, FX method, currency, definitions, data freshness, and coverage: how "
        "much of the period the data covers (status full, partial or no data; first and last day with "
        "data; per business unit)"
    )
    columns: list[str]
    rows: list[dict[str, Any]] = Field(
        description="a row's `coverage` says how much of its period its units' data covers: full, no "
        "data, or partial with its days"
    )


class SnapshotOut(BaseModel):
    refreshed_at: dt.datetime
    new_rows: dict[str, int]


class TargetIn(Request):
    metric: Text = Field(default="gmv", max_length=32, json_schema_extra=one_of("gmv"))
    scope: Code = Field(min_length=1, description="the code of the organisation unit (or group) it is for")
    value: Decimal = Field(
        gt=0,
        le=MAX_TARGET,
        allow_inf_nan=False,
        description="major units, e.g. 100000000000 for US$100 bn",
        json_schema_extra=decimal_text(POSITIVE_TEXT),
    )
    currency: Text = Field(max_length=3, json_schema_extra=CURRENCY_CODE)
    due_on: Day
    note: Text = Field(default="", max_length=200)


class TargetOut(BaseModel):
    id: str
    metric: str
    scope: str
    value: str
    currency: str
    due_on: dt.date
    note: str
    latest_actual_period: str | None = None
    latest_actual_external: bool | None = None
    latest_actual: str | None = None
    years: str | None = None
    required_cagr_pct: str | None = None
    achieved_pct: str | None = Field(
        default=None, description="growth of the latest LTM over the year before"
    )
    status: str
    platform_covers: str | None = Field(
        default=None,
        description="the days the platform's data covers for the scope; a published LTM stands unless "
        "the platform covers a window whole",
    )


class ScenarioOut(BaseModel):
    actuals: int = Field(description="published actuals loaded")
    targets: list[TargetOut]


class GuidanceIn(Request):
    metric: Text = Field(
        default="revenue",
        max_length=32,
        description="gmv, revenue or active_consumers",
        json_schema_extra=one_of("gmv", "revenue", "active_consumers"),
    )
    scope: Code = Field(min_length=1, description="the code of an organisation unit")
    period: Text = Field(
        max_length=32,
        json_schema_extra=period_pattern("fiscal-year", "fiscal-quarter", "month", "ltm", "day"),
    )
    low_pct: Decimal = Field(
        ge=-MAX_GUIDANCE_PCT,
        le=MAX_GUIDANCE_PCT,
        allow_inf_nan=False,
        json_schema_extra=decimal_text(PERCENT_TEXT),
    )
    high_pct: Decimal = Field(
        ge=-MAX_GUIDANCE_PCT,
        le=MAX_GUIDANCE_PCT,
        allow_inf_nan=False,
        json_schema_extra=decimal_text(PERCENT_TEXT),
    )
    issued_on: Day
    note: Text = Field(default="", max_length=200)


class ActualOut(BaseModel):
    metric: str
    scope: str
    period: str
    currency: str | None
    value: str
    source: str
    external: bool = True


class DefinitionIn(Request):
    definition: Text = Field(
        max_length=64,
        description="confirmed-gross, paid-gross or net-merchandise",
        json_schema_extra=one_of("confirmed-gross", "paid-gross", "net-merchandise"),
    )
