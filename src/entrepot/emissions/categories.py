"""Transport operation categories of logistics lanes (logistics names them: `logistics.intensity`), and
the factor the default table gives each. Pure but for reading the package's default table once."""

from __future__ import annotations

from functools import lru_cache

from entrepot.emissions.defaults import default_table
from entrepot.emissions.factors import LOCAL, FactorSet
from entrepot.logistics.intensity import CATEGORY_OF_LANE, CATEGORY_OF_MODE, category_of_lane

__all__ = [
    "CATEGORY_OF_COURIER",
    "CATEGORY_OF_LANE",
    "CATEGORY_OF_MODE",
    "category_of_courier",
    "category_of_lane",
    "default_wtw_g_per_tkm",
]

# A local courier's mode (local services' `Mode` values, as `local.trip_done` names them) -> the factor
# table's (vehicle, energy) under mode `local`. A table loaded later answers for the same category and
# so overrides the default's row, as for any leg (a regional table scoped to a market's country: its grid).
CATEGORY_OF_COURIER = {
    "ebike": ("ebike", "electricity"),
    "scooter": ("scooter", "petrol"),
    "car": ("car", "petrol"),
    "walking": ("walking", "none"),
}


def category_of_courier(mode: str) -> tuple[str, str, str]:
    """A mode no table knows keeps its name, so its trips show as `missing_factor`, never as zero."""
    vehicle, energy = CATEGORY_OF_COURIER.get(mode, (mode, "unknown"))
    return LOCAL, vehicle, energy


@lru_cache(maxsize=65536)
def default_wtw_g_per_tkm(mode: str, vehicle: str, distance_km: float) -> float:
    """The default table's well-to-wheel g CO2e per tonne-km for a logistics lane's (mode, vehicle), at
    the lane's distance (which picks short- or long-haul air). Logistics plans with the same figures
    (`logistics.intensity.default_wtw_g_per_tkm`, held equal to these by a test)."""
    category_mode, category_vehicle, energy = category_of_lane(mode, vehicle)
    factor = FactorSet((default_table(),)).resolve(category_mode, category_vehicle, energy, distance_km)
    if factor is None:
        raise ValueError(f"the default table has no factor for {mode}/{vehicle} at {distance_km:g} km")
    return factor.wtw
