"""How emissions reacts to other contexts' events (run by the outbox relay, see entrepot.platform.outbox)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.emissions import service
from entrepot.emissions.models import ShipmentActivity
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry

BACKFILL_BATCH = 1000  # shipments recorded a statement's worth at a time (IN lists stay bounded)


def record_on_planned(session: Session, events: list[Event]) -> None:
    """Planned shipments' legs are known: store their transport chains and emissions, a relay's batch at
    a time (read together, written a table at a time). Idempotent, so a retried event records nothing
    twice; a shipment that cannot be read fails the batch, whose events the relay then takes one by one,
    so that shipment alone waits for its retry."""
    if events:
        service.record_shipments(
            session, [e.aggregate_id for e in events], max(e.occurred_at for e in events)
        )


def register(registry: HandlerRegistry) -> None:
    # a batch handler: `shipment.planned` has no other reaction, so the relay hands them over many at once
    registry.register_batch(["shipment.planned"], record_on_planned)


def backfill(session: Session, now: dt.datetime) -> int:
    """Record the shipments whose `shipment.planned` event was relayed before this handler was registered
    (the outbox keeps every event). Returns how many were recorded."""
    recorded = set(session.scalars(select(ShipmentActivity.shipment_ref)))
    planned = session.scalars(
        select(OutboxEvent.aggregate_id)
        .where(OutboxEvent.type == "shipment.planned")
        .order_by(OutboxEvent.id)
    ).all()
    missing = [ref for ref in dict.fromkeys(planned) if ref not in recorded]
    for start in range(0, len(missing), BACKFILL_BATCH):
        service.record_shipments(session, missing[start : start + BACKFILL_BATCH], now)
    return len(missing)
