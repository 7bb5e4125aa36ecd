"""local services: a store's menu items, which on-demand orders are priced from

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 18:00:00

Until now a buyer's order named each item and its price itself, so a pizza could be ordered for a cent and
the commission and the revenue report counted that cent. A store now keeps a menu: each item's name
(unique among the items still on the menu), price in the store's currency's minor units (never zero),
an optional description, whether it is available today, its position on the menu, and when it was
archived (taken off the menu for good; past orders keep the name and price they copied). Orders placed
before keep the items they stored: nothing is backfilled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ON_MENU = sa.text("archived_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "local_menu_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("store_id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price_minor", BigId, nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("archived_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_menu_items")),
        sa.UniqueConstraint("public_id", name=op.f("uq_local_menu_items_public_id")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["local_stores.id"], name=op.f("fk_local_menu_items_store_id_local_stores")
        ),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_local_menu_items_price")),
    )
    op.create_index(op.f("ix_local_menu_items_store_id"), "local_menu_items", ["store_id"])
    op.create_index(
        "uq_local_menu_items_store_name",
        "local_menu_items",
        ["store_id", "name"],
        unique=True,
        sqlite_where=ON_MENU,
        postgresql_where=ON_MENU,
    )


def downgrade() -> None:
    op.drop_index("uq_local_menu_items_store_name", table_name="local_menu_items")
    op.drop_index(op.f("ix_local_menu_items_store_id"), table_name="local_menu_items")
    op.drop_table("local_menu_items")
