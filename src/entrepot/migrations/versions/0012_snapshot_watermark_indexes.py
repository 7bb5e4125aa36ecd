"""indexes on orders.updated_at and shipments.updated_at: the reporting snapshot reads both by them

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 03:50:00

Each refresh reads the orders and shipments changed since its watermark, and the lines and refunds of
those orders; without an index every refresh scanned both tables whole.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("orders", "shipments")


def upgrade() -> None:
    for table in INDEXED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    for table in INDEXED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_updated_at"))
