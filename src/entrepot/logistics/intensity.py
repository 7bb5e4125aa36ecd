"""The transport operation category of each kind of logistics lane (ISO 14083's word for what a factor
table is keyed by), the default well-to-wheel intensity of each category, and the port through which
route planning and checkout take the intensities of the factor version in force instead.

Logistics owns these because its lanes name them and its planner weighs routes by them; emissions (which
accounts each leg with its factor tables, carriers' primary data first) reads the categories from here.
The intensities are the default factor table's (UK DESNZ 2025, emissions/data/desnz_2025.csv) well-to-wheel
values, with its distance bands: a test in tests/unit/test_emissions_domain.py holds the two equal, so an
estimate never drifts from what emissions would account with the default table.

Why a port: emissions sits above logistics in the layers, so logistics cannot ask it for the factor
version in force. It defines `IntensitySource` instead; the composition root (entrepot.bootstrap) passes
emissions' source, so the planner, checkout's quotes and accounting read the same version, and every
estimate names it. Without one (a test, a tool that builds no context), the built-in default applies.

Air lanes name their aircraft (issue 26): `belly_hold` (the hold of a passenger flight) or `freighter`
(a cargo aircraft), distinct categories a factor table may price apart (GLEC does; DESNZ 2025, the
default, gives one figure per haul band for both). Lanes stored before this distinction name their haul
instead (`short_haul`, `long_haul`): they are read, explicitly, as freighter lanes, as they always were.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Category = tuple[str, str, str]  # (mode, vehicle, energy) as factor tables name them

# Logistics lanes name (mode, vehicle); the factor tables name (mode, vehicle, energy). Air lanes ask for
# the `freighter` or `belly_hold` family, so the table's distance bands decide short or long haul (the
# table states the rule). Last-mile vans are road vans.
FREIGHTER: Category = ("air", "freighter", "kerosene")
BELLY_HOLD: Category = ("air", "belly_hold", "kerosene")
CATEGORY_OF_LANE: dict[tuple[str, str], Category] = {
    ("road", "truck"): ("road", "hgv_all", "diesel"),
    ("rail", "freight_train"): ("rail", "freight_train", "mixed"),
    ("air", "freighter"): FREIGHTER,
    ("air", "belly_hold"): BELLY_HOLD,
    # lanes stored before belly hold and freighter were told apart: freighter, the default they had
    ("air", "short_haul"): FREIGHTER,
    ("air", "long_haul"): FREIGHTER,
    ("sea", "container_ship"): ("sea", "container_ship_average", "hfo_vlsfo"),
    ("last_mile", "van_diesel"): ("road", "van_up_to_3.5t", "diesel"),
    ("last_mile", "van_electric"): ("road", "van_up_to_3.5t", "battery_electric"),
}
CATEGORY_OF_MODE: dict[str, Category] = {
    "road": ("road", "hgv_all", "diesel"),
    "rail": ("rail", "freight_train", "mixed"),
    "air": FREIGHTER,
    "sea": ("sea", "container_ship_average", "hfo_vlsfo"),
    "last_mile": ("road", "van_up_to_3.5t", "diesel"),
}

# Well-to-wheel g CO2e per tonne-km of each category, by distance band: (from km inclusive, to km
# exclusive, value). DESNZ: up to 3,700 km a flight is short haul; its air figures are the same for a
# belly hold and a freighter (it does not split them).
AIR_SHORT_HAUL_BELOW_KM = 3700.0
DESNZ_AIR = ((-math.inf, AIR_SHORT_HAUL_BELOW_KM, 961.0), (AIR_SHORT_HAUL_BELOW_KM, math.inf, 666.0))
DEFAULT_WTW_G_PER_TKM: dict[Category, tuple[tuple[float, float, float], ...]] = {
    ("road", "hgv_all", "diesel"): ((-math.inf, math.inf, 125.0),),
    ("rail", "freight_train", "mixed"): ((-math.inf, math.inf, 34.7),),
    FREIGHTER: DESNZ_AIR,
    BELLY_HOLD: DESNZ_AIR,
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


BUILT_IN = "built-in (DESNZ 2025 default table)"


class LaneIntensities(Protocol):
    """The well-to-wheel intensities of one factor version, as the planner weighs lanes with them."""

    @property
    def label(self) -> str:
        """The factor version an estimate made with these figures states."""
        ...

    def wtw_g_per_tkm(
        self, mode: str, vehicle: str, distance_km: float, countries: tuple[str, ...] = ()
    ) -> float | None:
        """g CO2e per tonne-km of a lane (its countries: origin's, destination's); None: no figure."""
        ...


class IntensitySource(Protocol):
    """Where the planner and checkout get the intensities in force: read at most once per network check
    (every few seconds), so `current` must be cheap (a query or two) and must not write."""

    def current(self, session: Session) -> LaneIntensities: ...


class BuiltInIntensities:
    """The default: the built-in figures above. Lanes keep them (None: nothing to override)."""

    label = BUILT_IN

    def wtw_g_per_tkm(
        self, mode: str, vehicle: str, distance_km: float, countries: tuple[str, ...] = ()
    ) -> float | None:
        return None

    def current(self, session: Session) -> LaneIntensities:
        return self
