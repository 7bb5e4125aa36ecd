"""Estimates from the tables accounting uses: the hook checkout's quotes and the route planner call so an
estimate and the stored account of the same route agree, and every estimate names the calculation
version (and so the factor tables) it came from.

Why a hook: logistics and ordering sit below emissions in the layers (they may not import it), so the
composition root hands `CURRENT` (a `logistics.intensity.IntensitySource`) to logistics, whose network
cache weighs every lane with `Intensities.wtw_g_per_tkm` (the leg's countries included, for scoped
regional tables) in place of the built-in default, and re-weighs when the version changes; the route
planner, checkout's quotes and the shipments planned from them then state `Intensities.label`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.emissions.categories import category_of_lane
from entrepot.emissions.domain import G_PER_TONNE, HubOperation, Leg, chain_emissions
from entrepot.emissions.factors import HUB, FactorSet
from entrepot.emissions.versions import current_version, factor_set_of, packaged_factors, resolve_version


@dataclass(frozen=True)
class Intensities:
    """The factor tables of one calculation version, read as an estimate needs them."""

    version: int  # 0: nothing recorded yet, the package's default tables (version 1 when installed)
    factors: FactorSet

    @property
    def tables(self) -> list[str]:
        return self.factors.labels

    @property
    def label(self) -> str:
        """The version as an estimate states it (`GET /emissions/factor-tables` lists its tables)."""
        # nothing recorded yet: the first recording opens v1 with exactly these tables
        return f"v{self.version}" if self.version else "v1 (the package's default tables, not opened yet)"

    def wtw_g_per_tkm(
        self, mode: str, vehicle: str, distance_km: float, countries: tuple[str, ...] = ()
    ) -> float | None:
        """WTW g CO2e per tonne-km of a logistics lane (mode and vehicle as lanes name them); None when no
        table of this version covers it (the account would flag it `missing_factor`)."""
        category_mode, category_vehicle, energy = category_of_lane(mode, vehicle)
        found = self.factors.resolve(category_mode, category_vehicle, energy, distance_km, "", countries)
        return None if found is None else found.wtw

    def hub_wtw_kg_per_t(self, kind: str, country: str = "") -> float | None:
        """WTW kg CO2e per tonne handled at a site of `kind` (a network node kind); None: no factor."""
        found = self.factors.resolve(HUB, kind, None, countries=(country,) if country else ())
        return None if found is None else found.wtw


def current(session: Session, now: dt.datetime) -> Intensities:
    """The version new shipments are accounted under, and its tables (read once per process)."""
    number = current_version(session, now)
    return Intensities(number, factor_set_of(session, number))


class CurrentIntensities:
    """The `logistics.intensity.IntensitySource` of the version in force, for quotes and planning: read
    only (no lock and no install, unlike `current`, which a recording runs in its own transaction), two
    small queries, the version's tables read once per process."""

    def current(self, session: Session) -> Intensities:
        number = resolve_version(session, None)
        if number == 0:  # nothing recorded yet: the first recording installs exactly these tables
            return Intensities(0, packaged_factors())
        return Intensities(number, factor_set_of(session, number))


CURRENT = CurrentIntensities()


@dataclass(frozen=True)
class RouteLeg:
    mode: str  # as logistics lanes name them (road, air, last_mile ...)
    vehicle: str
    distance_km: float
    origin_country: str = ""
    destination_country: str = ""


@dataclass(frozen=True)
class RouteEstimate:
    version: int
    tables: list[str]
    legs_wtw_g: float
    hubs_wtw_g: float
    missing_factors: int

    @property
    def wtw_g(self) -> float:
        return self.legs_wtw_g + self.hubs_wtw_g


def estimate_route(
    intensities: Intensities,
    mass_g: int,
    legs: Sequence[RouteLeg],
    hubs: Sequence[tuple[str, str]] = (),
) -> RouteEstimate:
    """A planned route's emissions as accounting will compute them: its legs and its hubs (kind,
    country), by the same library and the same version's tables."""
    if mass_g <= 0 or mass_g > 100 * G_PER_TONNE:
        raise ValueError("a parcel's mass must be above 0 g and at most 100 t")
    elements: list[Leg | HubOperation] = []
    for leg in legs:
        mode, vehicle, energy = category_of_lane(leg.mode, leg.vehicle)
        where = (leg.origin_country, leg.destination_country)
        elements.append(
            Leg(mode, vehicle, energy, mass_g, leg.distance_km, countries=where if all(where) else ())
        )
    elements += [HubOperation(kind, mass_g, countries=(c,) if c else ()) for kind, c in hubs]
    chain = chain_emissions(elements, intensities.factors)
    missing = sum(r.missing_factor for r in chain.results)
    return RouteEstimate(
        intensities.version,
        intensities.tables,
        chain.legs_wtw_mg / 1000,
        chain.hubs_wtw_mg / 1000,
        missing,
    )
