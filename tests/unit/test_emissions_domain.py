"""The ISO 14083 calculation: the worked example, hand-computed legs and a chain with a hub, WTW = WTT +
TTW, exact allocation of a trip, and linearity in mass and distance."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.emissions.defaults import default_table
from entrepot.emissions.domain import (
    HubOperation,
    Leg,
    allocate,
    allocate_trip,
    chain_emissions,
    default_wtw_g_per_tkm,
    leg_emissions,
    trip_total,
)
from entrepot.emissions.factors import Factor, FactorSet, parse_factor_csv
from entrepot.logistics.domain import Node, rule_distance_km
from entrepot.logistics.intensity import CATEGORY_OF_LANE
from entrepot.logistics.intensity import default_wtw_g_per_tkm as planning_wtw_g_per_tkm

DEFAULTS = FactorSet((default_table(),))
HUBS_CSV = (
    "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source,unit\n"
    "hub,sortation_hub,grid_mix,1.2,0.3,1.5,test hub table,kg/t\n"
)


def factor(vehicle: str) -> Factor:
    return next(f for f in default_table().factors if f.vehicle == vehicle)


def test_the_worked_example_hangzhou_to_manila() -> None:
    hgh = Node("air-HGH", "airport", "CN", 30.2295, 120.4344, "Asia/Shanghai")
    mnl = Node("air-MNL", "airport", "PH", 14.5086, 121.0198, "Asia/Manila")
    km, rule = rule_distance_km("air", hgh, mnl)
    assert rule == "great-circle + 95 km"
    assert km == pytest.approx(1844, rel=0.01)
    result = leg_emissions(
        Leg("air", "freighter_long_haul", "kerosene", 2000, km, rule), factor("freighter_long_haul")
    )
    assert result.tkm == pytest.approx(3.69, rel=0.01)
    assert result.wtw_mg / 1e6 == pytest.approx(2.46, rel=0.01)
    assert result.ttw_mg / 1e6 == pytest.approx(1.96, rel=0.01)
    assert result.wtw_mg == result.ttw_mg + result.wtt_mg
    trail = result.audit()
    assert trail["distance_rule"] == "great-circle + 95 km"
    assert trail["factor"] == {
        "table": "desnz-2025@1",
        "row": 10,
        "ttw": 531.0,
        "wtt": 135.0,
        "wtw": 666.0,
        "unit": "g/tkm",
        "source": "UK DESNZ GHG conversion factors 2025 (freighting goods)",
        "note": "international/long haul; no radiative forcing; with RF ttw is 899",
    }


@pytest.mark.parametrize(
    ("leg", "ttw_mg", "wtt_mg"),
    [
        # road: 10 kg x 250 km = 2.5 t-km; 102 and 23 g/t-km (HGV average)
        (Leg("road", "hgv_all", "diesel", 10_000, 250.0), 255_000, 57_500),
        # rail: 500 kg x 1,200 km = 600 t-km; 27.8 and 6.9 g/t-km
        (Leg("rail", "freight_train", "mixed", 500_000, 1200.0), 16_680_000, 4_140_000),
        # sea: 2 t x 10,000 km = 20,000 t-km; 16.1 and 3.7 g/t-km
        (Leg("sea", "container_ship_average", "hfo_vlsfo", 2_000_000, 10_000.0), 322_000_000, 74_000_000),
    ],
)
def test_hand_computed_legs(leg: Leg, ttw_mg: int, wtt_mg: int) -> None:
    [result] = chain_emissions([leg], DEFAULTS).results
    assert (result.ttw_mg, result.wtt_mg, result.wtw_mg) == (ttw_mg, wtt_mg, ttw_mg + wtt_mg)
    assert result.factor is not None and result.factor.table == "desnz-2025@1"


def test_a_multi_leg_chain_with_a_hub() -> None:
    hubs = parse_factor_csv(HUBS_CSV, "hubs", 1, "regional")
    factors = FactorSet.ordered([default_table(), hubs])
    chain = chain_emissions(
        [
            Leg("road", "hgv_all", "diesel", 1500, 30.0),  # 0.045 t-km
            HubOperation("sortation_hub", 1500, "hub-hz"),  # 0.0015 t x 1.2 / 0.3 kg/t
            Leg("air", "freighter", "kerosene", 1500, 3000.0),  # 4.5 t-km, short haul by the band
            Leg("road", "van_up_to_3.5t", "diesel", 1500, 12.0),  # 0.018 t-km
        ],
        factors,
    )
    ttw = [r.ttw_mg for r in chain.results]
    wtt = [r.wtt_mg for r in chain.results]
    assert ttw == [4_590, 1_800, 3_397_500, 11_358]
    assert wtt == [1_035, 450, 927_000, 2_718]
    assert chain.wtw_mg == 4_346_451  # 4.346451 kg
    assert chain.results[2].factor is not None and chain.results[2].factor.vehicle == "freighter_short_haul"
    assert chain.results[1].audit()["distance_rule"] == "hub operation: no distance"


def test_air_distance_bands_pick_short_or_long_haul() -> None:
    short = DEFAULTS.resolve("air", "freighter", "kerosene", 3699.9)
    long = DEFAULTS.resolve("air", "freighter", "kerosene", 3700.0)
    assert short is not None and short.wtw == 961.0
    assert long is not None and long.wtw == 666.0


def test_an_element_without_a_factor_is_zero_and_says_so() -> None:
    [hub] = chain_emissions([HubOperation("seaport", 1000)], DEFAULTS).results
    assert hub.missing_factor and hub.wtw_mg == 0
    assert hub.audit()["missing_factor"] is True


def test_default_factor_for_every_logistics_lane_kind_matches_the_reference_values() -> None:
    distances = {"short_haul": 1000.0, "long_haul": 8000.0}
    # DESNZ 2025 well-to-wheel g CO2e per t-km of each lane kind the logistics networks build
    reference = {
        ("road", "truck"): 125.0,
        ("rail", "freight_train"): 34.7,
        ("air", "short_haul"): 961.0,
        ("air", "long_haul"): 666.0,
        ("sea", "container_ship"): 19.8,
        ("last_mile", "van_diesel"): 782.0,
        ("last_mile", "van_electric"): 276.0,
    }
    for (mode, vehicle), estimate in reference.items():
        assert default_wtw_g_per_tkm(mode, vehicle, distances.get(vehicle, 100.0)) == estimate


def test_allocation_of_a_trip_sums_exactly() -> None:
    legs = [Leg("air", "freighter_long_haul", "kerosene", m, 9000.0, trip="dep-1") for m in (1200, 333, 2001)]
    ttw, wtt = trip_total(legs, factor("freighter_long_haul"))
    shares = allocate_trip(ttw, wtt, [leg.tkm for leg in legs])
    assert sum(s.ttw_mg for s in shares) == ttw and sum(s.wtt_mg for s in shares) == wtt
    assert sum(s.wtw_mg for s in shares) == ttw + wtt
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]  # ties go to the earlier shipment
    assert allocate(0, [0.0, 0.0]) == [0, 0]
    with pytest.raises(ValueError):
        allocate(5, [0.0])


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=40),
)
def test_allocation_always_sums_to_the_total_and_stays_proportional(total: int, weights: list[float]) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1.0]
    shares = allocate(total, weights)
    assert sum(shares) == total and all(s >= 0 for s in shares)
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / whole) < 1 + total * 1e-12


CATEGORIES = [(f.mode, f.vehicle, f.energy) for f in default_table().factors]


@given(
    st.sampled_from(CATEGORIES),
    st.integers(min_value=1, max_value=5_000_000),
    st.floats(min_value=0.1, max_value=20_000),
    st.integers(min_value=2, max_value=50),
)
def test_emissions_are_linear_in_mass_and_in_distance(
    category: tuple[str, str, str], mass_g: int, km: float, k: int
) -> None:
    chosen = next(f for f in default_table().factors if (f.mode, f.vehicle, f.energy) == category)
    one = leg_emissions(Leg(*category, mass_g, km), chosen)
    heavier = leg_emissions(Leg(*category, mass_g * k, km), chosen)
    further = leg_emissions(Leg(*category, mass_g, km * k), chosen)
    # each part is rounded to the milligram once, so k x a result is off by at most k/2 + 1/2 mg each
    slack = k + 1 + one.wtw_mg * k * 1e-12
    assert abs(heavier.wtw_mg - k * one.wtw_mg) <= slack
    assert abs(further.wtw_mg - k * one.wtw_mg) <= slack
    assert heavier.wtw_mg == heavier.ttw_mg + heavier.wtt_mg


def test_logistics_plans_without_importing_emissions() -> None:
    code = (
        "import sys, entrepot.logistics.domain, entrepot.logistics.routing;"
        "print(any(m.startswith('entrepot.emissions') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("distance_km", [0.0, 1.0, 100.0, 3699.999, 3700.0, 3700.001, 8000.0, 20000.0])
def test_logistics_estimates_with_the_default_tables_figures(distance_km: float) -> None:
    for mode, vehicle in [*CATEGORY_OF_LANE, ("road", "unknown"), ("air", "unknown")]:
        estimate = planning_wtw_g_per_tkm(mode, vehicle, distance_km)
        assert estimate == default_wtw_g_per_tkm(mode, vehicle, distance_km), (mode, vehicle)
