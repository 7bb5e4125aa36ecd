"""A carrier's batch of scans: checked whole before any is stored, replayed once, the order following
(a batch may take a parcel from its label to delivered, or put the later scans before the earlier)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from entrepot.kernel.errors import ValidationFailed
from entrepot.logistics import service as logistics
from entrepot.logistics import tracking_service as tracking
from entrepot.logistics.models import TrackingEvent
from entrepot.logistics.tracking import Scan
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import API, basket, get_order, place, relay_all
from tests.api.test_delivery_options import three_ways_network
from tests.world import World


def _shipped(world: World) -> tuple[str, str, list[Scan]]:
    """A paid, shipped order from Tuas (truck to the hub, van to the station) and its parcel's scans."""
    with world.db.transaction() as session:
        logistics.store_network(session, three_ways_network())
    client = world.client()
    placed = place(client, world, {**basket(world, ("seller_a_red", 1)), "payment_method": "card"})
    order_id = placed.json()["id"]
    [shipment] = client.post(f"{API}/orders/{order_id}/shipments", headers=world.auth("operator")).json()
    start = dt.datetime.fromisoformat(shipment["legs"][0]["departs_at"])
    scans = [
        Scan("s1", "picked_up", start - dt.timedelta(minutes=30), "sg-tuas"),
        Scan("s2", "at_hub", start + dt.timedelta(hours=2), "hub-sg"),
        Scan("s3", "out_for_delivery", start + dt.timedelta(hours=3), "hub-sg"),
        Scan("s4", "delivered", start + dt.timedelta(hours=5), "ds-sg-central"),
    ]
    return order_id, shipment["id"], scans


def _count(world: World, model: type[TrackingEvent] | type[OutboxEvent], *where: object) -> int:
    with world.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_a_batch_from_label_to_delivered_moves_the_order_once(world: World) -> None:
    order_id, shipment_id, scans = _shipped(world)
    late = scans[-1].occurred_at + dt.timedelta(hours=1)
    with world.db.transaction() as session:
        later_half_first = tracking.record_scans(session, shipment_id, scans[2:], late)
        assert later_half_first[1] == 2 and later_half_first[0].status == "label_created"  # not allowed yet
        shipment, new = tracking.record_scans(session, shipment_id, scans[:2], late)
        assert new == 2 and shipment.status == "delivered"
        assert shipment.delivered_at == scans[-1].occurred_at
    relay_all(world, late)  # the order follows its parcel through the delivery event
    assert get_order(world.client(), world, order_id)["status"] == "delivered"
    with world.db.transaction() as session:
        _, again = tracking.record_scans(session, shipment_id, scans, late)
    assert again == 0
    assert _count(world, OutboxEvent, OutboxEvent.type == "shipment.delivered") == 1
    assert _count(world, OutboxEvent, OutboxEvent.type == "delivery.completed") == 1
    assert _count(world, OutboxEvent, OutboxEvent.type == "delivery.started") == 0  # not a step of its own
    assert _count(world, OutboxEvent, OutboxEvent.type == "order.delivered") == 1


def test_a_batch_with_one_bad_scan_stores_nothing(world: World) -> None:
    _, shipment_id, scans = _shipped(world)
    late = scans[-1].occurred_at + dt.timedelta(hours=1)
    bad = [*scans[:2], Scan("s9", "teleported", scans[1].occurred_at, "hub-sg")]
    with pytest.raises(ValidationFailed), world.db.transaction() as session:
        tracking.record_scans(session, shipment_id, bad, late)
    elsewhere = [*scans[:2], Scan("s9", "at_hub", scans[1].occurred_at, "nowhere")]
    with pytest.raises(ValidationFailed), world.db.transaction() as session:
        tracking.record_scans(session, shipment_id, elsewhere, late)
    assert _count(world, TrackingEvent) == 0


def test_a_batch_repeating_scans_stores_each_event_once(world: World) -> None:
    """A carrier's file may repeat a scan within itself and repeat scans it sent before: only the new
    event ids count and are stored, once each (on both databases, one multi-row statement)."""
    _, shipment_id, scans = _shipped(world)
    late = scans[-1].occurred_at + dt.timedelta(hours=1)
    with world.db.transaction() as session:
        _, first = tracking.record_scans(session, shipment_id, [scans[0], scans[0]], late)
    assert first == 1
    with world.db.transaction() as session:
        shipment, new = tracking.record_scans(session, shipment_id, [scans[0], *scans[1:3], scans[1]], late)
    assert new == 2 and shipment.status == "out_for_delivery"
    assert _count(world, TrackingEvent) == 3


def test_a_carriers_batch_stands_or_falls_whole_and_a_resend_is_no_refusal(world: World) -> None:
    """A carrier's batch is held to its legs (here every lane is carrier "test"'s): one scan out of turn
    refuses all of it, storing nothing, where an operator's would have been kept; sent in turn it is
    taken, and sent again it changes nothing and is not refused."""
    order_id, shipment_id, scans = _shipped(world)
    late = scans[-1].occurred_at + dt.timedelta(hours=1)
    events = _count(world, OutboxEvent)
    for batch in (scans[2:], [*scans[:2], scans[3]]):  # the later half first; delivered skipping a step
        with pytest.raises(tracking.ScanRefused) as refused, world.db.transaction() as session:
            tracking.record_scans(session, shipment_id, batch, late, carrier="test")
        assert (refused.value.status, refused.value.extra["reason"]) == (409, "out_of_order")
    assert (_count(world, TrackingEvent), _count(world, OutboxEvent)) == (0, events)
    with pytest.raises(tracking.ScanRefused), world.db.transaction() as session:
        tracking.record_scans(session, shipment_id, scans, late, carrier="Other Express")
    assert _count(world, TrackingEvent) == 0
    with world.db.transaction() as session:
        shipment, new = tracking.record_scans(session, shipment_id, scans, late, carrier="test")
        assert (new, shipment.status) == (4, "delivered")
    with world.db.transaction() as session:
        _, again = tracking.record_scans(session, shipment_id, [*scans, scans[0]], late, carrier="test")
    assert again == 0
    relay_all(world, late)
    assert get_order(world.client(), world, order_id)["status"] == "delivered"
