"""outbound webhooks: subscriptions, their event types, and deliveries (queue and log)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 02:00:00

Standard Webhooks subscriptions by operators (any event) and sellers (their own orders, flash sales and
shipments), filled from the outbox by the relay and sent by the delivery workers (entrepot.integrations).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("seller_id", BigId, nullable=True),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_until", UtcDateTime, nullable=True),
        sa.Column("failing_since", UtcDateTime, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("disabled_at", UtcDateTime, nullable=True),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("leased_by", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("status IN ('active','disabled')", name=op.f("ck_webhook_subscriptions_status")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_webhook_subscriptions_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_subscriptions_public_id")),
    )
    op.create_index(op.f("ix_webhook_subscriptions_seller_id"), "webhook_subscriptions", ["seller_id"])
    op.create_table(
        "webhook_subscription_events",
        sa.Column("subscription_id", BigId, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_subscription_events_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "event_type", name=op.f("pk_webhook_subscription_events")),
    )
    op.create_index(
        op.f("ix_webhook_subscription_events_event_type"), "webhook_subscription_events", ["event_type"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("subscription_id", BigId, nullable=False),
        sa.Column("message_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=True),
        sa.Column("last_attempt_at", UtcDateTime, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_ms", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("replay_of", sa.String(40), nullable=True),
        sa.Column("occurred_at", UtcDateTime, nullable=False),
        sa.Column("delivered_at", UtcDateTime, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','delivered','failed')", name=op.f("ck_webhook_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_deliveries_public_id")),
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_occurred",
        "webhook_deliveries",
        ["subscription_id", "occurred_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["subscription_id", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_subscription_occurred", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhook_subscription_events_event_type"), table_name="webhook_subscription_events")
    op.drop_table("webhook_subscription_events")
    op.drop_index(op.f("ix_webhook_subscriptions_seller_id"), table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
