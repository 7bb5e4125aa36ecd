"""How emissions reacts to other contexts' events (run by the outbox relay, see entrepot.outbox)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from entrepot.emissions import service
from entrepot.outbox import Event, HandlerRegistry


def record_on_planned(session: Session, event: Event) -> None:
    """A planned shipment's legs are known: store its transport chain and emissions. Idempotent, so a
    retried event records nothing twice; a shipment that cannot be read raises and is retried."""
    service.record_shipment(session, event.aggregate_id, event.occurred_at)


def register(registry: HandlerRegistry) -> None:
    registry.register("shipment.planned", record_on_planned)
