"""API shapes of logistics."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic.config import JsonDict

from entrepot.logistics.domain import DEFAULT_PARCEL_CM
from entrepot.logistics.tracking import EVENT_TYPES
from entrepot.platform.schemas import Request, Text, one_of

# The years a route may be asked for: the planner counts minutes since 1970 and adds days of transit, so
# a far year overflows the calendar; 2000-2100 covers every real question with room to spare.
READY_YEARS = (2000, 2100)
# As the document states them: the time starts with one of those years.
READY_YEARS_PATTERN: JsonDict = {"pattern": "^(20[0-9]{2}|2100)-"}


class RouteQuery(Request):
    origin: Text = Field(
        max_length=64, examples=["cn-hangzhou", "HGH"], description="a node code, or an airport's IATA code"
    )
    destination: Text = Field(max_length=64, examples=["MNL"])
    weight_kg: float = Field(gt=0, le=1000, allow_inf_nan=False)
    length_cm: float = Field(default=DEFAULT_PARCEL_CM[0], gt=0, le=400, allow_inf_nan=False)
    width_cm: float = Field(default=DEFAULT_PARCEL_CM[1], gt=0, le=400, allow_inf_nan=False)
    height_cm: float = Field(default=DEFAULT_PARCEL_CM[2], gt=0, le=400, allow_inf_nan=False)
    ready_at: dt.datetime | None = Field(
        default=None,
        description=f"default: now; within the years {READY_YEARS[0]}-{READY_YEARS[1]}",
        json_schema_extra=READY_YEARS_PATTERN,
    )
    service: Literal["express", "standard", "economy"] | None = None
    objective: Literal["cheapest", "greenest"] = "cheapest"

    @field_validator("ready_at")
    @classmethod
    def _within_planning_years(cls, ready: dt.datetime | None) -> dt.datetime | None:
        return within_planning_years(ready)


def within_planning_years(moment: dt.datetime | None) -> dt.datetime | None:
    """`moment` if it falls in READY_YEARS (the local year: converting year 1 or 9999 to UTC could
    itself overflow); otherwise a ValueError, which the request models turn into a 422 on the field."""
    if moment is not None and not READY_YEARS[0] <= moment.year <= READY_YEARS[1]:
        raise ValueError(f"must be within the years {READY_YEARS[0]}-{READY_YEARS[1]}")
    return moment


class LegOut(BaseModel):
    lane: str
    origin: str
    destination: str
    mode: str
    carrier: str
    departs_at: dt.datetime
    arrives_at: dt.datetime
    distance_km: float
    cost_cents: int
    emissions_g: float


class RouteOut(BaseModel):
    arrives_at: dt.datetime
    days: float
    cost_cents: int
    emissions_g: float
    legs: list[LegOut]


# what `?epsilon=` may be: 0 (the exact Pareto set, slow: for audits) up to 1 (routes within twice)
EPSILON_RANGE = (0.0, 1.0)


class CoverOut(BaseModel):
    """The (1+epsilon) of the answer: every Pareto-optimal route under the rules has one returned within
    (1 + epsilon) of it on each count (time counted from ready_at). 0 on all three: the exact set."""

    time: float = Field(examples=[0.02])
    cost: float = Field(examples=[0.02])
    emissions: float = Field(examples=[0.02])


class RulesOut(BaseModel):
    """The routing rules the answer keeps (the network's; each on by default)."""

    warehouses_start_only: bool = Field(
        description="a fulfilment warehouse starts a route, never passes one on"
    )
    stations_end_only: bool = Field(description="a delivery station ends a route, never passes one on")
    no_node_twice: bool = Field(description="a route never visits a node twice")
    max_legs: int = Field(description="at most this many legs (0: no limit)", examples=[8])


class RoutePlanOut(BaseModel):
    origin: str
    destination: str
    ready_at: dt.datetime
    pareto: list[RouteOut] = Field(
        description="a (1+epsilon) cover of the Pareto-optimal routes over time, cost and emissions"
        " under the rules, fastest first: every Pareto-optimal route has one here within (1+epsilon)"
        " of it on each count, every one feasible, none beaten by another"
    )
    epsilon: CoverOut
    rules: RulesOut
    emissions_version: str = Field(
        description="the emission factor version the routes' emissions_g come from: the one accounting"
        " records shipments under (its number and tables), or the built-in default table",
        examples=["v3 (asia@1, glec-v3-hubs@1, desnz-2025@1)"],
    )
    chosen: RouteOut | None
    service: str | None
    promised_by: dt.datetime | None
    emissions_method: str = "estimate: t x km x a DESNZ 2025 well-to-wheel factor per mode"


class ScanIn(Request):
    event_id: Text = Field(min_length=1, max_length=128)
    type: Text = Field(max_length=24, json_schema_extra=one_of(*EVENT_TYPES))
    occurred_at: dt.datetime = Field(
        description=f"within the years {READY_YEARS[0]}-{READY_YEARS[1]}",
        json_schema_extra=READY_YEARS_PATTERN,
    )
    node: Text | None = Field(default=None, max_length=64)

    @field_validator("occurred_at")
    @classmethod
    def _within_planning_years(cls, occurred: dt.datetime) -> dt.datetime:
        # a scan dated in year 1 would replay the parcel's history before its label was printed
        within_planning_years(occurred)
        return occurred


class CustomsOut(BaseModel):
    currency: str
    duty_minor: int
    tax_minor: int
    tax_collected: str = Field(description="at import, at the point of sale (a low-value scheme), or none")
    reasoning: list[str]


class RevenueOut(BaseModel):
    start: dt.datetime
    end: dt.datetime
    shipments: int
    domestic_cents: int
    overseas_cents: int
    overseas_share: float
    definition: str = "fees billed to sellers; domestic = from China to China, overseas = everything else"


class ShipmentOut(BaseModel):
    id: str
    order: str
    status: str
    service: str
    origin: str
    destination: str
    cross_border: bool
    weight_g: int
    fee_cents: int
    revenue_origin: str
    emissions_g: float = Field(description="planned: the route's estimate when the shipment was planned")
    emissions_version: str | None = Field(
        description="the emission factor version emissions_g was estimated with (null: planned before"
        " estimates named it, with the built-in default table); the account of every version is"
        " GET /emissions/shipments/{id}",
        examples=["v2"],
    )
    promised_at: dt.datetime
    eta: dt.datetime
    delivered_at: dt.datetime | None
    on_time: bool | None
    legs: list[LegOut]
    scans: list[dict[str, object]]
    customs: CustomsOut | None
