"""emissions: the countries a factor table applies in, and an imported baseline's source

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 05:30:00

A regional factor table states where it applies (ISO 3166 alpha-2 codes); a leg takes its factors only
inside that scope. Null for the package's defaults and for tables loaded before: they apply everywhere,
as they did. A target's baseline given as a figure (an imported one) records where it came from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("emission_factor_tables") as batch:
        batch.add_column(sa.Column("countries", sa.JSON(), nullable=True))
    with op.batch_alter_table("emission_targets") as batch:
        batch.add_column(sa.Column("baseline_source", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emission_targets") as batch:
        batch.drop_column("baseline_source")
    with op.batch_alter_table("emission_factor_tables") as batch:
        batch.drop_column("countries")
