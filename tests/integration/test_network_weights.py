"""A process's copy of the network is weighed with the emission factor version in force and follows a
table another process loads (no call into this process: its next network check sees the new version),
re-weighing the lanes without reading the network again."""

from __future__ import annotations

import datetime as dt

from entrepot.emissions import estimates
from entrepot.emissions import service as emissions
from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Parcel, lane_emissions_g
from entrepot.platform.db import Database
from tests.integration.test_shipping import small_network

NOW = dt.datetime(2025, 11, 11, 3, 0, tzinfo=dt.UTC)
HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source"
FLAT_AIR = f"{HEADER}\nair,freighter,kerosene,531,135,666,test: one figure for every haul\n"


def test_a_table_loaded_elsewhere_reweighs_the_next_network_read(database: Database) -> None:
    cache = logistics._NetworkCache(ttl_s=0, source=estimates.CURRENT)  # checks on every read
    with database.transaction() as session:
        logistics.store_network(session, small_network())
    with database.transaction() as session:
        first = cache.get(session)
        assert cache.get(session) is first  # neither the network nor the version changed
    assert first.emissions_version.startswith("v1")
    flight = first.lanes_by_id["flight-hgh-sin"]  # 100 km: short haul, 961 g/t-km by default
    assert flight.factor_g_per_tkm is None
    with database.transaction() as session:  # as another process would
        emissions.load_table(session, "flat-air", "regional", FLAT_AIR, NOW, countries="CN,SG")
    with database.transaction() as session:
        second = cache.get(session)
    assert second is not first and second.emissions_version == "v2"
    reweighed = second.lanes_by_id["flight-hgh-sin"]
    assert reweighed.factor_g_per_tkm == 666.0
    assert lane_emissions_g(reweighed, Parcel(1.0, 10, 10, 10)) == 1.0 / 1000 * 100.0 * 666.0
    # lanes the table does not price keep the default and stay the very same objects
    assert second.lanes_by_id["truck-hz-hgh"] is first.lanes_by_id["truck-hz-hgh"]
