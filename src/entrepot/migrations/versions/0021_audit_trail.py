"""platform: the audit trail

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 05:00:00

One row per change an operator or a seller made (platform.audit): who (role, key, seller), when, the
request's id, what (action and subject) and the values before and after, written in the change's own
transaction. Indexed for the operators' filters (time, key, action, subject).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_key", sa.String(40), nullable=False),
        sa.Column("actor_seller", sa.String(40), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_index(op.f("ix_audit_entries_actor_key"), "audit_entries", ["actor_key"])
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"])
    op.create_index(op.f("ix_audit_entries_subject"), "audit_entries", ["subject"])


def downgrade() -> None:
    op.drop_table("audit_entries")
