"""units closed by a reorganisation, and the audit of planned moves corrected or withdrawn

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 02:10:00

A reorganisation closes the units it empties (Core commerce and its divisions on 1 Oct 2021): they keep
their history and take no member from that day. A move planned for a future day can be corrected or
withdrawn before it takes effect; each revision is kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLACEMENT = (
    "(action = 'withdrawn' AND new_parent IS NULL AND new_from IS NULL)"
    " OR (action = 'corrected' AND new_parent IS NOT NULL AND new_from IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
    op.create_table(
        "org_move_revisions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("planned_parent", sa.String(64), nullable=False),
        sa.Column("planned_from", sa.Date(), nullable=False),
        sa.Column("new_parent", sa.String(64), nullable=True),
        sa.Column("new_from", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("revised_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("action IN ('corrected','withdrawn')", name=op.f("ck_org_move_revisions_action")),
        sa.CheckConstraint(REPLACEMENT, name=op.f("ck_org_move_revisions_replacement")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_move_revisions")),
    )
    op.create_index(op.f("ix_org_move_revisions_unit_code"), "org_move_revisions", ["unit_code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_org_move_revisions_unit_code"), table_name="org_move_revisions")
    op.drop_table("org_move_revisions")
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.drop_column("closed_on")
