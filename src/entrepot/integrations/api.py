"""Routes of outbound webhooks: subscriptions, their delivery log, replays and secret rotation. For
operators (any event) and sellers (their own orders, flash sales and shipments); another seller's
subscription or delivery is a 404, a buyer's or carrier's key a 403."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from entrepot.integrations import service
from entrepot.integrations.models import WebhookDelivery, WebhookSubscription
from entrepot.integrations.schemas import (
    DeliveryOut,
    ReplayedOut,
    ReplayRangeIn,
    RotateIn,
    SecretOut,
    SubscriptionIn,
    SubscriptionOut,
)
from entrepot.integrations.settings import settings_of as webhook_settings
from entrepot.platform.deps import Caller, Ctx, Paging, next_cursor
from entrepot.platform.schemas import IdPath, ListPage, TimeQuery

router = APIRouter(tags=["webhooks"])


def subscription_out(sub: WebhookSubscription, types: list[str], seller: str | None) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.public_id,
        url=sub.url,
        event_types=types,
        description=sub.description,
        status=sub.status,  # type: ignore[arg-type]
        seller=seller,
        rotating_until=sub.previous_secret_until if sub.previous_secret else None,
        failing_since=sub.failing_since,
        disabled_at=sub.disabled_at,
        disabled_reason=sub.disabled_reason,
        created_at=sub.created_at,
    )


def _out(session: Session, sub: WebhookSubscription) -> SubscriptionOut:
    types = service.event_types_of(session, [sub.id])[sub.id]
    return subscription_out(sub, types, service.seller_refs(session, [sub])[sub.id])


def _with_secret(session: Session, made: service.Made) -> SecretOut:
    return SecretOut(**_out(session, made.subscription).model_dump(), secret=made.secret)


def delivery_out(row: WebhookDelivery, subscription: str) -> DeliveryOut:
    return DeliveryOut(
        id=row.public_id,
        subscription=subscription,
        webhook_id=row.message_id,
        event_type=row.event_type,
        status=row.status,  # type: ignore[arg-type]
        attempts=row.attempts,
        occurred_at=row.occurred_at,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        response_status=row.response_status,
        response_ms=row.response_ms,
        response_excerpt=row.response_excerpt,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        replay_of=row.replay_of,
        request_id=row.request_id,
    )


@router.post("/webhooks/subscriptions", status_code=201, response_model=SecretOut)
def create_subscription(body: SubscriptionIn, ctx: Ctx, principal: Caller) -> SecretOut:
    """Subscribe an endpoint to event types. The answer holds the signing secret, shown this once."""
    spec = service.NewSubscription(body.url, body.event_types, body.description)
    allow_private = webhook_settings(ctx).allow_private
    with ctx.db.transaction() as session:
        made = service.create_subscription(session, principal, spec, allow_private, ctx.clock())
        return _with_secret(session, made)


@router.get("/webhooks/subscriptions", response_model=ListPage[SubscriptionOut])
def list_subscriptions(ctx: Ctx, principal: Caller, paging: Paging) -> ListPage[SubscriptionOut]:
    with ctx.db.transaction() as session:
        subs = service.list_subscriptions(session, principal, paging.after, paging.limit)
        types = service.event_types_of(session, [s.id for s in subs])
        sellers = service.seller_refs(session, subs)
        items = [subscription_out(s, types[s.id], sellers[s.id]) for s in subs]
        return ListPage(items=items, next_cursor=next_cursor([s.id for s in subs], paging.limit))


@router.get("/webhooks/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(subscription_id: IdPath, ctx: Ctx, principal: Caller) -> SubscriptionOut:
    with ctx.db.transaction() as session:
        return _out(session, service.get_subscription(session, principal, subscription_id))


@router.delete("/webhooks/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: IdPath, ctx: Ctx, principal: Caller) -> Response:
    """Delete the subscription and its delivery log; deliveries not sent yet are dropped."""
    with ctx.db.transaction() as session:
        service.delete_subscription(session, principal, subscription_id)
    return Response(status_code=204)


@router.post("/webhooks/subscriptions/{subscription_id}/rotate", response_model=SecretOut)
def rotate_secret(
    subscription_id: IdPath, ctx: Ctx, principal: Caller, body: RotateIn | None = None
) -> SecretOut:
    """A new secret signs from now; the old one signs as well (a second signature in the header) until
    the overlap ends. The answer holds the new secret, shown this once."""
    seconds = body.overlap_seconds if body and body.overlap_seconds is not None else None
    overlap = dt.timedelta(
        seconds=seconds if seconds is not None else webhook_settings(ctx).rotation_overlap_seconds
    )
    with ctx.db.transaction() as session:
        made = service.rotate_secret(session, principal, subscription_id, overlap, ctx.clock())
        return _with_secret(session, made)


@router.post("/webhooks/subscriptions/{subscription_id}/enable", response_model=SubscriptionOut)
def enable(subscription_id: IdPath, ctx: Ctx, principal: Caller) -> SubscriptionOut:
    """Deliver again to an endpoint that was disabled (by hand or after its failures)."""
    with ctx.db.transaction() as session:
        return _out(session, service.enable(session, principal, subscription_id, ctx.clock()))


@router.post("/webhooks/subscriptions/{subscription_id}/disable", response_model=SubscriptionOut)
def disable(subscription_id: IdPath, ctx: Ctx, principal: Caller) -> SubscriptionOut:
    """Stop delivering; events meanwhile are not queued for it (replay a time range after enabling)."""
    with ctx.db.transaction() as session:
        return _out(session, service.disable(session, principal, subscription_id, ctx.clock()))


@router.get("/webhooks/subscriptions/{subscription_id}/deliveries", response_model=ListPage[DeliveryOut])
def list_deliveries(
    subscription_id: IdPath,
    ctx: Ctx,
    principal: Caller,
    paging: Paging,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    since: TimeQuery | None = None,
    until: TimeQuery | None = None,
) -> ListPage[DeliveryOut]:
    """The delivery log, newest first: status, attempts, the last response's code, time and opening."""
    filters = service.DeliveryFilter(status, since, until)
    with ctx.db.transaction() as session:
        rows = service.list_deliveries(
            session, principal, subscription_id, filters, paging.after, paging.limit
        )
        items = [delivery_out(r, subscription_id) for r in rows]
        return ListPage(items=items, next_cursor=next_cursor([r.id for r in rows], paging.limit))


@router.get("/webhooks/deliveries/{delivery_id}", response_model=DeliveryOut)
def get_delivery(delivery_id: IdPath, ctx: Ctx, principal: Caller) -> DeliveryOut:
    with ctx.db.transaction() as session:
        row, sub = service.get_delivery(session, principal, delivery_id)
        return delivery_out(row, sub.public_id)


@router.post("/webhooks/deliveries/{delivery_id}/replay", status_code=201, response_model=DeliveryOut)
def replay_delivery(delivery_id: IdPath, ctx: Ctx, principal: Caller) -> DeliveryOut:
    """Send a delivery again (same webhook-id and body), as a new delivery due now."""
    with ctx.db.transaction() as session:
        row = service.replay_delivery(session, principal, delivery_id, ctx.clock())
        _, sub = service.get_delivery(session, principal, row.public_id)
        return delivery_out(row, sub.public_id)


@router.post("/webhooks/subscriptions/{subscription_id}/replay", response_model=ReplayedOut)
def replay_range(subscription_id: IdPath, body: ReplayRangeIn, ctx: Ctx, principal: Caller) -> ReplayedOut:
    """Send again every delivery whose event happened in [since, until)."""
    with ctx.db.transaction() as session:
        queued = service.replay_range(
            session, principal, subscription_id, body.since, body.until, ctx.clock()
        )
        return ReplayedOut(queued=queued)
