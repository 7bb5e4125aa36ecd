"""Where a store, a door or a courier is: an address found on the city's map, or a point checked to lie
on it. Never a guess: an address not on the map or a point more than the snapping distance from the
e-bike roads (the mode most couriers ride) is a 422 naming the field, and nothing is written."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from entrepot.kernel.errors import FieldError, NotFound, ValidationFailed
from entrepot.local_services.roads import Mode

if TYPE_CHECKING:  # the map's code loads scipy: imported when a place is first located
    from entrepot.local_services.city import City

CHECK_MODE = Mode.EBIKE


@dataclass(frozen=True)
class Located:
    label: str
    lat: float
    lon: float


def city() -> City:
    from entrepot.local_services.city import current_city

    return current_city()


def locate(address: str | None, point: tuple[float, float] | None, field: str) -> Located:
    """The place an address names or a point is at (labelled with the nearest address, if any)."""
    if (address is None) == (point is None):
        raise ValidationFailed(
            f"give {field} either an address or a point (lat, lon)",
            [FieldError(field, "an address or a point, not both nor neither")],
        )
    the_city = city()
    if address is not None:
        try:
            place = the_city.geocode(address)
        except NotFound:
            raise ValidationFailed(
                f"no address {address!r} on the map of {the_city.source.name}",
                [FieldError(f"{field}.address", "not on the map")],
            ) from None
        on_map(place.lat, place.lon, f"{field}.address")
        return Located(place.label, place.lat, place.lon)
    assert point is not None
    on_map(point[0], point[1], f"{field}.point")
    return Located(_label(the_city, point), point[0], point[1])


def on_map(lat: float, lon: float, field: str) -> None:
    """A 422 for a point too far from the roads couriers ride (City.snap names it)."""
    the_city = city()
    try:
        the_city.snap([(lat, lon)], CHECK_MODE, field)
    except ValidationFailed as refused:
        raise ValidationFailed(
            f"{field} ({lat:.5f}, {lon:.5f}) is off the map of {the_city.source.name}",
            [FieldError(field, "off the map")],
        ) from refused


def _label(the_city: City, point: tuple[float, float]) -> str:
    try:
        return the_city.reverse(point).label
    except (NotFound, ValidationFailed):
        return f"{point[0]:.5f}, {point[1]:.5f}"


def route_metres(points: list[tuple[float, float]], mode: Mode) -> int:
    """Metres by the mode's roads through the points in order (a trip's stops): what emissions will
    account. A leg the mode cannot ride (a point off its roads) counts as the straight line."""
    the_city, total = city(), 0.0
    for a, b in itertools.pairwise(points):
        try:
            total += the_city.route(a, b, mode).metres
        except ValidationFailed:
            total += _straight_metres(a, b)
    return round(total)


def _straight_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dy = (b[0] - a[0]) * 111_320.0
    dx = (b[1] - a[1]) * 111_320.0 * math.cos(mean_lat)
    return math.hypot(dx, dy)
