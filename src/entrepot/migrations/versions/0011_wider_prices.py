"""prices and market shipping fees in 64-bit columns, like every other amount

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 03:05:00

A price may be up to 100 million in its currency (kernel.money.MAX_PRICE_MAJOR): 10^10 minor units for a
currency with cents, beyond a 32-bit integer. PostgreSQL refused such a price with an error.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = {
    "prices": ("amount_minor",),
    "markets": ("shipping_domestic_minor", "shipping_cross_border_minor"),
}


def upgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.BigInteger(), type_=sa.Integer())
