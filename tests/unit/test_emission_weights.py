"""Belly hold and freighter air are categories of their own (issue 26, item 4), and the planner weighs
its lanes with the factor version in force: once per version, only where it differs from the default,
so a default network is weighed (and fingerprinted) as before."""

from __future__ import annotations

import math

import pytest

from entrepot.emissions.defaults import default_table, hub_table
from entrepot.emissions.domain import Leg, element_emissions
from entrepot.emissions.estimates import Intensities
from entrepot.emissions.factors import FactorSet, parse_factor_csv
from entrepot.logistics.domain import Lane, Network, Node, Parcel, lane_emissions_g, weighed
from entrepot.logistics.intensity import (
    BELLY_HOLD,
    BUILT_IN,
    CATEGORY_OF_LANE,
    FREIGHTER,
    category_of_lane,
    default_wtw_g_per_tkm,
)
from entrepot.logistics.precompute import fingerprint

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source"
# made-up figures that tell the two aircraft apart (a real table would be GLEC's or a carrier's)
SPLIT = (
    f"{HEADER}\n"
    "air,belly_hold,kerosene,400,100,500,test belly hold\n"
    "air,freighter,kerosene,640,160,800,test freighter\n"
)
DEFAULTS = FactorSet.ordered([default_table(), hub_table()])


def split_version() -> Intensities:
    return Intensities(
        2, FactorSet.ordered([default_table(), hub_table(), parse_factor_csv(SPLIT, "air", 1, "regional")])
    )


def two_flights() -> Network:
    net = Network()
    for code, country, lat, lon in (("air-HGH", "CN", 30.23, 120.43), ("air-MNL", "PH", 14.51, 121.02)):
        net.add_node(Node(code, "airport", country, lat, lon, "Asia/Shanghai"))
    for code, vehicle in (("belly", "belly_hold"), ("freighter", "freighter"), ("stored", "short_haul")):
        net.add_lane(
            Lane(code, "air-HGH", "air-MNL", "air", vehicle, "test", 1844.0, 150, 100, 50, 30.0, 1000.0)
        )
    return net


def test_air_lanes_name_their_aircraft_and_older_lanes_are_freighters() -> None:
    assert (
        category_of_lane("air", "belly_hold")
        == BELLY_HOLD
        != FREIGHTER
        == category_of_lane("air", "freighter")
    )
    # lanes stored before the split named their haul: read as freighters, the category they always had
    assert category_of_lane("air", "short_haul") == category_of_lane("air", "long_haul") == FREIGHTER
    assert {category for (mode, _), category in CATEGORY_OF_LANE.items() if mode == "air"} == {
        BELLY_HOLD,
        FREIGHTER,
    }


@pytest.mark.parametrize("km", [500.0, 3699.9, 3700.0, 9000.0])
def test_the_default_table_gives_both_aircraft_desnz_s_one_figure_per_haul(km: float) -> None:
    belly = DEFAULTS.resolve(*BELLY_HOLD, km)
    freighter = DEFAULTS.resolve(*FREIGHTER, km)
    assert belly is not None and freighter is not None
    assert belly.vehicle.startswith("belly_hold_") and freighter.vehicle.startswith("freighter_")
    assert belly.wtw == freighter.wtw == default_wtw_g_per_tkm("air", "belly_hold", km)


def test_a_table_that_splits_them_prices_each_aircraft_apart() -> None:
    factors = split_version().factors
    belly = element_emissions(Leg(*BELLY_HOLD, 2000, 1844.0), factors)
    freighter = element_emissions(Leg(*FREIGHTER, 2000, 1844.0), factors)
    # 0.002 t x 1,844 km = 3.688 t-km: x 500 g and x 800 g
    assert (belly.wtw_mg, freighter.wtw_mg) == (1_844_000, 2_950_400)


def test_the_planner_weighs_lanes_with_the_version_and_says_which() -> None:
    net = two_flights()
    heavier = weighed(net, split_version())
    parcel = Parcel(2.0, 20, 15, 10)
    grams = {lane.id: round(lane_emissions_g(lane, parcel), 1) for lane in heavier.lanes_by_id.values()}
    assert grams == {"belly": 1844.0, "freighter": 2950.4, "stored": 2950.4}
    assert heavier.emissions_version == "v2" and net.emissions_version == BUILT_IN
    assert all(lane.factor_g_per_tkm is None for lane in net.lanes_by_id.values())  # the original is kept


def test_weighing_with_the_default_figures_changes_nothing_the_planner_keys_on() -> None:
    net = two_flights()
    same = weighed(net, Intensities(1, DEFAULTS))
    assert [lane.factor_g_per_tkm for lane in same.lanes_by_id.values()] == [None, None, None]
    assert fingerprint(same) == fingerprint(net)  # bounds written for the default network still serve it
    assert fingerprint(weighed(net, split_version())) != fingerprint(net)


def test_a_lane_without_a_figure_in_the_version_keeps_the_default() -> None:
    """The account counts a lane no table covers as zero (flagged); the planner cannot weigh it zero, or
    it would look the greenest lane of all."""
    only_hubs = Intensities(3, FactorSet.ordered([hub_table()]))
    [lane, *_] = weighed(two_flights(), only_hubs).lanes_by_id.values()
    assert lane.factor_g_per_tkm is None
    assert math.isclose(lane_emissions_g(lane, Parcel(2.0, 20, 15, 10)), 0.002 * 1844.0 * 961.0)
