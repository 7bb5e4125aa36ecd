"""API shapes of local services: a delivery station's day to plan, and the plan."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from entrepot.platform.schemas import Moment, PublicId, Request

MAX_SOLVE_SECONDS = 30  # the request waits for the solver: a planning round, not a batch job


class WindowIn(Request):
    opens_at: Moment
    closes_at: Moment


class DayPlanIn(Request):
    shift_starts_at: Moment = Field(description="when the vans may leave the station")
    shift_minutes: int = Field(
        gt=0, le=24 * 60, description="how long a van's route may last, waits included"
    )
    vehicles: int = Field(gt=0, le=500)
    capacity_kg: float = Field(ge=0.001, le=10_000, allow_inf_nan=False, description="what each van carries")
    speed_kmh: float = Field(default=25.0, ge=1, le=130, allow_inf_nan=False, description="average by road")
    handover_minutes: float = Field(default=2.0, ge=0, le=120, allow_inf_nan=False)
    seconds: float = Field(
        default=2.0, gt=0, le=MAX_SOLVE_SECONDS, allow_inf_nan=False, description="to solve in"
    )
    windows: dict[PublicId, WindowIn] = Field(
        default_factory=dict,
        max_length=10_000,
        description="booked hand-over slots, by shipment id",
        # pydantic states the keys' rule as patternProperties, which lets other keys through: say they may not
        json_schema_extra={"additionalProperties": False},
    )


class StopOut(BaseModel):
    seq: int
    shipment: str
    delivers_at: dt.datetime


class RouteOut(BaseModel):
    id: str
    vehicle: int
    departs_at: dt.datetime
    returns_at: dt.datetime
    distance_km: float
    load_kg: float
    stops: list[StopOut]


class UnroutedOut(BaseModel):
    shipment: str
    reason: str


class DayPlanOut(BaseModel):
    station: str
    shift_starts_at: dt.datetime
    routes: list[RouteOut]
    unrouted: list[UnroutedOut]
    scans_recorded: int
