"""Tables of local services: a delivery station's planned routes for a day, and their stops, each with
the planned times that become the shipment's tracking scans once they are due; on-demand delivery's
stores, couriers, orders, trips and proofs of delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class StationRoute(Base):
    """One van's route of a station's day (the day is named by when its shift starts)."""

    __tablename__ = "local_station_routes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    station: Mapped[str] = mapped_column(String(64))
    shift_starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    vehicle: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the day
    departs_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    returns_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    distance_m: Mapped[int] = mapped_column(Integer)
    load_g: Mapped[int] = mapped_column(Integer)
    planned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("station", "shift_starts_at", "vehicle"),)


class RouteStop(Base):
    """A parcel handed over on a route: when, and whether its scans are recorded yet."""

    __tablename__ = "local_route_stops"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("local_station_routes.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    shipment: Mapped[str] = mapped_column(String(40), index=True)  # logistics' public id
    delivers_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    out_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("route_id", "seq"),)


# -- on-demand delivery -----------------------------------------------------------------------------------
# A store's, a courier's and a drop-off's position is a point on the city's map (WGS84 degrees), checked
# on the map when written. Order states: placed -> assigned -> picked_up -> delivered, or cancelled
# before pick-up; an assigned order goes back to placed when its courier is released (late) or its trip
# declined. Trip states: offered -> accepted -> done, or released (taken back, its orders planned again).
ORDER_STATES = ("placed", "assigned", "picked_up", "delivered", "cancelled")
TRIP_STATES = ("offered", "accepted", "done", "released")


class LocalStore(Base):
    """A seller's restaurant or grocery: where it is, when it takes orders (minutes of the day in its
    market's time zone) and how long an order takes to prepare on average."""

    __tablename__ = "local_stores"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    seller_id: Mapped[int] = mapped_column(BigId, index=True)  # catalog's seller (its id, not its table)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # restaurant | grocery
    market: Mapped[str] = mapped_column(String(64))  # organization's market code: currency and time zone
    currency: Mapped[str] = mapped_column(String(3))
    time_zone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    opens_minute: Mapped[int] = mapped_column(Integer)
    closes_minute: Mapped[int] = mapped_column(Integer)
    prep_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint(
            "opens_minute >= 0 AND opens_minute < closes_minute AND closes_minute <= 1440", name="hours"
        ),
    )


# A menu item's name is unique among the store's items still on the menu: an archived one keeps its name
# (past orders copied it) without holding it, so the seller may add an item of that name again.
_ON_MENU = "archived_at IS NULL"


class MenuItem(Base):
    """A dish or product a store sells, at a price in its store's currency's minor units. Orders copy the
    name and price when placed (a later change restates none); `available` is the seller's switch for
    today (sold out), archiving takes the item off the menu for good."""

    __tablename__ = "local_menu_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("local_stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(BigId)
    description: Mapped[str | None] = mapped_column(String(500))
    available: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)  # the menu's order, lowest first
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("price_minor > 0", name="price"),
        Index(
            "uq_local_menu_items_store_name",
            "store_id",
            "name",
            unique=True,
            sqlite_where=text(_ON_MENU),
            postgresql_where=text(_ON_MENU),
        ),
    )


class Courier(Base):
    """A courier: how it moves and carries, its shift, the carrier API key it acts with, and where it
    last said it was."""

    __tablename__ = "local_couriers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)  # identity's carrier key (public id)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(Integer)
    shift_starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    shift_ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("shift_starts_at < shift_ends_at", name="shift"),)


class Trip(Base):
    """Orders a courier carries together: the planned stops in order, as dispatch planned them."""

    __tablename__ = "local_trips"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("local_couriers.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{kind, orders, lat, lon, at}]
    offered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    eta_first_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # at the first store
    free_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class OnDemandOrder(Base):
    """A buyer's order from a store to a door, with the promise quoted when it was placed."""

    __tablename__ = "local_orders"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    buyer_id: Mapped[int] = mapped_column(BigId, index=True)  # identity's buyer (its id, not its table)
    store_id: Mapped[int] = mapped_column(ForeignKey("local_stores.id"), index=True)
    # [{item, name, quantity, unit_price_minor}]: the menu's item, its name and price copied at placement
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    units: Mapped[int] = mapped_column(Integer)  # of a courier's bag
    total_minor: Mapped[int] = mapped_column(BigId)  # the goods: the items' prices
    # Fixed at placement, in `currency`'s minor units: the buyer pays goods + delivery fee; the store pays
    # the commission (its rate kept beside it, so a later rate never restates the order).
    delivery_fee_minor: Mapped[int] = mapped_column(BigId, server_default="0")
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), server_default="0")
    commission_minor: Mapped[int] = mapped_column(BigId, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), index=True)
    placed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ready_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the store's expected time
    eta_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # quoted at placement, then kept current
    spread_s: Mapped[int] = mapped_column(Integer)  # one standard deviation of the ETA
    promised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # quoted once, never moved
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("local_trips.id"), index=True)
    picked_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # The buyer's Idempotency-Key, if it sent one, and its body's fingerprint: a retry with the same key
    # and body is answered with this order; the key is unique per buyer (keys never sent are null).
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        CheckConstraint("state IN " + str(ORDER_STATES), name="state"),
        UniqueConstraint("buyer_id", "idempotency_key"),
    )


class DeliveryProof(Base):
    """What the courier gave as proof of hand-over: a code the buyer read out, a photo's or a signature's
    reference, where and when."""

    __tablename__ = "local_delivery_proofs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("local_orders.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # code | photo | signature
    reference: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
