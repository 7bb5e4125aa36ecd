"""The ISO 14083 / GLEC calculation: a shipment's transport chain of elements (legs and hub operations),
distances by the mode's rule, well-to-wheel = well-to-tank + tank-to-wheel with both parts kept, and the
allocation of a vehicle trip's emissions to the shipments on it by tonne-km. Pure: no I/O.

Rounding rule: every result is an integer number of milligrams CO2e. TTW and WTT are each rounded (half
to even) from the exact product mass x distance x factor; WTW is their sum, so WTW = WTT + TTW holds
exactly on every element and every total. A trip's emissions are allocated with the largest-remainder
method on exact fractions, so the shipments' shares add up to the trip's total to the milligram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

# The default table's figure for a lane kind; checkout and route estimates use logistics' copy of it
# (`logistics.intensity`), which a test holds equal to this.
from entrepot.emissions.categories import category_of_courier
from entrepot.emissions.categories import default_wtw_g_per_tkm as default_wtw_g_per_tkm
from entrepot.emissions.defaults import missing_reason
from entrepot.emissions.factors import HUB, Factor, FactorSet

MG_PER_G = 1000
G_PER_TONNE = 1_000_000


@dataclass(frozen=True)
class Leg:
    """A transport operation: `mode`/`vehicle`/`energy` are the factor table's category."""

    mode: str
    vehicle: str
    energy: str
    mass_g: int
    distance_km: float
    distance_rule: str = "given"
    carrier: str = ""
    trip: str | None = None  # the vehicle trip (e.g. a departure) it shares with other shipments
    countries: tuple[str, ...] = ()  # origin's and destination's: which scoped tables may answer

    @property
    def tkm(self) -> float:
        return self.mass_g / G_PER_TONNE * self.distance_km


@dataclass(frozen=True)
class HubOperation:
    hub_kind: str  # sortation_hub, airport, seaport ...
    mass_g: int
    node: str = ""
    countries: tuple[str, ...] = ()  # the site's country


Element = Leg | HubOperation


@dataclass(frozen=True)
class Result:
    """One element's emissions and its audit trail. `factor` is None when no table had one: then the
    figures are zero and `missing_factor` says so (never silently)."""

    element: Element
    tkm: float
    ttw_mg: int
    wtt_mg: int
    factor: Factor | None
    category: str

    @property
    def wtw_mg(self) -> int:
        return self.ttw_mg + self.wtt_mg

    @property
    def missing_factor(self) -> bool:
        return self.factor is None

    @property
    def distance_rule(self) -> str:
        return self.element.distance_rule if isinstance(self.element, Leg) else "hub operation: no distance"

    def audit(self) -> dict[str, object]:
        f = self.factor
        trail: dict[str, object] = {"category": self.category, "distance_rule": self.distance_rule}
        if f is None:
            return {
                **trail,
                "factor": None,
                "missing_factor": True,
                "missing_reason": missing_reason(self.category),
            }
        factor = {"table": f.table, "row": f.row, "ttw": f.ttw, "wtt": f.wtt, "wtw": f.wtw, "unit": f.unit}
        return {**trail, "factor": {**factor, "source": f.source, "note": f.note}, "missing_factor": False}


def leg_emissions(leg: Leg, factor: Factor) -> Result:
    """mass (t) x distance (km) x factor (g/tkm), TTW and WTT each to the milligram."""
    tkm = leg.tkm
    ttw = round(tkm * factor.ttw * MG_PER_G)
    wtt = round(tkm * factor.wtt * MG_PER_G)
    return Result(leg, tkm, ttw, wtt, factor, factor.category)


def hub_emissions(hub: HubOperation, factor: Factor) -> Result:
    """tonnes handled x factor (kg/t). This is the hub's emissions allocated to the shipment by mass, as
    ISO 14083 allows for hub operations: a site's emissions over the tonnes it handled is the intensity, so
    each shipment carries its own tonnes' share (every default hub factor is per tonne, none per parcel)."""
    tonnes = hub.mass_g / G_PER_TONNE
    scale = G_PER_TONNE  # kg/t x t -> kg; x 1e6 -> mg
    ttw = round(tonnes * factor.ttw * scale)
    wtt = round(tonnes * factor.wtt * scale)
    return Result(hub, 0.0, ttw, wtt, factor, factor.category)


def element_emissions(element: Element, factors: FactorSet) -> Result:
    if isinstance(element, Leg):
        leg = element
        factor = factors.resolve(
            leg.mode, leg.vehicle, leg.energy, leg.distance_km, leg.carrier, leg.countries
        )
        if factor is None:
            return Result(leg, leg.tkm, 0, 0, None, f"{leg.mode}/{leg.vehicle}/{leg.energy}")
        return leg_emissions(leg, factor)
    found = factors.resolve(HUB, element.hub_kind, None, countries=element.countries)
    if found is None:
        return Result(element, 0.0, 0, 0, None, f"{HUB}/{element.hub_kind}")
    return hub_emissions(element, found)


@dataclass(frozen=True)
class ChainResult:
    """A chain's totals are the sum of its elements (legs and hub operations alike); `legs_wtw_mg` and
    `hubs_wtw_mg` split the WTW so a report can show the hubs' share."""

    results: tuple[Result, ...]

    @property
    def hubs_wtw_mg(self) -> int:
        return sum(r.wtw_mg for r in self.results if isinstance(r.element, HubOperation))

    @property
    def legs_wtw_mg(self) -> int:
        return sum(r.wtw_mg for r in self.results if isinstance(r.element, Leg))

    @property
    def ttw_mg(self) -> int:
        return sum(r.ttw_mg for r in self.results)

    @property
    def wtt_mg(self) -> int:
        return sum(r.wtt_mg for r in self.results)

    @property
    def wtw_mg(self) -> int:
        return self.ttw_mg + self.wtt_mg

    @property
    def tkm(self) -> float:
        return sum(r.tkm for r in self.results)


def chain_emissions(elements: Sequence[Element], factors: FactorSet) -> ChainResult:
    """A shipment's transport chain: every leg and hub operation, in order."""
    return ChainResult(tuple(element_emissions(e, factors) for e in elements))


def allocate(total_mg: int, weights: Sequence[float]) -> list[int]:
    """Split `total_mg` in proportion to `weights` (tonne-km) into integers that add up to it exactly:
    each share's whole part, then the milligrams left over to the largest remainders (ties to the
    earlier shipment). Exact fractions, so no float error can lose or invent a milligram."""
    if total_mg < 0 or any(w < 0 for w in weights):
        raise ValueError("allocation needs a non-negative total and weights")
    exact = [Fraction(w) for w in weights]
    whole = sum(exact, Fraction(0))
    if whole == 0:
        if total_mg:
            raise ValueError("a trip with emissions needs some tonne-km to allocate them to")
        return [0] * len(weights)
    quotas = [total_mg * w / whole for w in exact]
    shares = [int(q) for q in quotas]  # floor: quotas are non-negative
    left = total_mg - sum(shares)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class TripShare:
    ttw_mg: int
    wtt_mg: int

    @property
    def wtw_mg(self) -> int:
        return self.ttw_mg + self.wtt_mg


def allocate_trip(ttw_mg: int, wtt_mg: int, tkms: Sequence[float]) -> list[TripShare]:
    """A vehicle trip's TTW and WTT, each allocated to its shipments by tonne-km (so WTW adds up too)."""
    return [TripShare(t, w) for t, w in zip(allocate(ttw_mg, tkms), allocate(wtt_mg, tkms), strict=True)]


def trip_total(legs: Sequence[Leg], factor: Factor) -> tuple[int, int]:
    """A consolidated trip's TTW and WTT from its shipments' tonne-km, each rounded once for the trip."""
    tkm = sum(Fraction(leg.tkm) for leg in legs)
    return round(tkm * Fraction(factor.ttw) * MG_PER_G), round(tkm * Fraction(factor.wtt) * MG_PER_G)


# --- local couriers' trips ------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalTripResult:
    """A courier's trip under one factor set: its TTW and WTT (mg), and each delivered order's share.
    `factor` is None when no table covers the courier's mode: then every figure is zero and says so."""

    category: str
    factor: Factor | None
    ttw_mg: int
    wtt_mg: int
    shares: tuple[TripShare, ...]

    @property
    def wtw_mg(self) -> int:
        return self.ttw_mg + self.wtt_mg


def per_km_mg(distance_m: int, g_per_km: float) -> int:
    """metres x g/km is milligrams: the exact product of the metres and the factor as written (its
    shortest decimal, so 162.72 is 16272/100, not the float nearest it), rounded half to even."""
    return round(distance_m * Fraction(repr(g_per_km)))


def local_trip_emissions(
    mode: str, distance_m: int, deliveries: int, countries: tuple[str, ...], factors: FactorSet
) -> LocalTripResult:
    """A trip's emissions are its vehicle-km x the courier mode's factor (g CO2e per vehicle-km), shared
    equally by the orders it delivered (the largest-remainder split, so the shares add up to the trip's
    figure to the milligram). Equal shares, not by tonne-km: an on-demand order's mass is not recorded,
    and each order is one stop of the trip."""
    if distance_m < 0 or deliveries < 1:
        raise ValueError("a trip needs a distance >= 0 and at least one delivered order")
    local, vehicle, energy = category_of_courier(mode)
    factor = factors.resolve(local, vehicle, energy, distance_m / 1000, countries=countries)
    if factor is None:
        zero = tuple(TripShare(0, 0) for _ in range(deliveries))
        return LocalTripResult(f"{local}/{vehicle}/{energy}", None, 0, 0, zero)
    ttw, wtt = per_km_mg(distance_m, factor.ttw), per_km_mg(distance_m, factor.wtt)
    shares = tuple(allocate_trip(ttw, wtt, [1.0] * deliveries))
    return LocalTripResult(factor.category, factor, ttw, wtt, shares)
