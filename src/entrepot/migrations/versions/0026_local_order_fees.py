"""local services: an on-demand order's delivery fee and its store's commission, fixed at placement

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 15:35:00

The buyer pays the goods (`total_minor`) plus a delivery fee quoted at placement; the store pays a
commission on the goods at its kind's rate, kept as the rate and the amount so a later rate change never
restates an order. All in the order's currency's minor units. Orders placed before this migration had no
fee and no commission: they get 0 (and a rate of 0), which is what they were charged, so the revenue
report counts nothing for them rather than an invented figure.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("local_orders") as batch:
        batch.add_column(sa.Column("delivery_fee_minor", BigId, nullable=False, server_default="0"))
        batch.add_column(sa.Column("commission_rate", sa.Numeric(6, 4), nullable=False, server_default="0"))
        batch.add_column(sa.Column("commission_minor", BigId, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("local_orders") as batch:
        batch.drop_column("commission_minor")
        batch.drop_column("commission_rate")
        batch.drop_column("delivery_fee_minor")
