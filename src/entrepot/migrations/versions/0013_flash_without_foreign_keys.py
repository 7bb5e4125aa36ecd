"""flash_orders and flash_buyers without foreign keys, flash_orders.buyer_id not indexed on its own:
a rush's batch pays for each on every row it writes

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 13:50:00

PostgreSQL checks a foreign key on every inserted row (a lookup and a lock on the row referred to),
and the flash batch inserts its orders and holdings while it holds the sale's lock; see the note in
entrepot.campaigns.flash.models for what they cost and why what they guarded holds without them. The
index on flash_orders.buyer_id only served the foreign key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the keys dropped, (column, referred table) by table: one batch per table (SQLite copies the table)
KEYS = {
    "flash_orders": (("sale_id", "flash_sales"), ("buyer_id", "buyers")),
    "flash_buyers": (("sale_id", "flash_sales"), ("buyer_id", "buyers")),
}


def upgrade() -> None:
    for table, keys in KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, referred in keys:
                batch_op.drop_constraint(batch_op.f(f"fk_{table}_{column}_{referred}"), type_="foreignkey")
            if table == "flash_orders":
                batch_op.drop_index(batch_op.f("ix_flash_orders_buyer_id"))


def downgrade() -> None:
    for table, keys in KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "flash_orders":
                batch_op.create_index(batch_op.f("ix_flash_orders_buyer_id"), ["buyer_id"], unique=False)
            for column, referred in keys:
                batch_op.create_foreign_key(
                    batch_op.f(f"fk_{table}_{column}_{referred}"), referred, [column], ["id"]
                )
