"""`entrepot bench emissions`: ISO 14083 emissions of a million legs, vectorised, against the row-by-row
library in the same run.

Legs are drawn with a fixed seed over the logistics lane kinds (trucks, trains, short- and long-haul air
by distance band, container ships, diesel and electric last-mile vans), masses of 0.1-30 kg and
distances fitting each mode. Timed: resolving each leg's factor through the tables' precedence and
distance bands, TTW and WTT to the milligram, and the totals (TTW, WTT, WTW, t-km). Not timed: drawing
the legs. The vectorised run is repeated and the median taken.

The reference is the straightforward implementation: for each leg, a `Leg`, `element_emissions` (which
resolves the factor through the same `FactorSet`) and running sums, in plain Python. It runs on the first
`reference_legs` legs (all of them if asked); its speed is per leg, so the ratio compares like with like,
and its totals are compared, to the milligram, with the vectorised totals of the same legs.

Hub operations are timed the same way, one for each leg (a chain of n legs passes n + 1 handling sites),
drawn over the network's site kinds with the default tables (the hub kinds without a published default
count zero, flagged, as in accounting); `hubs_per_s` is their rate and the totals include them.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rich.console import Console

from entrepot.emissions import vector
from entrepot.emissions.categories import CATEGORY_OF_LANE
from entrepot.emissions.defaults import default_table, hub_table
from entrepot.emissions.domain import HubOperation, Leg, element_emissions
from entrepot.emissions.factors import FactorSet

# lane kind -> (share of legs, distance range km); the mix a cross-border network runs
MIX: dict[tuple[str, str], tuple[float, float, float]] = {
    ("road", "truck"): (0.30, 5.0, 1200.0),
    ("rail", "freight_train"): (0.05, 200.0, 11000.0),
    ("air", "short_haul"): (0.10, 300.0, 3700.0),
    ("air", "long_haul"): (0.10, 3700.0, 12000.0),
    ("sea", "container_ship"): (0.05, 500.0, 20000.0),
    ("last_mile", "van_diesel"): (0.25, 1.0, 60.0),
    ("last_mile", "van_electric"): (0.15, 1.0, 60.0),
}
# hub kind -> share of hub operations: every parcel leaves a warehouse and ends at a station; sorting hubs
# and gateways in between
HUB_MIX: dict[str, float] = {
    "fulfilment_warehouse": 0.25,
    "sortation_hub": 0.30,
    "airport": 0.10,
    "seaport": 0.03,
    "rail_terminal": 0.02,
    "customs_point": 0.05,
    "delivery_station": 0.25,
}
REPEATS = 3


@dataclass(frozen=True)
class Legs:
    requests: list[vector.Request]
    codes: NDArray[np.int64]
    mass_g: NDArray[np.int64]
    distance_km: NDArray[np.float64]


@dataclass(frozen=True)
class Totals:
    ttw_mg: int
    wtt_mg: int
    tkm: float

    @property
    def wtw_mg(self) -> int:
        return self.ttw_mg + self.wtt_mg


def draw_legs(count: int, seed: int) -> Legs:
    rng = np.random.default_rng(seed)
    kinds = list(MIX)
    shares = np.array([MIX[k][0] for k in kinds])
    kind = rng.choice(len(kinds), size=count, p=shares / shares.sum())
    low = np.array([MIX[k][1] for k in kinds])[kind]
    high = np.array([MIX[k][2] for k in kinds])[kind]
    distance = np.round(low + (high - low) * rng.random(count), 3)
    mass = rng.integers(100, 30_001, size=count, dtype=np.int64)
    requests: list[vector.Request] = [(*CATEGORY_OF_LANE[k], "", ()) for k in kinds]
    # two lane kinds may ask the same category (air): codes index the distinct requests
    distinct = sorted(set(requests))
    remap = np.array([distinct.index(r) for r in requests], dtype=np.int64)
    return Legs(distinct, remap[kind], mass, distance)


@dataclass(frozen=True)
class Hubs:
    kinds: list[str]
    codes: NDArray[np.int64]
    mass_g: NDArray[np.int64]


def draw_hubs(count: int, seed: int) -> Hubs:
    rng = np.random.default_rng(seed + 1)
    kinds = list(HUB_MIX)
    shares = np.array([HUB_MIX[k] for k in kinds])
    codes = rng.choice(len(kinds), size=count, p=shares / shares.sum()).astype(np.int64)
    return Hubs(kinds, codes, rng.integers(100, 30_001, size=count, dtype=np.int64))


def vectorised_hubs(factors: FactorSet, hubs: Hubs) -> Totals:
    resolved = vector.resolve_hubs(factors, hubs.kinds, hubs.codes)
    result = vector.hub_emissions(hubs.mass_g, resolved.ttw, resolved.wtt)
    return Totals(int(result.ttw_mg.sum()), int(result.wtt_mg.sum()), 0.0)


def row_by_row_hubs(factors: FactorSet, hubs: Hubs, count: int) -> Totals:
    ttw = wtt = 0
    kinds, codes, masses = hubs.kinds, hubs.codes.tolist(), hubs.mass_g.tolist()
    for i in range(count):
        result = element_emissions(HubOperation(kinds[codes[i]], masses[i]), factors)
        ttw += result.ttw_mg
        wtt += result.wtt_mg
    return Totals(ttw, wtt, 0.0)


def _hub_subset(hubs: Hubs, count: int) -> Hubs:
    return Hubs(hubs.kinds, hubs.codes[:count], hubs.mass_g[:count])


def _timed_hubs(factors: FactorSet, hubs: Hubs, reference: int) -> tuple[float, Totals, bool]:
    """Median seconds of the vectorised hubs, their totals, and whether the row-by-row library agrees."""
    timings, totals = [], Totals(0, 0, 0.0)
    for _ in range(REPEATS):
        started = time.perf_counter()
        totals = vectorised_hubs(factors, hubs)
        timings.append(time.perf_counter() - started)
    sample = min(reference, len(hubs.codes))
    expected = row_by_row_hubs(factors, hubs, sample)
    got = vectorised_hubs(factors, _hub_subset(hubs, sample))
    return statistics.median(timings), totals, (got.ttw_mg, got.wtt_mg) == (expected.ttw_mg, expected.wtt_mg)


def vectorised(factors: FactorSet, legs: Legs) -> Totals:
    resolved = vector.resolve(factors, legs.requests, legs.codes, legs.distance_km)
    result = vector.leg_emissions(legs.mass_g, legs.distance_km, resolved.ttw, resolved.wtt)
    return Totals(int(result.ttw_mg.sum()), int(result.wtt_mg.sum()), float(result.tkm.sum()))


def row_by_row(factors: FactorSet, legs: Legs, count: int) -> Totals:
    ttw = wtt = 0
    tkm = 0.0
    requests, codes = legs.requests, legs.codes.tolist()
    masses, distances = legs.mass_g.tolist(), legs.distance_km.tolist()
    for i in range(count):
        mode, vehicle, energy, carrier, _ = requests[codes[i]]
        result = element_emissions(
            Leg(mode, vehicle, energy, masses[i], distances[i], carrier=carrier), factors
        )
        ttw += result.ttw_mg
        wtt += result.wtt_mg
        tkm += result.tkm
    return Totals(ttw, wtt, tkm)


def _subset(legs: Legs, count: int) -> Legs:
    return Legs(legs.requests, legs.codes[:count], legs.mass_g[:count], legs.distance_km[:count])


def run(console: Console, count: int, reference_legs: int, seed: int) -> bool:
    """Print the comparison and the summary line; True when the totals are identical."""
    factors = FactorSet.ordered((default_table(), hub_table()))
    legs = draw_legs(count, seed)
    vectorised(factors, _subset(legs, 1000))  # warm up NumPy's code paths
    timings, totals = [], Totals(0, 0, 0.0)
    for _ in range(REPEATS):
        started = time.perf_counter()
        totals = vectorised(factors, legs)
        timings.append(time.perf_counter() - started)
    seconds = statistics.median(timings)

    sample = min(reference_legs, count)
    started = time.perf_counter()
    reference = row_by_row(factors, legs, sample)
    reference_seconds = time.perf_counter() - started
    same_legs = vectorised(factors, _subset(legs, sample)) if sample < count else totals
    identical = (same_legs.ttw_mg, same_legs.wtt_mg) == (reference.ttw_mg, reference.wtt_mg)

    hubs = draw_hubs(count, seed)
    vectorised_hubs(factors, _hub_subset(hubs, 1000))
    hub_seconds, hub_totals, hubs_identical = _timed_hubs(factors, hubs, sample)
    identical = identical and hubs_identical
    legs_per_s = count / seconds
    reference_per_s = sample / reference_seconds
    scope = "all legs" if sample == count else f"the first {sample:,} legs (per-leg speed compared)"
    console.print(
        f"vectorised: {count:,} legs in {seconds:.3f} s (median of {REPEATS}: "
        f"{', '.join(f'{t:.3f}' for t in timings)}), WTW {totals.wtw_mg / 1e9:,.3f} t CO2e "
        f"(TTW {totals.ttw_mg / 1e9:,.3f} + WTT {totals.wtt_mg / 1e9:,.3f}), {totals.tkm:,.0f} t-km"
    )
    console.print(
        f"row by row: {sample:,} legs in {reference_seconds:.2f} s on {scope}; WTW "
        f"{reference.wtw_mg:,} mg vs vectorised {same_legs.wtw_mg:,} mg: "
        + ("[green]identical[/green]" if identical else "[red]DIFFERENT[/red]")
    )
    console.print(
        f"hubs: {count:,} hub operations in {hub_seconds:.3f} s, WTW {hub_totals.wtw_mg / 1e9:,.3f} t CO2e; "
        f"row by row on {sample:,}: "
        + ("[green]identical[/green]" if hubs_identical else "[red]DIFFERENT[/red]")
    )
    console.print(
        f"emissions legs={count} seconds={seconds:.4f} legs_per_s={legs_per_s:.0f} "
        f"reference_ratio={legs_per_s / reference_per_s:.1f} reference_legs={sample} "
        f"hubs={count} hubs_per_s={count / hub_seconds:.0f} "
        f"totals_identical={str(identical).lower()} wtw_mg={totals.wtw_mg} "
        f"hubs_wtw_mg={hub_totals.wtw_mg}",
        soft_wrap=True,
        highlight=False,
    )
    return identical
