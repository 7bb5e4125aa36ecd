"""Many posts of scans in one go (tracking_service.record_scan_files, as the demo's carriers post a day's
files): the same scans, statuses, ETAs and events as posting them one by one with record_scans, and a
refused file stores nothing while the files after it go on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.logistics import tracking_service as tracking
from entrepot.logistics.models import Shipment, TrackingEvent
from entrepot.logistics.tracking import Scan
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import API, basket, place
from tests.integration.test_scan_batches import _shipped
from tests.world import World


class Undo(Exception):
    """Raised to roll a transaction back after reading what it wrote."""


def two_parcels(world: World) -> list[tuple[str, list[Scan]]]:
    """Two shipped orders from Tuas and each parcel's scans (the second's ids made its own)."""
    _, first, scans = _shipped(world)
    client = world.client()
    placed = place(client, world, {**basket(world, ("seller_a_red", 1)), "payment_method": "card"})
    headers = world.auth("operator")
    [second] = client.post(f"{API}/orders/{placed.json()['id']}/shipments", headers=headers).json()
    return [
        (first, scans),
        (second["id"], [dataclasses.replace(s, event_id=f"b{s.event_id}") for s in scans]),
    ]


def files_of(parcels: list[tuple[str, list[Scan]]]) -> list[tracking.ScanFile]:
    """Each parcel's later half first (not allowed yet: kept, not applied), an intruder's file (refused),
    the earlier half, then everything again (repeats: nothing new)."""
    files = []
    for ref, scans in parcels:
        intruding = Scan(f"x-{ref}", "picked_up", scans[0].occurred_at, "sg-tuas")
        files += [
            tracking.ScanFile(ref, scans[2:]),
            tracking.ScanFile(ref, [intruding], "intruder"),
            tracking.ScanFile(ref, scans[:2]),
            tracking.ScanFile(ref, scans),
        ]
    return files


def state(session: Session, refs: list[str]) -> Any:
    shipments = session.scalars(select(Shipment).where(Shipment.public_id.in_(refs)).order_by(Shipment.id))
    scans = session.execute(
        select(
            TrackingEvent.event_id, TrackingEvent.type, TrackingEvent.occurred_at, TrackingEvent.received_at
        ).order_by(TrackingEvent.event_id)
    ).all()
    events = session.execute(
        select(OutboxEvent.type, OutboxEvent.aggregate_id, OutboxEvent.payload)
        .where(OutboxEvent.type.in_(["shipment.delivered", "delivery.completed", "delivery.started"]))
        .order_by(OutboxEvent.aggregate_id, OutboxEvent.type)
    ).all()
    return (
        [(s.status, s.delivered_at, s.eta, s.updated_at) for s in shipments],
        [tuple(r) for r in scans],
        [tuple(r) for r in events],
    )


def test_files_in_one_go_do_what_they_do_one_by_one(world: World) -> None:
    parcels = two_parcels(world)
    refs = [ref for ref, _ in parcels]
    late = max(s.occurred_at for _, scans in parcels for s in scans) + dt.timedelta(hours=1)
    outcomes: list[object] = []
    try:
        with world.db.transaction() as session:
            for file in files_of(parcels):
                try:
                    outcomes.append(
                        tracking.record_scans(session, file.shipment, file.scans, late, file.carrier)[1]
                    )
                except tracking.ScanRefused as refused:
                    outcomes.append(refused.extra["reason"])
            session.flush()
            one_by_one = state(session, refs)
            raise Undo
    except Undo:
        pass
    with world.db.transaction() as session:
        together = tracking.record_scan_files(session, files_of(parcels), late)
        session.flush()
        assert state(session, refs) == one_by_one
    assert [o if isinstance(o, int) else o.extra["reason"] for o in together.outcomes] == outcomes
    assert outcomes[:4] == [2, outcomes[1], 2, 0] and isinstance(outcomes[1], str)  # the intruder's refused
    assert [s[0] for s in one_by_one[0]] == ["delivered", "delivered"]
    assert not any(event_id.startswith("x-") for event_id, *_ in one_by_one[1])
