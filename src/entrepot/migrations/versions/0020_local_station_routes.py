"""local services: a delivery station's planned routes and their stops

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 02:10:00

Each route of a station's day (named by when the shift starts) with its van, planned departure and
return, distance and load; each stop with its parcel (logistics' shipment id), planned hand-over and
whether its out-for-delivery and delivered scans are recorded yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "local_station_routes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("shift_starts_at", UtcDateTime, nullable=False),
        sa.Column("vehicle", sa.Integer(), nullable=False),
        sa.Column("departs_at", UtcDateTime, nullable=False),
        sa.Column("returns_at", UtcDateTime, nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("load_g", sa.Integer(), nullable=False),
        sa.Column("planned_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_station_routes")),
        sa.UniqueConstraint("public_id", name=op.f("uq_local_station_routes_public_id")),
        sa.UniqueConstraint(
            "station",
            "shift_starts_at",
            "vehicle",
            name=op.f("uq_local_station_routes_station_shift_starts_at_vehicle"),
        ),
    )
    op.create_table(
        "local_route_stops",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("route_id", BigId, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("shipment", sa.String(40), nullable=False),
        sa.Column("delivers_at", UtcDateTime, nullable=False),
        sa.Column("out_recorded", sa.Boolean(), nullable=False),
        sa.Column("delivered_recorded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_route_stops")),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["local_station_routes.id"],
            name=op.f("fk_local_route_stops_route_id_local_station_routes"),
        ),
        sa.UniqueConstraint("route_id", "seq", name=op.f("uq_local_route_stops_route_id_seq")),
    )
    op.create_index(op.f("ix_local_route_stops_route_id"), "local_route_stops", ["route_id"])
    op.create_index(op.f("ix_local_route_stops_shipment"), "local_route_stops", ["shipment"])


def downgrade() -> None:
    op.drop_table("local_route_stops")
    op.drop_table("local_station_routes")
