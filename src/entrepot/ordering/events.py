"""How ordering reacts to other contexts' events: an order follows its parcels. Logistics announces an
order's delivery as started (a first parcel moves) and completed (its last parcel is delivered); the
relay hands those events here, many at a time, and the orders are shipped or delivered in the events'
transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from entrepot.ordering import service
from entrepot.platform.outbox import Event, HandlerRegistry

# Event types logistics records (logistics.tracking_service.DELIVERY_STARTED / DELIVERY_COMPLETED):
# named here as strings, as ordering sits below logistics and never imports it.
DELIVERY_STARTED, DELIVERY_COMPLETED = "delivery.started", "delivery.completed"
MILESTONE = {DELIVERY_STARTED: "shipped", DELIVERY_COMPLETED: "delivered"}


def follow_parcels(session: Session, events: list[Event]) -> None:
    """Each order is shipped once a parcel of it is on its way and delivered with its last parcel (steps
    not taken yet are taken); the relay hands each type its own batch, started before completed. An
    event naming an order that is not
    stored fails the batch, which the relay then retries one event at a time."""
    moves = [service.ParcelsMoved(e.aggregate_id, MILESTONE[e.type], e.occurred_at) for e in events]
    service.follow_shipping_many(session, moves)


def register(registry: HandlerRegistry) -> None:
    registry.register_batch([DELIVERY_STARTED, DELIVERY_COMPLETED], follow_parcels)
