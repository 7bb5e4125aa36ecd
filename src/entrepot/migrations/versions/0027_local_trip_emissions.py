"""emissions: local couriers' trips, the orders each delivered, and their shares of it per version

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 14:50:00

A finished on-demand trip (`local.trip_done`) is recorded once: the courier's mode, the metres of its
planned route and the countries of its orders' markets; each order it delivered with the dimensions
reports roll up by (seller, market, marketplace, division); and, per calculation version, each order's
share of the trip's emissions (vehicle-km x the mode's factor) with the factor as its audit trail.

Migration note, no schema change: the package's default table (desnz-2025) gains rows of mode `local`
(unit g/km: e-bike, scooter, car, walking). A database that holds the earlier desnz-2025 gets them with
`entrepot emissions backfill` (a new calculation version); trips recorded before that are flagged
missing_factor, never counted as zero.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, autoincrement=True, nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade() -> None:
    op.create_table(
        "emission_local_trips",
        _id(),
        sa.Column("trip_ref", sa.String(40), nullable=False),
        sa.Column("courier_ref", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("countries", sa.String(32), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emission_local_trips")),
        sa.UniqueConstraint("trip_ref", name=op.f("uq_emission_local_trips_trip_ref")),
        sa.CheckConstraint("distance_m >= 0", name=op.f("ck_emission_local_trips_distance")),
    )
    op.create_index(op.f("ix_emission_local_trips_done_on"), "emission_local_trips", ["done_on"])
    op.create_table(
        "emission_local_deliveries",
        _id(),
        sa.Column("trip_id", BigId, nullable=False),
        sa.Column("order_ref", sa.String(40), nullable=False),
        sa.Column("seller_ref", sa.String(40), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("marketplace", sa.String(64), nullable=False),
        sa.Column("division", sa.String(64), nullable=False),
        _fk("emission_local_deliveries", "trip_id", "emission_local_trips.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emission_local_deliveries")),
        sa.UniqueConstraint("order_ref", name=op.f("uq_emission_local_deliveries_order_ref")),
    )
    for column in ("trip_id", "seller_ref"):
        op.create_index(op.f(f"ix_emission_local_deliveries_{column}"), "emission_local_deliveries", [column])
    op.create_table(
        "emission_local_results",
        _id(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trip_id", BigId, nullable=False),
        sa.Column("delivery_id", BigId, nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("ttw_mg", sa.BigInteger(), nullable=False),
        sa.Column("wtt_mg", sa.BigInteger(), nullable=False),
        sa.Column("wtw_mg", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(160), nullable=False),
        sa.Column("factor_table", sa.String(80), nullable=True),
        sa.Column("factor_row", sa.Integer(), nullable=True),
        sa.Column("factor_ttw", sa.Float(), nullable=True),
        sa.Column("factor_wtt", sa.Float(), nullable=True),
        sa.Column("factor_wtw", sa.Float(), nullable=True),
        sa.Column("factor_unit", sa.String(16), nullable=True),
        sa.Column("factor_source", sa.String(300), nullable=True),
        sa.Column("missing_factor", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "wtw_mg = ttw_mg + wtt_mg AND ttw_mg >= 0 AND wtt_mg >= 0",
            name=op.f("ck_emission_local_results_wtw"),
        ),
        _fk("emission_local_results", "version", "emission_versions.number"),
        _fk("emission_local_results", "trip_id", "emission_local_trips.id"),
        _fk("emission_local_results", "delivery_id", "emission_local_deliveries.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emission_local_results")),
        sa.UniqueConstraint(
            "version", "delivery_id", name=op.f("uq_emission_local_results_version_delivery_id")
        ),
    )
    op.create_index(
        "ix_emission_local_results_version_trip", "emission_local_results", ["version", "trip_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_emission_local_results_version_trip", table_name="emission_local_results")
    op.drop_table("emission_local_results")
    for column in ("seller_ref", "trip_id"):
        op.drop_index(op.f(f"ix_emission_local_deliveries_{column}"), table_name="emission_local_deliveries")
    op.drop_table("emission_local_deliveries")
    op.drop_index(op.f("ix_emission_local_trips_done_on"), table_name="emission_local_trips")
    op.drop_table("emission_local_trips")
