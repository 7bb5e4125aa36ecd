"""How ordering reacts to other contexts' events: an order follows its parcels. Logistics announces an
order's delivery as started (a first parcel moves) and completed (its last parcel is delivered); the
relay hands those events here, and the order is shipped or delivered in the event's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from entrepot.ordering import service
from entrepot.platform.outbox import Event, HandlerRegistry

# Event types logistics records (logistics.tracking_service.DELIVERY_STARTED / DELIVERY_COMPLETED):
# named here as strings, as ordering sits below logistics and never imports it.
DELIVERY_STARTED, DELIVERY_COMPLETED = "delivery.started", "delivery.completed"


def ship_on_delivery_started(session: Session, event: Event) -> None:
    """The order is shipped once a parcel of it is on its way (steps not taken yet are taken)."""
    service.follow_shipping(session, event.aggregate_id, "shipped", event.occurred_at)


def deliver_on_delivery_completed(session: Session, event: Event) -> None:
    """The order is delivered with its last parcel."""
    service.follow_shipping(session, event.aggregate_id, "delivered", event.occurred_at)


def register(registry: HandlerRegistry) -> None:
    registry.register(DELIVERY_STARTED, ship_on_delivery_started)
    registry.register(DELIVERY_COMPLETED, deliver_on_delivery_completed)
