"""The process's copy of the logistics network follows what another process stores: a lane removed and
another added by hand leaves the count as it was, and the copy must still be read again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import delete, func, select

from entrepot.logistics import precompute
from entrepot.logistics import service as logistics
from entrepot.logistics.compiled import compiled
from entrepot.logistics.models import NetworkLane
from entrepot.platform.db import Database
from tests.integration.test_shipping import small_network


def test_a_lane_swapped_by_another_process_is_seen_though_the_count_is_unchanged(database: Database) -> None:
    cache = logistics._NetworkCache(ttl_s=0)  # check the stored version on every read
    with database.transaction() as session:
        logistics.store_network(session, small_network())
    with database.transaction() as session:
        first = cache.get(session)
        assert cache.get(session) is first  # nothing changed: the same copy
        count = session.scalar(select(func.count()).select_from(NetworkLane))
    with database.transaction() as session:  # as another process would: no call into this cache
        gone = session.scalars(select(NetworkLane).order_by(NetworkLane.id).limit(1)).one()
        values = {c.name: getattr(gone, c.name) for c in NetworkLane.__table__.columns if c.name != "id"}
        session.execute(delete(NetworkLane).where(NetworkLane.id == gone.id))
        session.add(NetworkLane(**{**values, "code": values["code"] + "-again", "transit_minutes": 1}))
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(NetworkLane)) == count
        second = cache.get(session)
    assert second is not first
    assert values["code"] not in second.lanes_by_id and values["code"] + "-again" in second.lanes_by_id


def test_a_node_added_by_another_process_is_seen(database: Database) -> None:
    cache = logistics._NetworkCache(ttl_s=0)
    with database.transaction() as session:
        logistics.store_network(session, small_network())
    with database.transaction() as session:
        assert "extra-node" not in cache.get(session).nodes
    grown = small_network()
    grown.add_node(replace(next(iter(grown.nodes.values())), code="extra-node"))
    with database.transaction() as session:
        logistics.store_network(session, grown)  # clears the process's copy, not this cache
    with database.transaction() as session:
        assert "extra-node" in cache.get(session).nodes


def test_at_start_the_bounds_are_computed_once_for_each_network(database: Database, tmp_path: Path) -> None:
    """What the API does once started (`prepare_planner`): bounds written for a network without any,
    nothing for one that has them, new ones for a changed network, each attached to the planner."""
    with database.transaction() as session:
        logistics.store_network(session, small_network())
    with database.transaction() as session:
        written = logistics.prepare_planner(session, tmp_path)
        network = logistics.network(session)
    assert {p.name for p in written} == {f"floor-{f:g}.npz" for f in precompute.DEFAULT_FLOORS_KG}
    assert {p.parent.name for p in written} == {precompute.fingerprint(network)}
    assert set(compiled(network).feeders) == set(precompute.DEFAULT_FLOORS_KG)
    with database.transaction() as session:
        assert logistics.prepare_planner(session, tmp_path) == []  # already there: loaded, not computed
    grown = small_network()
    grown.add_node(replace(next(iter(grown.nodes.values())), code="extra-node"))
    with database.transaction() as session:
        logistics.store_network(session, grown)
    with database.transaction() as session:
        again = logistics.prepare_planner(session, tmp_path)
        changed = logistics.network(session)
    assert len(again) == len(written) and {p.parent.name for p in again} == {precompute.fingerprint(changed)}
    assert precompute.fingerprint(changed) != precompute.fingerprint(network)
