"""FX that never stops checkout: rates loaded after the bundled history, orders marked provisional
while their USD/CNY amounts rest on a stale rate, and the audit trail of their re-statements

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fx_published_rates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("per_eur", sa.Numeric(24, 10), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("loaded_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("per_eur > 0", name=op.f("ck_fx_published_rates_positive")),
        sa.UniqueConstraint("currency", "on", name=op.f("uq_fx_published_rates_currency_on")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_published_rates")),
    )
    op.create_index(op.f("ix_fx_published_rates_loaded_at"), "fx_published_rates", ["loaded_at"])
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(
            sa.Column("fx_provisional", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_index(
        "ix_orders_fx_provisional",
        "orders",
        ["currency", "order_date"],
        postgresql_where=sa.text("fx_provisional"),
        sqlite_where=sa.text("fx_provisional"),
    )
    op.create_table(
        "fx_restatements",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("old_rate_date", sa.Date(), nullable=False),
        sa.Column("new_rate_date", sa.Date(), nullable=False),
        sa.Column("old_usd_rate", sa.Numeric(24, 10), nullable=False),
        sa.Column("new_usd_rate", sa.Numeric(24, 10), nullable=False),
        sa.Column("old_cny_rate", sa.Numeric(24, 10), nullable=False),
        sa.Column("new_cny_rate", sa.Numeric(24, 10), nullable=False),
        sa.Column("old_total_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("new_total_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("old_total_cny_minor", sa.BigInteger(), nullable=False),
        sa.Column("new_total_cny_minor", sa.BigInteger(), nullable=False),
        sa.Column("restated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fx_restatements_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_restatements")),
    )
    op.create_index(op.f("ix_fx_restatements_order_id"), "fx_restatements", ["order_id"])


def downgrade() -> None:
    op.drop_table("fx_restatements")
    op.drop_index("ix_orders_fx_provisional", table_name="orders")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("fx_provisional")
    op.drop_table("fx_published_rates")
