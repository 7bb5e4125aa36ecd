"""A process reading the stored network picks up the bounds `entrepot logistics precompute` wrote for
it, and not once a lane has changed since (another fingerprint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from entrepot.logistics import compiled, precompute
from entrepot.logistics import service as logistics
from entrepot.logistics.models import NetworkLane
from tests.integration.test_shipping import small_network
from tests.world import World


def test_the_stored_network_loads_its_own_precomputed_bounds_only(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precompute, "DEFAULT_FOLDER", tmp_path)
    with world.db.transaction() as session:
        logistics.store_network(session, small_network())
    logistics.forget_network()
    with world.db.transaction() as session:
        precompute.build(logistics.network(session), floors=(1.0,))
    logistics.forget_network()
    with world.db.transaction() as session:
        assert 1.0 in compiled.compiled(logistics.network(session)).feeders
        session.execute(
            update(NetworkLane).where(NetworkLane.code == "truck-sin-hub").values(transit_minutes=45)
        )
    logistics.forget_network()
    with world.db.transaction() as session:
        changed = logistics.network(session)
        assert changed.lanes_by_id["truck-sin-hub"].transit_minutes == 45
        assert compiled.compiled(changed).feeders == {}  # stale for this network: not loaded
