"""Transport operation categories of logistics lanes, and the default table's factor for each. Kept apart
from `domain` (which imports the logistics distance rules) so that logistics can import this module
without an import cycle. Pure but for reading the package's default table once."""

from __future__ import annotations

from functools import lru_cache

from entrepot.emissions.defaults import default_table
from entrepot.emissions.factors import FactorSet

# Logistics lanes name (mode, vehicle); the factor tables name (mode, vehicle, energy). Air lanes ask for
# the `freighter` family, so the table's distance bands decide short or long haul (the table states the
# rule). Last-mile vans are road vans.
CATEGORY_OF_LANE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("road", "truck"): ("road", "hgv_all", "diesel"),
    ("rail", "freight_train"): ("rail", "freight_train", "mixed"),
    ("air", "short_haul"): ("air", "freighter", "kerosene"),
    ("air", "long_haul"): ("air", "freighter", "kerosene"),
    ("sea", "container_ship"): ("sea", "container_ship_average", "hfo_vlsfo"),
    ("last_mile", "van_diesel"): ("road", "van_up_to_3.5t", "diesel"),
    ("last_mile", "van_electric"): ("road", "van_up_to_3.5t", "battery_electric"),
}
CATEGORY_OF_MODE: dict[str, tuple[str, str, str]] = {
    "road": ("road", "hgv_all", "diesel"),
    "rail": ("rail", "freight_train", "mixed"),
    "air": ("air", "freighter", "kerosene"),
    "sea": ("sea", "container_ship_average", "hfo_vlsfo"),
    "last_mile": ("road", "van_up_to_3.5t", "diesel"),
}


def category_of_lane(mode: str, vehicle: str) -> tuple[str, str, str]:
    """The transport operation category of a logistics lane; an unknown vehicle takes its mode's default."""
    found = CATEGORY_OF_LANE.get((mode, vehicle)) or CATEGORY_OF_MODE.get(mode)
    if found is None:
        raise ValueError(f"no transport operation category for mode {mode!r}")
    return found


@lru_cache(maxsize=65536)
def default_wtw_g_per_tkm(mode: str, vehicle: str, distance_km: float) -> float:
    """The default table's well-to-wheel g CO2e per tonne-km for a logistics lane's (mode, vehicle), at
    the lane's distance (which picks short- or long-haul air). For checkout and route estimates; cached,
    as planners ask it for the same lanes over and over."""
    category_mode, category_vehicle, energy = category_of_lane(mode, vehicle)
    factor = FactorSet((default_table(),)).resolve(category_mode, category_vehicle, energy, distance_km)
    if factor is None:
        raise ValueError(f"the default table has no factor for {mode}/{vehicle} at {distance_km:g} km")
    return factor.wtw
