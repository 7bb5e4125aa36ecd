"""Reduction targets and what-if scenarios. Pure.

A target is absolute (t CO2e a year) or an intensity (g CO2e per tonne-km, or per parcel) against a
baseline fiscal year; the pathway is the straight line from the baseline value to the target value, and a
year is on track when its actual value is at or below the pathway's value for that year.

What a target counts: an absolute target counts every transport emission the group accounts, local
couriers' trips (e-bike, scooter and car kilometres of on-demand delivery) with the parcel network's legs
and hubs: the -50 % is of what the group's deliveries emit, and a kilometre ridden by a courier is one of
them. An intensity target counts the parcel network alone (its g per tonne-km or per parcel): trips
record no tonne-km and carry no parcels, so their grams have no place in those ratios.

A scenario recomputes a period's legs with levers pulled, and projects the target year:
- shift a share of air tonne-km to sea or rail on chosen trade lanes ("CN-SG"; none chosen = all): the
  shifted part is carried over the other mode's rule distance between the same two points, at the
  table's factor for that mode;
- an electric share of last-mile diesel vans, at the table's battery-electric van factor;
- higher load factors on road (trucks and vans): the same vehicle-km carry more tonnes, so the
  intensity per tonne-km falls as 1 / (1 + gain). A first-order model: it ignores that a heavier vehicle
  burns a little more fuel, so it slightly flatters the lever;
- renewable electricity at hubs, by hub kind (sortation_hub) or by a named site (hub-sg; a named site
  wins over its kind): the share given is taken off the site's hub emissions. A first-order model: it
  treats a site's default intensity as electricity, which is most of a logistics site's footprint but
  not all of it (heating, forklifts' fuel), so it flatters the lever by that remainder.
Intensities carry to the target year unchanged; absolute values are annualised from the period's days
and grown by `activity_growth` a year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from entrepot.emissions.categories import CATEGORY_OF_LANE, CATEGORY_OF_MODE
from entrepot.emissions.domain import G_PER_TONNE
from entrepot.emissions.factors import FactorSet

METRICS = ("absolute_t", "g_per_tkm", "g_per_parcel")
SHIFT_MODES = ("sea", "rail")
DEFAULT_BASELINE_YEAR, DEFAULT_TARGET_YEAR, DEFAULT_REDUCTION = 2022, 2030, 0.5


@dataclass(frozen=True)
class Totals:
    """A period's figures. `wtw_mg` (and TTW, WTT) is everything: the parcel network's legs and hubs and
    local couriers' trips; `local_wtw_mg` is the trips' part. The intensities are the parcel network's
    alone: a courier's trip records vehicle-km, no tonne-km and no parcel, so its grams would weigh on a
    denominator they add nothing to."""

    wtw_mg: int
    ttw_mg: int
    wtt_mg: int
    tkm: float
    parcels: int
    local_wtw_mg: int = 0

    @property
    def network_wtw_mg(self) -> int:
        return self.wtw_mg - self.local_wtw_mg

    def metric(self, metric: str, days: int = 365) -> float | None:
        """The value of a metric; None when it has no meaning (no tonne-km, no parcels)."""
        if metric == "absolute_t":
            return self.wtw_mg / 1e9 * 365 / days
        if metric == "g_per_tkm":
            return self.network_wtw_mg / 1000 / self.tkm if self.tkm else None
        if metric == "g_per_parcel":
            return self.network_wtw_mg / 1000 / self.parcels if self.parcels else None
        raise ValueError(f"metric {metric!r} is not one of {', '.join(METRICS)}")


@dataclass(frozen=True)
class Target:
    metric: str
    baseline_year: int
    baseline_value: float
    target_year: int = DEFAULT_TARGET_YEAR
    reduction: float = DEFAULT_REDUCTION
    # where the baseline came from: measured | built | imported, and the sentence that says so
    baseline_kind: str = "imported"
    baseline_basis: str = ""

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}")
        if self.target_year <= self.baseline_year:
            raise ValueError("the target year must come after the baseline year")
        if not 0 < self.reduction <= 1:
            raise ValueError("the reduction must be above 0 and at most 1 (0.5 = -50 %)")

    @property
    def target_value(self) -> float:
        return self.baseline_value * (1 - self.reduction)

    def pathway(self, year: int) -> float:
        """The straight line from baseline to target; flat before the baseline and after the target."""
        span = self.target_year - self.baseline_year
        progress = min(max(year - self.baseline_year, 0), span) / span
        return self.baseline_value + (self.target_value - self.baseline_value) * progress

    def on_track(self, actual: float, year: int) -> bool:
        return actual <= self.pathway(year) * (1 + 1e-12)


@dataclass(frozen=True)
class ScenarioLeg:
    """A leg as the scenario needs it: the lane's logistics mode/vehicle, the trade lane, mass, distance,
    the distances the other modes' rules would give between the same points, and its emissions as
    accounted (so an untouched leg keeps its figure exactly)."""

    lane_mode: str  # logistics mode: road, rail, air, sea, last_mile; "hub" for a hub operation
    lane_vehicle: str  # for a hub: its kind
    trade_lane: str  # origin country - destination country of the shipment, e.g. "CN-SG"
    mass_g: int
    distance_km: float
    wtw_mg: int
    alternative_km: dict[str, float] = field(default_factory=dict)  # mode -> rule distance
    node: str = ""  # a hub operation's site

    @property
    def tkm(self) -> float:
        return self.mass_g / G_PER_TONNE * self.distance_km


@dataclass(frozen=True)
class Levers:
    shift_air_share: float = 0.0
    shift_air_to: str = "sea"
    lanes: frozenset[str] = frozenset()
    electric_van_share: float = 0.0
    load_factor_gain: float = 0.0
    activity_growth: float = 0.0
    renewable_hubs: tuple[tuple[str, float], ...] = ()  # (hub kind or site code, share) pairs

    def __post_init__(self) -> None:
        if any(not 0 <= share <= 1 for _, share in self.renewable_hubs):
            raise ValueError("a hub's renewable share must be between 0 and 1")
        for name in ("shift_air_share", "electric_van_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.shift_air_to not in SHIFT_MODES:
            raise ValueError(f"shift_air_to must be one of {', '.join(SHIFT_MODES)}")
        if not 0 <= self.load_factor_gain <= 3:
            raise ValueError("load_factor_gain must be between 0 and 3 (0.1 = loads 10 % fuller)")
        if not -0.5 <= self.activity_growth <= 1:
            raise ValueError("activity_growth must be between -0.5 and 1 a year")


@dataclass(frozen=True)
class ScenarioOutcome:
    baseline_wtw_g: float
    scenario_wtw_g: float
    baseline_tkm: float
    scenario_tkm: float
    shifted_tkm: float  # air tonne-km moved to the other mode
    electrified_tkm: float
    not_shiftable: int  # air legs on chosen lanes without a rule distance for the other mode
    baseline_hubs_g: float = 0.0
    scenario_hubs_g: float = 0.0


def run_scenario(legs: Iterable[ScenarioLeg], levers: Levers, factors: FactorSet) -> ScenarioOutcome:
    base_g = scen_g = base_tkm = scen_tkm = shifted = electrified = base_hubs = scen_hubs = 0.0
    not_shiftable = 0
    renewable = dict(levers.renewable_hubs)
    for leg in legs:
        grams = leg.wtw_mg / 1000
        base_g += grams
        if leg.lane_mode == "hub":
            share = renewable.get(leg.node, renewable.get(leg.lane_vehicle, 0.0))
            base_hubs += grams
            scen_hubs += grams * (1 - share)
            scen_g += grams * (1 - share)
            continue
        base_tkm += leg.tkm
        tkm, out = leg.tkm, grams
        if leg.lane_mode == "air" and levers.shift_air_share and _chosen(leg, levers):
            other_km = leg.alternative_km.get(levers.shift_air_to)
            if other_km is None:
                not_shiftable += 1
            else:
                moved_tkm = leg.mass_g / G_PER_TONNE * other_km * levers.shift_air_share
                out = grams * (1 - levers.shift_air_share) + moved_tkm * _wtw(factors, levers.shift_air_to)
                tkm = leg.tkm * (1 - levers.shift_air_share) + moved_tkm
                shifted += leg.tkm * levers.shift_air_share
        if leg.lane_mode == "last_mile" and leg.lane_vehicle == "van_diesel" and levers.electric_van_share:
            electric = _wtw_of(factors, CATEGORY_OF_LANE[("last_mile", "van_electric")], leg.distance_km)
            out = grams * (1 - levers.electric_van_share) + leg.tkm * levers.electric_van_share * electric
            electrified += leg.tkm * levers.electric_van_share
        if leg.lane_mode in ("road", "last_mile"):
            out /= 1 + levers.load_factor_gain
        scen_g += out
        scen_tkm += tkm
    return ScenarioOutcome(
        base_g, scen_g, base_tkm, scen_tkm, shifted, electrified, not_shiftable, base_hubs, scen_hubs
    )


def _chosen(leg: ScenarioLeg, levers: Levers) -> bool:
    return not levers.lanes or leg.trade_lane in levers.lanes


def _wtw(factors: FactorSet, mode: str) -> float:
    return _wtw_of(factors, CATEGORY_OF_MODE[mode], 0.0)


def _wtw_of(factors: FactorSet, category: tuple[str, str, str], distance_km: float) -> float:
    found = factors.resolve(*category, distance_km)
    if found is None:
        raise ValueError(f"the factor tables have no factor for {'/'.join(category)}")
    return found.wtw


def project(value_in_period: float, metric: str, period_year: int, target_year: int, growth: float) -> float:
    """A period's value carried to the target year: intensities as they are, absolute grown by `growth`."""
    if metric != "absolute_t":
        return value_in_period
    return value_in_period * (1 + growth) ** max(target_year - period_year, 0)
