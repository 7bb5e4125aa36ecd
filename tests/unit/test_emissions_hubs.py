"""Hub operations in the ISO 14083 chain: the packaged hub table (sourced, per tonne handled), a parcel
through two hubs computed by hand, every network site kind either with a factor or a stated gap, and for
any chain the totals are the legs' plus the hubs' (row by row and vectorised alike)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.emissions import vector
from entrepot.emissions.defaults import HUB_GAPS, default_table, hub_table, missing_reason, packaged
from entrepot.emissions.domain import HubOperation, Leg, chain_emissions, element_emissions
from entrepot.emissions.factors import HUB, FactorSet, parse_countries, parse_factor_csv
from entrepot.emissions.service import HUB_KINDS
from entrepot.logistics.network_data import HANDLING_MINUTES

DEFAULTS = FactorSet.ordered([default_table(), hub_table()])


def test_the_hub_table_is_sourced_per_tonne_and_loads_as_a_default() -> None:
    table = hub_table()
    assert (table.name, table.version, table.kind) == ("glec-v3-hubs", 1, "default")
    for f in table.factors:
        assert f.mode == HUB and f.unit == "kg/t"
        assert f.source.startswith("GLEC Framework v3.0 (Smart Freight Centre 2023, updated 2024)")
        assert "WTW only" in f.note and f.wtt == 0 and f.ttw == f.wtw
    assert {f.vehicle: f.wtw for f in table.factors} == {
        "sortation_hub": 0.6,
        "delivery_station": 0.6,
        "fulfilment_warehouse": 17.5,
        "seaport": 10.7,
    }
    assert [t.name for t, _ in packaged()] == ["desnz-2025", "glec-v3-hubs"]


def test_every_site_kind_of_the_network_is_a_hub_with_a_factor_or_a_stated_gap() -> None:
    assert set(HUB_KINDS) == set(HANDLING_MINUTES)
    covered = {f.vehicle for f in hub_table().factors}
    assert covered | set(HUB_GAPS) == set(HUB_KINDS) and not covered & set(HUB_GAPS)
    [airport] = chain_emissions([HubOperation("airport", 2000, "air-HGH")], DEFAULTS).results
    assert airport.missing_factor and airport.wtw_mg == 0
    assert airport.audit()["missing_reason"] == HUB_GAPS["airport"]
    assert missing_reason("road/hgv_all/diesel") == "no factor table in force covers this category"


def test_one_parcel_through_two_hubs_by_hand() -> None:
    """2.0 kg: truck 100 km, sorting hub, truck 300 km, delivery station, van 10 km. By hand:
    truck 0.002 t x 100 km = 0.2 t-km x (102 + 23) g = 20.4 + 4.6 g; hub 0.002 t x 0.6 kg/t = 1.2 g;
    truck 0.6 t-km x (102 + 23) = 61.2 + 13.8 g; station 1.2 g; van 0.02 t-km x (631 + 151) = 12.62 + 3.02 g.
    Legs 115.64 g, hubs 2.4 g (allocated by mass: the parcel's own tonnes x kg/t), chain 118.04 g."""
    chain = chain_emissions(
        [
            Leg("road", "hgv_all", "diesel", 2000, 100.0),
            HubOperation("sortation_hub", 2000, "hub-sg"),
            Leg("road", "hgv_all", "diesel", 2000, 300.0),
            HubOperation("delivery_station", 2000, "ds-sg-central"),
            Leg("road", "van_up_to_3.5t", "diesel", 2000, 10.0),
        ],
        DEFAULTS,
    )
    assert [(r.ttw_mg, r.wtt_mg) for r in chain.results] == [
        (20_400, 4_600),
        (1_200, 0),
        (61_200, 13_800),
        (1_200, 0),
        (12_620, 3_020),
    ]
    assert (chain.legs_wtw_mg, chain.hubs_wtw_mg, chain.wtw_mg) == (115_640, 2_400, 118_040)
    hub = chain.results[1].audit()
    assert hub["factor"]["table"] == "glec-v3-hubs@1" and hub["factor"]["unit"] == "kg/t"  # type: ignore[index]


KINDS = st.sampled_from(sorted(set(HUB_KINDS)))
LEGS = st.sampled_from(
    [
        ("road", "hgv_all", "diesel"),
        ("rail", "freight_train", "mixed"),
        ("air", "freighter", "kerosene"),
        ("sea", "container_ship_average", "hfo_vlsfo"),
        ("road", "van_up_to_3.5t", "battery_electric"),
    ]
)
MASS = st.integers(1, 1_000_000)
ELEMENTS = st.one_of(
    st.builds(lambda c, m, km: Leg(*c, m, km), LEGS, MASS, st.floats(0, 20_000, allow_nan=False)),
    st.builds(HubOperation, KINDS, MASS),
)


@given(st.lists(ELEMENTS, max_size=12))
def test_a_chains_totals_are_the_sum_of_its_legs_and_hubs(elements: list[Leg | HubOperation]) -> None:
    chain = chain_emissions(elements, DEFAULTS)
    legs = [element_emissions(e, DEFAULTS) for e in elements if isinstance(e, Leg)]
    hubs = [element_emissions(e, DEFAULTS) for e in elements if isinstance(e, HubOperation)]
    assert chain.legs_wtw_mg == sum(r.wtw_mg for r in legs)
    assert chain.hubs_wtw_mg == sum(r.wtw_mg for r in hubs)
    assert chain.wtw_mg == chain.legs_wtw_mg + chain.hubs_wtw_mg == chain.ttw_mg + chain.wtt_mg
    assert all(r.wtw_mg >= 0 for r in chain.results)


@given(st.lists(st.tuples(KINDS, MASS), max_size=50))
def test_vectorised_hubs_give_the_librarys_figures_to_the_milligram(ops: list[tuple[str, int]]) -> None:
    kinds = sorted(set(HUB_KINDS))
    codes = np.array([kinds.index(k) for k, _ in ops], dtype=np.int64)
    mass = np.array([m for _, m in ops], dtype=np.int64)
    resolved = vector.resolve_hubs(DEFAULTS, kinds, codes)
    arrays = vector.hub_emissions(mass, resolved.ttw, resolved.wtt)
    expected = [element_emissions(HubOperation(k, m), DEFAULTS) for k, m in ops]
    assert arrays.ttw_mg.tolist() == [r.ttw_mg for r in expected]
    assert arrays.wtt_mg.tolist() == [r.wtt_mg for r in expected]


ASIA_CSV = (
    "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source\n"
    "road,hgv_all,diesel,80,20,100,test asian trucks\n"
)


def test_a_scoped_regional_table_answers_only_inside_its_countries() -> None:
    asia = replace(parse_factor_csv(ASIA_CSV, "asia", 1, "regional"), countries=parse_countries("cn, SG my"))
    factors = FactorSet.ordered([default_table(), hub_table(), asia])
    truck = ("road", "hgv_all", "diesel", 100.0, "")
    assert factors.resolve(*truck, ("CN", "SG")).table == "asia@1"  # type: ignore[union-attr]
    assert factors.resolve(*truck, ("SG", "SG")).table == "asia@1"  # type: ignore[union-attr]
    assert factors.resolve(*truck, ("SG", "DE")).table == "desnz-2025@1"  # type: ignore[union-attr]
    assert factors.resolve(*truck, ()).table == "desnz-2025@1"  # type: ignore[union-attr]  # unplaced
    leg = Leg("road", "hgv_all", "diesel", 1000, 100.0, countries=("DE", "FR"))
    assert element_emissions(leg, factors).factor.table == "desnz-2025@1"  # type: ignore[union-attr]
    assert asia.countries == frozenset({"CN", "SG", "MY"})


@pytest.mark.parametrize("text", ["", "China", "CN;SG", "C1"])
def test_a_scope_is_iso_country_codes(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166 alpha-2"):
        parse_countries(text)


def test_an_estimate_uses_the_tables_of_its_version_and_says_which() -> None:
    from entrepot.emissions.estimates import Intensities, RouteLeg, estimate_route

    asia = replace(parse_factor_csv(ASIA_CSV, "asia", 1, "regional"), countries=parse_countries("CN SG"))
    both = Intensities(2, FactorSet.ordered([default_table(), hub_table(), asia]))
    assert both.tables == ["asia@1", "glec-v3-hubs@1", "desnz-2025@1"]
    assert both.wtw_g_per_tkm("road", "truck", 40.0, ("CN", "CN")) == 100.0  # the scoped table
    assert both.wtw_g_per_tkm("road", "truck", 40.0, ("DE", "FR")) == 125.0  # the default
    assert both.wtw_g_per_tkm("air", "short_haul", 3500.0) == 961.0
    assert both.hub_wtw_kg_per_t("sortation_hub", "SG") == 0.6 and both.hub_wtw_kg_per_t("airport") is None
    route = estimate_route(
        both,
        2000,
        [RouteLeg("road", "truck", 100.0, "CN", "CN"), RouteLeg("last_mile", "van_diesel", 10.0, "SG", "SG")],
        [("fulfilment_warehouse", "CN"), ("airport", "CN"), ("delivery_station", "SG")],
    )
    # 0.2 t-km x 100 g (asia) + 0.02 t-km x 782 g; 0.002 t x (17.5 + 0.6) kg/t; the airport has no factor
    assert (route.version, route.legs_wtw_g, route.hubs_wtw_g, route.missing_factors) == (2, 35.64, 36.2, 1)
    assert route.wtw_g == 71.84 and route.tables == both.tables


def test_the_worked_examples_parcel_with_its_hub_share() -> None:
    """The reference's 2.0 kg parcel, Hangzhou to Manila (1,844 km: short haul by the table's band, 755 +
    206 g/t-km), now with its sites: the Hangzhou warehouse 0.002 t x 17.5 kg/t = 35 g, the two airports
    flagged (no published default), the Manila station 0.002 t x 0.6 kg/t = 1.2 g."""
    chain = chain_emissions(
        [
            HubOperation("fulfilment_warehouse", 2000, "cn-hangzhou"),
            HubOperation("airport", 2000, "air-HGH"),
            Leg("air", "freighter", "kerosene", 2000, 1844.0, "great-circle + 95 km"),
            HubOperation("airport", 2000, "air-MNL"),
            HubOperation("delivery_station", 2000, "ds-ph-manila"),
        ],
        DEFAULTS,
    )
    assert chain.legs_wtw_mg == 2_784_440 + 759_728  # 3.688 t-km x 755 g TTW + x 206 g WTT
    assert chain.hubs_wtw_mg == 36_200
    assert [r.missing_factor for r in chain.results] == [False, True, False, True, False]
    assert round(chain.hubs_wtw_mg / chain.wtw_mg, 4) == 0.0101  # the hubs' share: 1.0 %
