"""platform and integrations: the request id an event and its webhook deliveries carry

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 11:40:00

An event records the id of the request whose transaction wrote it (its answer's X-Request-Id), and each
webhook delivery of the event carries it on (sent as `entrepot-request-id`), so a change can be followed
from the request to its handlers and to a receiver's log. Null for what no request made (the command
line, background jobs) and for everything recorded before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("request_id")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("request_id")
