"""local services: on-demand delivery's stores, couriers, trips, orders and proofs of delivery

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 11:30:00

A seller's store (kind, position on the map, opening hours in its market's time zone, preparation time),
a courier (mode, capacity, shift, the carrier key it acts with, its last position), a trip (a courier's
planned stops), an order (buyer, store, items and total in minor units, drop-off point, the promise quoted
at placement and its state) and the proof of its hand-over.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, autoincrement=True, nullable=False)


def _public_id() -> sa.Column[str]:
    return sa.Column("public_id", sa.String(40), nullable=False)


def upgrade() -> None:
    op.create_table(
        "local_stores",
        _id(),
        _public_id(),
        sa.Column("seller_id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("opens_minute", sa.Integer(), nullable=False),
        sa.Column("closes_minute", sa.Integer(), nullable=False),
        sa.Column("prep_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_stores")),
        sa.UniqueConstraint("public_id", name=op.f("uq_local_stores_public_id")),
        sa.CheckConstraint(
            "opens_minute >= 0 AND opens_minute < closes_minute AND closes_minute <= 1440",
            name=op.f("ck_local_stores_hours"),
        ),
    )
    op.create_index(op.f("ix_local_stores_seller_id"), "local_stores", ["seller_id"])
    op.create_table(
        "local_couriers",
        _id(),
        _public_id(),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("shift_starts_at", UtcDateTime, nullable=False),
        sa.Column("shift_ends_at", UtcDateTime, nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("position_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_couriers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_local_couriers_public_id")),
        sa.UniqueConstraint("key_id", name=op.f("uq_local_couriers_key_id")),
        sa.CheckConstraint("shift_starts_at < shift_ends_at", name=op.f("ck_local_couriers_shift")),
    )
    op.create_table(
        "local_trips",
        _id(),
        _public_id(),
        sa.Column("courier_id", BigId, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.Column("offered_at", UtcDateTime, nullable=False),
        sa.Column("eta_first_at", UtcDateTime, nullable=False),
        sa.Column("free_at", UtcDateTime, nullable=False),
        sa.Column("accepted_at", UtcDateTime, nullable=True),
        sa.Column("ended_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_trips")),
        sa.UniqueConstraint("public_id", name=op.f("uq_local_trips_public_id")),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["local_couriers.id"], name=op.f("fk_local_trips_courier_id_local_couriers")
        ),
    )
    op.create_index(op.f("ix_local_trips_courier_id"), "local_trips", ["courier_id"])
    op.create_index(op.f("ix_local_trips_state"), "local_trips", ["state"])
    op.create_table(
        "local_orders",
        _id(),
        _public_id(),
        sa.Column("buyer_id", BigId, nullable=False),
        sa.Column("store_id", BigId, nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("total_minor", BigId, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("placed_at", UtcDateTime, nullable=False),
        sa.Column("ready_at", UtcDateTime, nullable=False),
        sa.Column("eta_at", UtcDateTime, nullable=False),
        sa.Column("spread_s", sa.Integer(), nullable=False),
        sa.Column("promised_at", UtcDateTime, nullable=False),
        sa.Column("trip_id", BigId, nullable=True),
        sa.Column("picked_up_at", UtcDateTime, nullable=True),
        sa.Column("delivered_at", UtcDateTime, nullable=True),
        sa.Column("cancelled_at", UtcDateTime, nullable=True),
        sa.Column("cancel_reason", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_orders")),
        sa.UniqueConstraint("public_id", name=op.f("uq_local_orders_public_id")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["local_stores.id"], name=op.f("fk_local_orders_store_id_local_stores")
        ),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["local_trips.id"], name=op.f("fk_local_orders_trip_id_local_trips")
        ),
        sa.CheckConstraint(
            "state IN ('placed', 'assigned', 'picked_up', 'delivered', 'cancelled')",
            name=op.f("ck_local_orders_state"),
        ),
    )
    op.create_index(op.f("ix_local_orders_buyer_id"), "local_orders", ["buyer_id"])
    op.create_index(op.f("ix_local_orders_store_id"), "local_orders", ["store_id"])
    op.create_index(op.f("ix_local_orders_state"), "local_orders", ["state"])
    op.create_index(op.f("ix_local_orders_trip_id"), "local_orders", ["trip_id"])
    op.create_table(
        "local_delivery_proofs",
        _id(),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_delivery_proofs")),
        sa.UniqueConstraint("order_id", name=op.f("uq_local_delivery_proofs_order_id")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["local_orders.id"], name=op.f("fk_local_delivery_proofs_order_id_local_orders")
        ),
    )


def downgrade() -> None:
    op.drop_table("local_delivery_proofs")
    op.drop_table("local_orders")
    op.drop_table("local_trips")
    op.drop_table("local_couriers")
    op.drop_table("local_stores")
