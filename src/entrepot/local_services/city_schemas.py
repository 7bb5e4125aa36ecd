"""API shapes of the city: its map, travel-time matrices and routes between points, and places found by
address or position. Every answer that carries map data carries its attribution (ODbL)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from entrepot.local_services.city_terms import ATTRIBUTION, MAX_POINTS
from entrepot.local_services.roads import Mode
from entrepot.platform.schemas import Request

Latitude = Field(ge=-90, le=90, allow_inf_nan=False)
Longitude = Field(ge=-180, le=180, allow_inf_nan=False)


class PointIn(Request):
    lat: float = Latitude
    lon: float = Longitude


class MatrixIn(Request):
    mode: Mode = Field(description="ebike, scooter, car (one-way streets bind them) or walking")
    sources: list[PointIn] = Field(min_length=1, max_length=MAX_POINTS)
    targets: list[PointIn] | None = Field(
        default=None, min_length=1, max_length=MAX_POINTS, description="the sources when left out"
    )


class MatrixOut(BaseModel):
    mode: Mode
    seconds: list[list[float]] = Field(description="row: a source; column: a target; to a tenth of a second")
    attribution: str = ATTRIBUTION


class RouteIn(Request):
    mode: Mode
    origin: PointIn
    destination: PointIn


class RouteOut(BaseModel):
    mode: Mode
    seconds: float
    metres: float
    path: list[tuple[float, float]] = Field(description="(lat, lon) of each road node along the way")
    attribution: str = ATTRIBUTION


class CityOut(BaseModel):
    key: str
    name: str
    source_package: str = Field(description="the registry package that ships the OpenStreetMap extract")
    nodes: int
    edges: dict[Mode, int] = Field(description="directed road edges of each mode's network")
    bbox: tuple[float, float, float, float] = Field(description="south, west, north, east")
    addresses: int
    attribution: str
    licence: str
    licence_url: str


class PlaceOut(BaseModel):
    kind: str = Field(description="address (a door) or street")
    label: str
    street: str
    housenumber: str
    postcode: str
    city: str
    lat: float
    lon: float
    distance_m: float = Field(description="from the asked position (reverse geocoding); 0 otherwise")
    attribution: str = ATTRIBUTION
