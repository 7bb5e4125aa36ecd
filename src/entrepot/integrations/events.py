"""From the outbox to the delivery queue: the relay's handler for every event type one may subscribe to.

It runs in the event's own transaction (platform.outbox) and only writes delivery rows for the active
subscriptions that want the event, so they commit with the event's "published" mark or not at all: no
event is lost between the outbox and the queue, and none is queued twice. The HTTP is the delivery
worker's (integrations.worker): a slow or dead receiver never holds the relay.

Whose event it is: an operator's subscription hears every event of its types; a seller's only the
events whose aggregate is the seller's, as the owning context answers it (an order's seller from
ordering, a shipment's from logistics, a flash sale's or flash order's from campaigns): never by
reading their tables.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash import settlement as flash_orders
from entrepot.integrations import domain
from entrepot.integrations.models import WebhookDelivery, WebhookSubscription, WebhookSubscriptionEvent
from entrepot.kernel.errors import NotFound
from entrepot.kernel.ids import new_id
from entrepot.logistics import tracking_service as shipments
from entrepot.ordering import queries as orders
from entrepot.platform.db import insert_many, table_of
from entrepot.platform.outbox import Event, HandlerRegistry
from entrepot.platform.principal import Principal

_DELIVERIES = table_of(WebhookDelivery)
# Asked whether this seller owns the event's aggregate: True, False, or raises NotFound (no such thing).
Owns = Callable[[Session, str, int], bool]


def _owns_order(session: Session, ref: str, seller_id: int) -> bool:
    return orders.order_by_ref(session, ref).seller_id == seller_id


def _owns_shipment(session: Session, ref: str, seller_id: int) -> bool:
    return shipments.get_shipment(session, ref).seller_id == seller_id


def _owns_sale(session: Session, ref: str, seller_id: int) -> bool:
    return flash.get_sale(session, ref).seller_id == seller_id


def _owns_flash_order(session: Session, ref: str, seller_id: int) -> bool:
    # campaigns says whose a flash order is through its own rule: a seller sees its sales' orders
    as_seller = Principal(role="seller", key_id="integrations", seller_id=seller_id)
    flash_orders.get_flash_order(session, as_seller, ref)
    return True


def owner_check(event_type: str) -> Owns | None:
    if event_type in domain.ORDER_EVENTS:
        return _owns_order
    if event_type in domain.SHIPMENT_EVENTS:
        return _owns_shipment
    if event_type in domain.FLASH_SALE_EVENTS:
        return _owns_sale
    if event_type in domain.FLASH_ORDER_EVENTS:
        return _owns_flash_order
    return None  # the group's own events: no seller hears them


def _owned(session: Session, event: Event, seller_id: int) -> bool:
    check = owner_check(event.type)
    if check is None:
        return False
    try:
        return check(session, event.aggregate_id, seller_id)
    except NotFound:  # not this seller's (or gone): the seller is not told
        return False


def subscriptions_by_type(session: Session, types: set[str]) -> dict[str, list[tuple[int, int | None]]]:
    """The active subscriptions (id, seller) of each of these types, oldest first: one query a batch."""
    rows = session.execute(
        select(WebhookSubscriptionEvent.event_type, WebhookSubscription.id, WebhookSubscription.seller_id)
        .join(WebhookSubscription, WebhookSubscriptionEvent.subscription_id == WebhookSubscription.id)
        .where(WebhookSubscriptionEvent.event_type.in_(sorted(types)), WebhookSubscription.status == "active")
        .order_by(WebhookSubscription.id)
    ).all()
    found: dict[str, list[tuple[int, int | None]]] = {}
    for event_type, subscription_id, seller_id in rows:
        found.setdefault(event_type, []).append((subscription_id, seller_id))
    return found


def subscribers(session: Session, event: Event, subscriptions: list[tuple[int, int | None]]) -> list[int]:
    """Those of `subscriptions` this event goes to: an operator's, and its own seller's."""
    verdicts: dict[int, bool] = {}  # one question per seller, however many subscriptions it has
    chosen = []
    for subscription_id, seller_id in subscriptions:
        if seller_id is not None and seller_id not in verdicts:
            verdicts[seller_id] = _owned(session, event, seller_id)
        if seller_id is None or verdicts[seller_id]:
            chosen.append(subscription_id)
    return chosen


def enqueue(session: Session, events: list[Event]) -> None:
    """Queue one delivery per subscription that wants each event, in the relay's transaction: one
    statement for the batch (on PostgreSQL an executemany sent a statement per delivery, and the relay fell
    seconds behind 300 events a second to five subscriptions on a busy machine)."""
    wanted = subscriptions_by_type(session, {event.type for event in events})
    rows = []
    for event in events:
        chosen = subscribers(session, event, wanted[event.type]) if event.type in wanted else []
        body = _body(event) if chosen else ""  # the same bytes to every subscriber: made once
        rows += [_delivery_row(event, body, subscription_id) for subscription_id in chosen]
    insert_many(session, _DELIVERIES, rows)


def _body(event: Event) -> str:
    return domain.message_body(event.type, event.id, event.aggregate_id, event.payload, event.occurred_at)


def _delivery_row(event: Event, body: str, subscription_id: int) -> dict[str, object]:
    return {
        "public_id": new_id("whdel"),
        "subscription_id": subscription_id,
        "message_id": event.id,
        "event_type": event.type,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "occurred_at": event.occurred_at,
        "request_id": event.request_id,
    }


def register(registry: HandlerRegistry) -> None:
    """Every event type one may subscribe to goes through `enqueue`, many events at once (the relay's
    batch handlers: an event no subscription wants costs a share of one indexed query)."""
    registry.register_batch(sorted(domain.EVENT_TYPES), enqueue)
