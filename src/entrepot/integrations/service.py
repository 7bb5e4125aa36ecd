"""Use cases of outbound webhooks: subscriptions (made, listed, rotated, enabled, deleted), their delivery
log and replays. Operators see every subscription; a seller only its own, and another seller's is
answered as no subscription at all. Buyers and carriers have none."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.integrations import domain
from entrepot.integrations.models import WebhookDelivery, WebhookSubscription, WebhookSubscriptionEvent
from entrepot.kernel.errors import Conflict, FieldError, ValidationFailed, not_found
from entrepot.kernel.ids import new_id
from entrepot.platform import audit
from entrepot.platform.db import by_public_id
from entrepot.platform.principal import Principal

SUBSCRIPTION_PREFIX, DELIVERY_PREFIX = "whsub", "whdel"
MAX_REPLAY = 10_000  # deliveries one time-range replay may queue


@dataclass(frozen=True)
class NewSubscription:
    url: str
    event_types: Sequence[str]
    description: str = ""


@dataclass(frozen=True)
class Made:
    """A subscription and its secret, which is shown this once."""

    subscription: WebhookSubscription
    secret: str


def _secret() -> str:
    return domain.new_secret(os.urandom(domain.SECRET_BYTES))


def create_subscription(
    session: Session, principal: Principal, spec: NewSubscription, allow_private: bool, now: dt.datetime
) -> Made:
    principal.require("operator", "seller")
    errors: list[FieldError] = []
    url, types = "", []
    try:
        url = domain.check_url(spec.url, allow_private)
    except ValidationFailed as exc:
        errors += exc.field_errors
    try:
        types = domain.check_event_types(spec.event_types, principal.is_operator)
    except ValidationFailed as exc:
        errors += exc.field_errors
    if errors:  # every problem at once, and nothing written
        raise ValidationFailed("invalid webhook subscription", errors)
    secret = _secret()
    row = WebhookSubscription(
        public_id=new_id(SUBSCRIPTION_PREFIX),
        seller_id=None if principal.is_operator else principal.seller_id,
        created_by=principal.key_id,
        url=url,
        description=spec.description,
        status="active",
        secret=secret,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(WebhookSubscriptionEvent(subscription_id=row.id, event_type=t) for t in types)
    after = {"url": url, "description": spec.description, "event_types": types, "status": "active"}
    audit.record(session, "webhook_subscription.created", row.public_id, None, after, now)
    return Made(row, secret)


def _mine(principal: Principal) -> ColumnElement[bool] | None:
    """A seller's subscriptions are those it made for itself; an operator's view is every one."""
    principal.require("operator", "seller")
    return None if principal.is_operator else WebhookSubscription.seller_id == principal.seller_id


def get_subscription(
    session: Session, principal: Principal, public_id: str, lock: bool = False
) -> WebhookSubscription:
    where = _mine(principal)
    return by_public_id(
        session, WebhookSubscription, public_id, "webhook subscription", lock=lock, where=where
    )


def list_subscriptions(
    session: Session, principal: Principal, after: int | None, limit: int
) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit)
    where = _mine(principal)
    if where is not None:
        query = query.where(where)
    if after is not None:
        query = query.where(WebhookSubscription.id > after)
    return list(session.scalars(query))


def event_types_of(session: Session, subscription_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in subscription_ids}
    rows = session.execute(
        select(WebhookSubscriptionEvent.subscription_id, WebhookSubscriptionEvent.event_type)
        .where(WebhookSubscriptionEvent.subscription_id.in_(subscription_ids))
        .order_by(WebhookSubscriptionEvent.event_type)
    )
    for subscription_id, event_type in rows:
        found[subscription_id].append(event_type)
    return found


def rotate_secret(
    session: Session, principal: Principal, public_id: str, overlap: dt.timedelta, now: dt.datetime
) -> Made:
    """A new secret signs from now; the old one signs too until `overlap` has passed, so a receiver has
    time to switch (each message carries both signatures meanwhile). Rotating again in the window retires
    the oldest at once: at most two secrets ever sign."""
    row = get_subscription(session, principal, public_id, lock=True)
    secret = _secret()
    row.previous_secret, row.previous_secret_until = row.secret, now + overlap
    row.secret, row.updated_at = secret, now
    # that it was rotated and until when the old one signs; never a secret
    after = {"previous_secret_until": row.previous_secret_until}
    audit.record(session, "webhook_subscription.rotated", row.public_id, None, after, now)
    return Made(row, secret)


def enable(session: Session, principal: Principal, public_id: str, now: dt.datetime) -> WebhookSubscription:
    """Deliver again to an endpoint disabled after its failures (its waiting deliveries go out now)."""
    row = get_subscription(session, principal, public_id, lock=True)
    before = {"status": row.status}
    audit.record(session, "webhook_subscription.enabled", row.public_id, before, {"status": "active"}, now)
    row.status, row.disabled_at, row.disabled_reason = "active", None, None
    row.failing_since, row.consecutive_failures, row.updated_at = None, 0, now
    return row


def disable(session: Session, principal: Principal, public_id: str, now: dt.datetime) -> WebhookSubscription:
    row = get_subscription(session, principal, public_id, lock=True)
    before = {"status": row.status}
    audit.record(session, "webhook_subscription.disabled", row.public_id, before, {"status": "disabled"}, now)
    row.status, row.disabled_at, row.disabled_reason, row.updated_at = (
        "disabled",
        now,
        "disabled by hand",
        now,
    )
    return row


def delete_subscription(session: Session, principal: Principal, public_id: str) -> None:
    row = get_subscription(session, principal, public_id, lock=True)
    before = {"url": row.url, "description": row.description, "status": row.status}
    audit.record(session, "webhook_subscription.deleted", row.public_id, before, None)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id))
    session.execute(
        delete(WebhookSubscriptionEvent).where(WebhookSubscriptionEvent.subscription_id == row.id)
    )
    session.delete(row)


# --- the delivery log and replays -------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def list_deliveries(
    session: Session,
    principal: Principal,
    subscription_id: str,
    filters: DeliveryFilter,
    after: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first (keyset on the id, which grows with time)."""
    sub = get_subscription(session, principal, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if filters.status:
        query = query.where(WebhookDelivery.status == filters.status)
    if filters.since is not None:
        query = query.where(WebhookDelivery.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(WebhookDelivery.occurred_at < filters.until)
    if after is not None:
        query = query.where(WebhookDelivery.id < after)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def get_delivery(
    session: Session, principal: Principal, public_id: str
) -> tuple[WebhookDelivery, WebhookSubscription]:
    row = by_public_id(session, WebhookDelivery, public_id, "webhook delivery")
    sub = session.get(WebhookSubscription, row.subscription_id)
    if sub is None or not principal.sees(seller_id=sub.seller_id):
        raise not_found("webhook delivery", public_id)
    return row, sub


def replay_delivery(
    session: Session, principal: Principal, public_id: str, now: dt.datetime
) -> WebhookDelivery:
    """Send a delivery again: a new delivery with the same message id and body (the receiver may know it
    already: the webhook-id says so), due at once."""
    principal.require("operator", "seller")
    original, sub = get_delivery(session, principal, public_id)
    _require_active(sub)
    return _queue_again(session, original, now)


def replay_range(
    session: Session,
    principal: Principal,
    subscription_id: str,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> int:
    """Send again every delivery of the subscription whose event happened in [since, until) and that is
    not waiting already (originals only: a replay of a replay would double it); how many were queued."""
    if until <= since:
        raise ValidationFailed("an empty time range", [FieldError("until", "must be after since")])
    sub = get_subscription(session, principal, subscription_id)
    _require_active(sub)
    originals = list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == sub.id,
                WebhookDelivery.occurred_at >= since,
                WebhookDelivery.occurred_at < until,
                WebhookDelivery.replay_of.is_(None),
                WebhookDelivery.status != "pending",
            )
            .order_by(WebhookDelivery.id)
            .limit(MAX_REPLAY + 1)
        )
    )
    if len(originals) > MAX_REPLAY:
        raise ValidationFailed(
            f"more than {MAX_REPLAY} deliveries in that range", [FieldError("since", "narrow the range")]
        )
    for original in originals:
        _queue_again(session, original, now)
    return len(originals)


def _require_active(sub: WebhookSubscription) -> None:
    if sub.status != "active":
        raise Conflict(f"webhook subscription {sub.public_id} is disabled: enable it first")


def _queue_again(session: Session, original: WebhookDelivery, now: dt.datetime) -> WebhookDelivery:
    again = WebhookDelivery(
        public_id=new_id(DELIVERY_PREFIX),
        subscription_id=original.subscription_id,
        message_id=original.message_id,
        event_type=original.event_type,
        body=original.body,
        status="pending",
        attempts=0,
        replay_of=original.public_id,
        occurred_at=original.occurred_at,
        request_id=original.request_id,
    )
    session.add(again)
    session.flush()
    return again


def seller_refs(session: Session, subs: Sequence[WebhookSubscription]) -> dict[int, str | None]:
    """The public id of each subscription's seller (None for an operator's), catalog answering."""
    ids = [s.id for s in subs if s.seller_id is not None]
    found: dict[int, str | None] = {s.id: None for s in subs}
    if ids:
        query = select(WebhookSubscription.id, catalog.seller_public_id(WebhookSubscription.seller_id))
        rows = session.execute(query.where(WebhookSubscription.id.in_(ids)))
        found.update({subscription_id: seller for subscription_id, seller in rows})
    return found
