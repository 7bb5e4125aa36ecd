"""API shapes of emissions. Masses of CO2e are kilograms in responses (grams for intensities); the
stored figures are integer milligrams, so totals add up exactly."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from entrepot.emissions.targets import Totals
from entrepot.kernel.bounds import MAX_INT32
from entrepot.platform.schemas import PublicId, Request, Text, period_pattern, printable

# The period forms emissions reads (emissions.periods.FORMS), as the document states them.
PERIOD_PATTERN = period_pattern(
    "fiscal-year", "fiscal-quarter", "calendar-year", "calendar-quarter", "month", "range"
)


class FiguresOut(BaseModel):
    wtw_kg: float = Field(description="well-to-wheel = ttw_kg + wtt_kg: the parcel network and local trips")
    ttw_kg: float
    wtt_kg: float
    tkm: float
    parcels: int
    g_per_tkm: float | None = Field(description="the parcel network's (local trips record no t-km)")
    g_per_parcel: float | None = Field(description="the parcel network's (local trips carry no parcel)")
    local_wtw_kg: float = Field(0.0, description="local couriers' trips' part of wtw_kg")

    @classmethod
    def of(cls, totals: Totals) -> FiguresOut:
        return cls(
            local_wtw_kg=totals.local_wtw_mg / 1e6,
            wtw_kg=totals.wtw_mg / 1e6,
            ttw_kg=totals.ttw_mg / 1e6,
            wtt_kg=totals.wtt_mg / 1e6,
            tkm=round(totals.tkm, 6),
            parcels=totals.parcels,
            g_per_tkm=_rounded(totals.metric("g_per_tkm")),
            g_per_parcel=_rounded(totals.metric("g_per_parcel")),
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class ReportRowOut(FiguresOut):
    key: str
    missing_factors: int = Field(description="elements no factor table covered (counted as zero)")
    legs_wtw_kg: float = Field(description="the transport legs' part of wtw_kg")
    hubs_wtw_kg: float = Field(description="the hub operations' part of wtw_kg (allocated by mass)")
    local_km: float = Field(description="local couriers' kilometres (a trip's shared by its orders)")
    local_deliveries: int = Field(description="orders local couriers delivered")


class ReportOut(BaseModel):
    period: str
    start: dt.date
    end: dt.date
    version: int
    by: str | None
    rows: list[ReportRowOut]
    total: ReportRowOut
    truncated: bool
    method: str = (
        "ISO 14083 / GLEC: t x km x factor per element; local couriers' trips: vehicle-km x factor, shared "
        "equally by the orders delivered; WTW = TTW + WTT; rounded to the mg"
    )


class SeriesPointOut(FiguresOut):
    month: str
    key: str


class SeriesOut(BaseModel):
    period: str
    version: int
    by: str | None
    points: list[SeriesPointOut]


class FactorOut(BaseModel):
    table: str
    row: int
    ttw: float
    wtt: float
    wtw: float
    unit: str
    source: str


class ElementOut(BaseModel):
    seq: int
    kind: str
    mode: str
    vehicle: str
    lane: str
    origin: str
    destination: str
    distance_km: float
    distance_rule: str
    mass_kg: float
    tkm: float
    wtw_g: float
    ttw_g: float
    wtt_g: float
    category: str
    factor: FactorOut | None
    missing_factor: bool
    missing_reason: str | None = Field(None, description="why no factor applied, when none did")


class ShipmentEmissionsOut(BaseModel):
    shipment: str
    order: str
    seller: str
    marketplace: str
    division: str
    market: str
    planned_on: dt.date
    version: int
    wtw_g: float
    ttw_g: float
    wtt_g: float
    legs_wtw_g: float = Field(description="the transport legs' part of wtw_g")
    hubs_wtw_g: float = Field(description="the hub operations' part of wtw_g (allocated by mass)")
    elements: list[ElementOut]


class LocalShareOut(BaseModel):
    order: str
    seller: str
    market: str
    marketplace: str
    division: str
    km: float = Field(description="the order's share of the trip's kilometres")
    wtw_g: float
    ttw_g: float
    wtt_g: float


class LocalTripEmissionsOut(BaseModel):
    trip: str
    courier: str
    mode: str = Field(description="the courier's: ebike, scooter, car or walking")
    distance_km: float = Field(description="the trip's planned route by that mode's roads")
    done_on: dt.date
    countries: list[str] = Field(description="its orders' markets' countries: which scoped tables answer")
    version: int
    wtw_g: float = Field(description="the shares shown (a seller sees its own orders' only)")
    ttw_g: float
    wtt_g: float
    category: str
    factor: FactorOut | None = Field(description="g CO2e per vehicle-km; the trip's km x it, shared equally")
    missing_factor: bool
    missing_reason: str | None = None
    orders: list[LocalShareOut]


class VersionOut(BaseModel):
    number: int
    tables: list[str]
    reason: str
    created_at: dt.datetime


class FactorTableOut(BaseModel):
    id: str
    name: str
    version: int
    kind: str
    rows: int
    countries: list[str] | None = Field(description="ISO 3166 alpha-2 codes it applies in; null: everywhere")
    sha256: str
    loaded_at: dt.datetime


class LoadedOut(BaseModel):
    table: FactorTableOut
    calculation_version: int


class TargetIn(Request):
    name: Text = Field(min_length=1, max_length=120)
    metric: Literal["absolute_t", "g_per_tkm", "g_per_parcel"] = "absolute_t"
    baseline_year: int = Field(default=2022, ge=1990, le=2100, description="fiscal year")
    target_year: int = Field(default=2030, ge=1990, le=2100)
    reduction: float = Field(default=0.5, gt=0, le=1, description="0.5 = -50 %")
    baseline_value: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="an imported baseline; default: measured from the baseline year's data, or built from "
        "the first later year with data when it has none (progress says which)",
    )
    baseline_source: Text | None = Field(
        default=None, max_length=300, description="where an imported baseline_value comes from"
    )

    @field_validator("name")
    @classmethod
    def _not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be blank")
        return name


class TargetOut(BaseModel):
    id: str
    name: str
    metric: str
    baseline_year: int
    target_year: int
    reduction: float
    baseline_value: float | None
    baseline_source: str | None


class YearOut(BaseModel):
    fiscal_year: str
    actual: float | None
    pathway: float
    on_track: bool | None


class ProgressOut(BaseModel):
    target: TargetOut
    baseline_kind: str = Field(description="measured, built (from a later year's data) or imported")
    baseline_basis: str = Field(description="where the baseline value comes from, in a sentence")
    baseline_value: float
    target_value: float
    years: list[YearOut]


# Not Text: Text's control-character pattern would replace this one in the document (the fuzz test
# found "" documented as a lane); the printable check Text makes, and this pattern, which admits no
# control character anyway.
TradeLane = Annotated[
    str,
    Field(max_length=5, pattern=r"^[A-Za-z]{2}-[A-Za-z]{2}$", description="origin-destination"),
    AfterValidator(printable),  # after the constraints, so that the document keeps their pattern
]
# The same for a hub kind or site code
HubCode = Annotated[
    str,
    Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="a kind or a site"
    ),
    AfterValidator(printable),
]


class RenewableHubIn(Request):
    hub: HubCode
    share: float = Field(ge=0, le=1, description="1.0: all of the site's electricity renewable")


class ScenarioIn(Request):
    period: Text = Field(max_length=32, examples=["FY2026"], json_schema_extra=PERIOD_PATTERN)
    shift_air_share: float = Field(default=0.0, ge=0, le=1)
    shift_air_to: Literal["sea", "rail"] = "sea"
    lanes: list[TradeLane] = Field(default_factory=list, max_length=200, examples=[["CN-SG", "CN-MY"]])
    electric_van_share: float = Field(default=0.0, ge=0, le=1)
    load_factor_gain: float = Field(default=0.0, ge=0, le=3)
    activity_growth: float = Field(default=0.0, ge=-0.5, le=1)
    renewable_hubs: list[RenewableHubIn] = Field(
        default_factory=list,
        max_length=50,
        examples=[[{"hub": "sortation_hub", "share": 1.0}, {"hub": "hub-sg", "share": 0.5}]],
        description="renewable electricity at hubs: a share of a site's emissions taken off, by hub kind "
        "or by a named site (a named site wins over its kind)",
    )
    target: PublicId | None = Field(default=None, description="a target id to project against")
    version: int | None = Field(default=None, ge=1, le=MAX_INT32)


class ScenarioOut(BaseModel):
    period: str
    version: int
    baseline: FiguresOut
    scenario_wtw_kg: float
    scenario_tkm: float
    change_pct: float | None
    shifted_tkm: float
    electrified_tkm: float
    not_shiftable_legs: int
    baseline_hubs_wtw_kg: float = Field(description="the hub operations' part of the baseline")
    scenario_hubs_wtw_kg: float = Field(description="the hub operations' part after the hub levers")
    target: TargetOut | None
    projection: dict[str, float | None]
    assumptions: list[str]
