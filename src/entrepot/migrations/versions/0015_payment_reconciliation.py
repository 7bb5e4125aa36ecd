"""Payments that reconcile: the simulated provider's ledger, and an index on the payments still pending

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00

The provider answers status queries from its ledger (see entrepot.ordering.payments for why it keeps one
rather than deciding again), so that a payment whose webhook went to a dead server can still be settled.
Reconciliation reads the pending payments every round: the partial index keeps that to the few pending.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "provider_ledger",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("payment_ref", sa.String(40), nullable=False),
        sa.Column("order_ref", sa.String(40), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("decline_reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_ledger")),
        sa.UniqueConstraint("payment_ref", name=op.f("uq_provider_ledger_payment_ref")),
    )
    op.create_index(
        "ix_payments_pending", "payments", ["created_at"], postgresql_where=PENDING, sqlite_where=PENDING
    )


def downgrade() -> None:
    op.drop_index("ix_payments_pending", table_name="payments")
    op.drop_table("provider_ledger")
