"""A local courier's trip as emissions, pure: metres x g/km to the milligram, the mode's category, the
orders' equal shares adding up exactly, and a table scoped to a market's country winning there only."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.emissions.categories import category_of_courier
from entrepot.emissions.domain import local_trip_emissions, per_km_mg
from entrepot.emissions.factors import FactorSet, parse_factor_csv
from entrepot.emissions.versions import packaged_factors

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source,unit"


def test_metres_times_grams_per_km_is_milligrams_of_the_factor_as_written() -> None:
    assert per_km_mg(2500, 162.72) == 406_800
    assert per_km_mg(2500, 45.99) == 114_975
    # 83.19 x 50 = 4,159.5 to even: 4,160; the float nearest 83.19 (a hair below it) would give 4,159
    assert per_km_mg(50, 83.19) == 4_160
    assert per_km_mg(1, 0.5) == 0 and per_km_mg(3, 0.5) == 2  # half to even: 0.5 -> 0, 1.5 -> 2
    assert per_km_mg(0, 208.71) == 0


def test_each_mode_has_its_category_and_an_unknown_one_keeps_its_name() -> None:
    assert category_of_courier("ebike") == ("local", "ebike", "electricity")
    assert category_of_courier("scooter") == ("local", "scooter", "petrol")
    assert category_of_courier("car") == ("local", "car", "petrol")
    assert category_of_courier("walking") == ("local", "walking", "none")
    assert category_of_courier("drone") == ("local", "drone", "unknown")


def test_a_trip_is_shared_equally_by_its_orders_to_the_milligram() -> None:
    car = local_trip_emissions("car", 2500, 3, ("SG",), packaged_factors())
    assert (car.ttw_mg, car.wtt_mg, car.wtw_mg) == (406_800, 114_975, 521_775)
    assert [s.ttw_mg for s in car.shares] == [135_600] * 3
    assert [s.wtt_mg for s in car.shares] == [38_325] * 3
    assert car.factor is not None and (car.factor.table, car.factor.row) == ("desnz-2025@1", 16)
    with pytest.raises(ValueError, match="at least one delivered order"):
        local_trip_emissions("car", 2500, 0, (), packaged_factors())


def test_a_table_scoped_to_a_country_prices_its_trips_only() -> None:
    text = f"{HEADER}\nlocal,ebike,electricity,4.0,1.0,5.0,SG grid,g/km\n"
    grid = replace(parse_factor_csv(text, "sg", 1, "regional"), countries=frozenset({"SG"}))
    factors = FactorSet.ordered([*packaged_factors().tables, grid])
    assert local_trip_emissions("ebike", 1000, 1, ("SG",), factors).ttw_mg == 4_000
    assert local_trip_emissions("ebike", 1000, 1, ("CN",), factors).ttw_mg == 1_947  # the default's
    assert local_trip_emissions("ebike", 1000, 1, ("CN", "SG"), factors).ttw_mg == 1_947  # not wholly SG
    unknown = local_trip_emissions("drone", 1000, 2, (), factors)
    assert unknown.factor is None and unknown.wtw_mg == 0 and len(unknown.shares) == 2


@given(
    metres=st.integers(min_value=0, max_value=200_000),
    orders=st.integers(min_value=1, max_value=12),
    mode=st.sampled_from(["ebike", "scooter", "car", "walking"]),
)
def test_the_shares_add_up_to_the_trip(metres: int, orders: int, mode: str) -> None:
    trip = local_trip_emissions(mode, metres, orders, (), packaged_factors())
    assert sum(s.ttw_mg for s in trip.shares) == trip.ttw_mg
    assert sum(s.wtt_mg for s in trip.shares) == trip.wtt_mg
    assert max(s.wtw_mg for s in trip.shares) - min(s.wtw_mg for s in trip.shares) <= 2  # equal, to a mg each
