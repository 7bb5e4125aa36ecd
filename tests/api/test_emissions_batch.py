"""Shipments' emissions recorded a batch at a time (emissions.service.record_shipments, the relay's batch
handler for `shipment.planned`) store the same rows and figures as recording them one by one, change
nothing when recorded again (a batch holding recorded shipments among new ones), and refuse a batch
naming a shipment that is not stored, writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from entrepot.emissions import service as emissions
from entrepot.emissions.domain import element_emissions
from entrepot.emissions.models import ElementActivity, ElementResult, ShipmentActivity
from entrepot.kernel.errors import NotFound
from tests.api.test_emissions_api import client, ship  # noqa: F401  (the fixture, with its network)
from tests.world import World

SKUS = ("seller_a_red", "seller_a_blue", "seller_a_red", "seller_a_blue", "seller_a_red")
ACTIVITY = ("shipment_ref", "order_ref", "seller_ref", "market", "marketplace", "division", "planned_on")
ELEMENT = ("seq", "kind", "mode", "vehicle", "carrier", "lane", "origin", "destination", "distance_km")
RESULT = ("version", "tkm", "ttw_mg", "wtt_mg", "wtw_mg", "category", "factor_table", "factor_row")


def shipped(client: TestClient, world: World) -> list[str]:  # noqa: F811
    """Five paid orders' shipments, planned and (by the relay's batch handler) recorded."""
    return [ship(client, world, sku, f"emis-batch-{i:04}") for i, sku in enumerate(SKUS)]


def stored(session: Session) -> dict[str, Any]:
    """Every recorded row by shipment, without the database's ids and the time of recording."""
    out: dict[str, Any] = {}
    for activity in session.scalars(select(ShipmentActivity)):
        rows = session.execute(
            select(ElementActivity, ElementResult)
            .join(ElementResult, ElementResult.element_id == ElementActivity.id)
            .where(ElementActivity.shipment_id == activity.id)
            .order_by(ElementActivity.seq, ElementResult.version)
        ).all()
        out[activity.shipment_ref] = (
            tuple(getattr(activity, name) for name in ACTIVITY),
            [(tuple(getattr(e, n) for n in ELEMENT), tuple(getattr(r, n) for n in RESULT)) for e, r in rows],
        )
    return out


def forget(session: Session, refs: list[str]) -> None:
    ids = select(ShipmentActivity.id).where(ShipmentActivity.shipment_ref.in_(refs))
    session.execute(delete(ElementResult).where(ElementResult.shipment_id.in_(ids)))
    session.execute(delete(ElementActivity).where(ElementActivity.shipment_id.in_(ids)))
    session.execute(delete(ShipmentActivity).where(ShipmentActivity.shipment_ref.in_(refs)))


def test_a_batch_records_what_one_by_one_records(client: TestClient, world: World) -> None:  # noqa: F811
    refs = shipped(client, world)
    with world.db.transaction() as session:
        batch = stored(session)
        assert sorted(batch) == sorted(refs)
        assert all(elements for _, elements in batch.values())
        forget(session, refs)
        for ref in refs:
            emissions.record_shipment(session, ref, world.clock())
        assert stored(session) == batch


def test_the_figures_are_the_calculations_element_by_element(
    client: TestClient,  # noqa: F811
    world: World,
) -> None:
    refs = shipped(client, world)
    with world.db.transaction() as session:
        forget(session, refs)
        emissions.record_shipments(session, refs, world.clock())
        countries = emissions._countries_of(session)
        version = emissions.current_version(session, world.clock())
        factors = emissions.factor_set_of(session, version)
        rows = session.execute(
            select(ElementActivity, ElementResult).join(
                ElementResult, ElementResult.element_id == ElementActivity.id
            )
        ).all()
        assert len(rows) > len(refs)
        for element, result in rows:
            expected = element_emissions(emissions.element_of(element, countries), factors)
            assert (result.ttw_mg, result.wtt_mg) == (expected.ttw_mg, expected.wtt_mg)
            assert result.tkm == pytest.approx(expected.tkm)
            assert result.category == expected.category[:160]


def test_recording_again_changes_nothing(client: TestClient, world: World) -> None:  # noqa: F811
    refs = shipped(client, world)
    with world.db.transaction() as session:
        before = stored(session)
        forget(session, refs[1:2])  # one forgotten: the batch holds it among recorded shipments
        again = emissions.record_shipments(session, [*refs, refs[0]], world.clock())
        assert [a.shipment_ref for a in again] == [*refs, refs[0]]
        assert stored(session) == before
        emissions.record_shipments(session, refs, world.clock())
        assert stored(session) == before
        assert session.scalar(select(func.count()).select_from(ShipmentActivity)) == len(refs)


def test_a_batch_naming_an_unknown_shipment_writes_nothing(
    client: TestClient,  # noqa: F811
    world: World,
) -> None:
    refs = shipped(client, world)
    with world.db.transaction() as session:
        forget(session, refs)
    with pytest.raises(NotFound), world.db.transaction() as session:
        emissions.record_shipments(session, [*refs, "shp_not_stored"], world.clock())
    with world.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ShipmentActivity)) == 0
