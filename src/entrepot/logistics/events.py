"""How logistics reacts to other contexts' events (run by the outbox relay, see entrepot.platform.outbox)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.kernel.fx import FxRates
from entrepot.logistics import service
from entrepot.logistics.models import NetworkNode
from entrepot.platform.outbox import Event, HandlerRegistry

log = logging.getLogger("entrepot.logistics")


def plan_shipments_on_paid(session: Session, event: Event, fx: FxRates) -> None:
    """A paid order becomes one booked shipment per warehouse it was allocated from, ready from the
    moment it was paid. A deployment without a logistics network ships nothing (and says so); a network
    that cannot serve the order raises, so the event is retried and, if it keeps failing, shows as dead
    in GET /api/v1/events?state=dead for an operator to look at."""
    if not session.scalar(select(func.count()).select_from(NetworkNode)):
        log.info("no logistics network: %s is not shipped", event.aggregate_id)
        return
    service.explained(
        lambda: service.plan_order_shipments(session, event.aggregate_id, event.occurred_at, fx)
    )


def register(registry: HandlerRegistry, fx: FxRates) -> None:
    """`fx`: the rates cross-border parcels' declared values are converted with (the app's)."""

    def on_paid(session: Session, event: Event) -> None:
        plan_shipments_on_paid(session, event, fx)

    registry.register("order.paid", on_paid)
