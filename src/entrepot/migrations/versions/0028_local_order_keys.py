"""local services: an on-demand order's Idempotency-Key and its request's fingerprint

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 16:20:00

POST /local/orders takes an optional Idempotency-Key, as POST /orders does: a retry with the same key and
body gets the first order back, another body a 422, and two requests with one key at once make one order
(the key is unique per buyer). Orders placed before had no key: null, which the unique constraint does
not compare.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("local_orders") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(255), nullable=True))
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_local_orders_buyer_id_idempotency_key"), ["buyer_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("local_orders") as batch:
        batch.drop_constraint(op.f("uq_local_orders_buyer_id_idempotency_key"), type_="unique")
        batch.drop_column("request_hash")
        batch.drop_column("idempotency_key")
