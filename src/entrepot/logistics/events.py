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
    """One paid order's shipments: `plan_shipments_on_paid_batch` of one."""
    plan_shipments_on_paid_batch(session, [event], fx)


def plan_shipments_on_paid_batch(session: Session, events: list[Event], fx: FxRates) -> None:
    """Paid orders become one booked shipment per warehouse each was allocated from, ready from the
    moment it was paid. A deployment without a logistics network ships nothing (and says so); an order
    the network cannot serve raises, failing the batch, whose events the relay then takes one by one: that
    order alone is retried and, if it keeps failing, shows as dead in GET /api/v1/events?state=dead for an
    operator to look at."""
    if not events:
        return
    if not session.scalar(select(func.count()).select_from(NetworkNode)):
        log.info("no logistics network: %s not shipped", ", ".join(e.aggregate_id for e in events))
        return
    paid = [(e.aggregate_id, e.occurred_at) for e in events]
    service.explained(lambda: service.plan_paid_orders(session, paid, fx))


def register(registry: HandlerRegistry, fx: FxRates) -> None:
    """`fx`: the rates cross-border parcels' declared values are converted with (the app's)."""

    def on_paid(session: Session, events: list[Event]) -> None:
        plan_shipments_on_paid_batch(session, events, fx)

    # a batch handler: order.paid's other reaction (webhooks) is one too, so the relay takes them many at once
    registry.register_batch(["order.paid"], on_paid)
