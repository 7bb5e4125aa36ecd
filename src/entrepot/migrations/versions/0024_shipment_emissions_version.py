"""logistics: the emission factor version a shipment's planned emissions were estimated with

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 11:45:00

The planner weighs lanes with the factor version accounting records shipments under (issue 26), so a
shipment's planned emissions_g names that version. Null for shipments planned before: they were
estimated with the built-in default table (UK DESNZ 2025), whatever table accounting then used.

Migration note, no schema change: air lanes now name their aircraft (vehicle `belly_hold` or `freighter`,
categories a factor table may price apart). Lanes stored before name their haul (`short_haul`,
`long_haul`) and are read as freighter lanes, the category they always had; nothing rewrites them. The
package's default table gains belly-hold rows (desnz-2025, same figures: DESNZ does not split air freight
by aircraft); a database that holds the earlier desnz-2025 gets them with `entrepot emissions backfill`
(a new calculation version), before which belly-hold lanes stored afterwards are flagged missing_factor.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("emissions_version", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("emissions_version")
