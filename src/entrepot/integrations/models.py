"""Tables of outbound webhooks: subscriptions, the event types each wants, and deliveries (the queue and
the delivery log in one: a delivery row is waiting, delivered or failed, with its last attempt's facts).

The signing secrets are kept as typed (`whsec_...`), not hashed: a secret is a signing key, and an HMAC
needs the key itself, where a password only needs to be recognised. They are protected as the database
is (its access rights, its encrypted backups), shown once when made or rotated, never listed, never
logged (the ORM's repr names no column) and never sent in a delivery.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime

SUBSCRIPTION_STATUSES = ("active", "disabled")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
_PENDING = "status = 'pending'"


class WebhookSubscription(Base):
    """An endpoint and what it wants. `seller_id` is the seller whose own events it hears (None: an
    operator's, which may hear any). While a worker sends its deliveries it holds the lease
    (`leased_by` until `lease_until`), so one worker at a time sends to an endpoint, in order."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(40))  # the key that made it
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    secret: Mapped[str] = mapped_column(String(100))  # see the module's note
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    failing_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # every attempt failed since
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("status IN ('active','disabled')", name="status"),)

    def __repr__(self) -> str:  # never the secrets
        return f"WebhookSubscription({self.public_id})"


class WebhookSubscriptionEvent(Base):
    """One event type a subscription wants: the relay's handler finds the subscriptions of a type here."""

    __tablename__ = "webhook_subscription_events"
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class WebhookDelivery(Base):
    """One message to one subscription. `message_id` is the `webhook-id` header: the event's id, the same
    on every attempt and on a replay, so a receiver can drop what it already has."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent (UTF-8)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(500))
    replay_of: Mapped[str | None] = mapped_column(String(40))  # the delivery replayed, for the log
    # the request that recorded the event (sent as `entrepot-request-id`): a change followed end to end
    request_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the event's time (replays: the replay's)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("status IN ('pending','delivered','failed')", name="status"),
        # the delivery log of a subscription, newest first, and its replay of a time range
        Index("ix_webhook_deliveries_subscription_occurred", "subscription_id", "occurred_at"),
        # the workers' queue: small whatever the log's length
        Index(
            "ix_webhook_deliveries_pending",
            "subscription_id",
            "id",
            sqlite_where=text(_PENDING),
            postgresql_where=text(_PENDING),
        ),
    )
