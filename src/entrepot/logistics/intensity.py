"""The transport operation category of each kind of logistics lane (ISO 14083's word for what a factor
table is keyed by), and the default well-to-wheel intensity of each category, for route planning and
checkout estimates.

Logistics owns these because its lanes name them and its planner weighs routes by them; emissions (which
accounts each leg with its factor tables, carriers' primary data first) reads the categories from here.
The intensities are the default factor table's (UK DESNZ 2025, emissions/data/desnz_2025.csv) well-to-wheel
values, with its distance bands: a test in tests/unit/test_emissions_domain.py holds the two equal, so an
estimate never drifts from what emissions would account with the default table.
"""

from __future__ import annotations

import math

Category = tuple[str, str, str]  # (mode, vehicle, energy) as factor tables name them

# Logistics lanes name (mode, vehicle); the factor tables name (mode, vehicle, energy). Air lanes ask for
# the `freighter` family, so the table's distance bands decide short or long haul (the table states the
# rule). Last-mile vans are road vans.
CATEGORY_OF_LANE: dict[tuple[str, str], Category] = {
    ("road", "truck"): ("road", "hgv_all", "diesel"),
    ("rail", "freight_train"): ("rail", "freight_train", "mixed"),
    ("air", "short_haul"): ("air", "freighter", "kerosene"),
    ("air", "long_haul"): ("air", "freighter", "kerosene"),
    ("sea", "container_ship"): ("sea", "container_ship_average", "hfo_vlsfo"),
    ("last_mile", "van_diesel"): ("road", "van_up_to_3.5t", "diesel"),
    ("last_mile", "van_electric"): ("road", "van_up_to_3.5t", "battery_electric"),
}
CATEGORY_OF_MODE: dict[str, Category] = {
    "road": ("road", "hgv_all", "diesel"),
    "rail": ("rail", "freight_train", "mixed"),
    "air": ("air", "freighter", "kerosene"),
    "sea": ("sea", "container_ship_average", "hfo_vlsfo"),
    "last_mile": ("road", "van_up_to_3.5t", "diesel"),
}

# Well-to-wheel g CO2e per tonne-km of each category, by distance band: (from km inclusive, to km
# exclusive, value). DESNZ: up to 3,700 km a freighter flies short haul.
AIR_SHORT_HAUL_BELOW_KM = 3700.0
DEFAULT_WTW_G_PER_TKM: dict[Category, tuple[tuple[float, float, float], ...]] = {
    ("road", "hgv_all", "diesel"): ((-math.inf, math.inf, 125.0),),
    ("rail", "freight_train", "mixed"): ((-math.inf, math.inf, 34.7),),
    ("air", "freighter", "kerosene"): (
        (-math.inf, AIR_SHORT_HAUL_BELOW_KM, 961.0),
        (AIR_SHORT_HAUL_BELOW_KM, math.inf, 666.0),
    ),
    ("sea", "container_ship_average", "hfo_vlsfo"): ((-math.inf, math.inf, 19.8),),
    ("road", "van_up_to_3.5t", "diesel"): ((-math.inf, math.inf, 782.0),),
    ("road", "van_up_to_3.5t", "battery_electric"): ((-math.inf, math.inf, 276.0),),
}


def category_of_lane(mode: str, vehicle: str) -> Category:
    """The transport operation category of a logistics lane; an unknown vehicle takes its mode's default."""
    found = CATEGORY_OF_LANE.get((mode, vehicle)) or CATEGORY_OF_MODE.get(mode)
    if found is None:
        raise ValueError(f"no transport operation category for mode {mode!r}")
    return found


def default_wtw_g_per_tkm(mode: str, vehicle: str, distance_km: float) -> float:
    """The default well-to-wheel g CO2e per tonne-km of a logistics lane's (mode, vehicle) at the lane's
    distance (which picks short- or long-haul air). For checkout and route estimates."""
    for low, high, value in DEFAULT_WTW_G_PER_TKM.get(category_of_lane(mode, vehicle), ()):
        if low <= distance_km < high:
            return value
    raise ValueError(f"the default table has no factor for {mode}/{vehicle} at {distance_km:g} km")
