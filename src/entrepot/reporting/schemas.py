"""API shapes of reporting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class ReportOut(BaseModel):
    metric: str
    meta: dict[str, Any] = Field(description="period, view, FX method, currency, definitions, data freshness")
    columns: list[str]
    rows: list[dict[str, Any]]


class SnapshotOut(BaseModel):
    refreshed_at: dt.datetime
    new_rows: dict[str, int]


class TargetIn(BaseModel):
    metric: str = "gmv"
    scope: str = Field(min_length=1, max_length=64, description="the unit (or group) the target is for")
    value: Decimal = Field(description="major units, e.g. 100000000000 for US$100 bn")
    currency: str
    due_on: dt.date
    note: str = Field(default="", max_length=200)


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


class GuidanceIn(BaseModel):
    metric: str = "revenue"
    scope: str = Field(min_length=1, max_length=64)
    period: str
    low_pct: Decimal
    high_pct: Decimal
    issued_on: dt.date
    note: str = Field(default="", max_length=200)


class ActualOut(BaseModel):
    metric: str
    scope: str
    period: str
    currency: str | None
    value: str
    source: str
    external: bool = True


class DefinitionIn(BaseModel):
    definition: str = Field(description="confirmed-gross, paid-gross or net-merchandise")
