"""How emissions reacts to other contexts' events (run by the outbox relay, see entrepot.platform.outbox)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.emissions import service
from entrepot.emissions.models import ShipmentActivity
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry


def record_on_planned(session: Session, event: Event) -> None:
    """A planned shipment's legs are known: store its transport chain and emissions. Idempotent, so a
    retried event records nothing twice; a shipment that cannot be read raises and is retried."""
    service.record_shipment(session, event.aggregate_id, event.occurred_at)


def register(registry: HandlerRegistry) -> None:
    registry.register("shipment.planned", record_on_planned)


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
    for ref in missing:
        service.record_shipment(session, ref, now)
    return len(missing)
