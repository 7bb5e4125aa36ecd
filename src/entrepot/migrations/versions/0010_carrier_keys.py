"""carrier API keys: a key may belong to a carrier, whose scans it posts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RULE = (
    "(role = 'operator' AND seller_id IS NULL AND buyer_id IS NULL)"
    " OR (role = 'seller' AND seller_id IS NOT NULL AND buyer_id IS NULL)"
    " OR (role = 'buyer' AND buyer_id IS NOT NULL AND seller_id IS NULL)"
)
NEW_RULE = (
    "(role = 'operator' AND seller_id IS NULL AND buyer_id IS NULL AND carrier IS NULL)"
    " OR (role = 'seller' AND seller_id IS NOT NULL AND buyer_id IS NULL AND carrier IS NULL)"
    " OR (role = 'buyer' AND buyer_id IS NOT NULL AND seller_id IS NULL AND carrier IS NULL)"
    " OR (role = 'carrier' AND carrier IS NOT NULL AND seller_id IS NULL AND buyer_id IS NULL)"
)


def upgrade() -> None:
    # batch mode: SQLite cannot alter a CHECK constraint in place, so the table is copied
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carrier", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(op.f("ck_api_keys_role_owner"), type_="check")
        batch_op.create_check_constraint("role_owner", NEW_RULE)


def downgrade() -> None:
    op.execute("DELETE FROM api_keys WHERE role = 'carrier'")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_keys_role_owner"), type_="check")
        batch_op.create_check_constraint("role_owner", OLD_RULE)
        batch_op.drop_column("carrier")
