"""Tables of logistics: the network (nodes, lanes), departures with booked capacity, shipments with
their legs, carrier scans, and the customs declarations of cross-border parcels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class NetworkNode(Base):
    __tablename__ = "network_nodes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    time_zone: Mapped[str] = mapped_column(String(64))
    handling_minutes: Mapped[int] = mapped_column(Integer)


class NetworkLane(Base):
    __tablename__ = "network_lanes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(96), unique=True)
    origin: Mapped[str] = mapped_column(ForeignKey("network_nodes.code"), index=True)
    destination: Mapped[str] = mapped_column(ForeignKey("network_nodes.code"))
    mode: Mapped[str] = mapped_column(String(16))
    vehicle: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(64))
    distance_km: Mapped[float] = mapped_column(Float)
    distance_rule: Mapped[str] = mapped_column(String(255))  # sea routes name their waypoints
    transit_minutes: Mapped[int] = mapped_column(Integer)
    fixed_cost_cents: Mapped[int] = mapped_column(Integer)
    per_kg_cents: Mapped[int] = mapped_column(Integer)
    max_parcel_kg: Mapped[float] = mapped_column(Float)
    capacity_kg: Mapped[float] = mapped_column(Float)
    # {"departures": [[weekday, "HH:MM"], ...], "cutoff_minutes": n}; null for lanes that leave on demand
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        CheckConstraint("transit_minutes > 0 AND distance_km >= 0", name="positive"),
        CheckConstraint("capacity_kg > 0 AND max_parcel_kg > 0", name="capacity"),
    )


class Departure(Base):
    """One scheduled departure of a lane, with the weight booked on it: consolidation never overfills."""

    __tablename__ = "departures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lane_code: Mapped[str] = mapped_column(String(96))
    departs_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    capacity_g: Mapped[int] = mapped_column(BigInteger)
    booked_g: Mapped[int] = mapped_column(BigInteger, default=0)
    parcels: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        UniqueConstraint("lane_code", "departs_at"),
        CheckConstraint("booked_g >= 0 AND booked_g <= capacity_g", name="within_capacity"),
    )


class Shipment(Base):
    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    order_ref: Mapped[str] = mapped_column(String(40), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    warehouse_code: Mapped[str] = mapped_column(String(64))
    origin_node: Mapped[str] = mapped_column(String(64))
    destination_node: Mapped[str] = mapped_column(String(64))
    origin_country: Mapped[str] = mapped_column(String(2))
    destination_country: Mapped[str] = mapped_column(String(2))
    service: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    weight_g: Mapped[int] = mapped_column(Integer)
    cost_cents: Mapped[int] = mapped_column(Integer)  # what the network's lanes cost, USD cents
    fee_cents: Mapped[int] = mapped_column(Integer)  # what the seller is billed, USD cents
    revenue_origin: Mapped[str] = mapped_column(String(10))  # domestic | overseas
    emissions_g: Mapped[float] = mapped_column(Float)
    # the emission factor version emissions_g was estimated with (None: planned before estimates named
    # it, with the built-in default table)
    emissions_version: Mapped[str | None] = mapped_column(String(80))
    cross_border: Mapped[bool] = mapped_column(Boolean)
    ready_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    promised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    eta: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Cross-border parcels: import duty and VAT/GST assessed at planning, in the destination's currency,
    # with how they are collected (at import, at the point of sale, or not at all) and the reasoning.
    customs_currency: Mapped[str | None] = mapped_column(String(3))
    customs_duty_minor: Mapped[int | None] = mapped_column(BigInteger)
    customs_tax_minor: Mapped[int | None] = mapped_column(BigInteger)
    customs_collection: Mapped[str | None] = mapped_column(String(16))
    customs_trace: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)  # the snapshot reads by it
    __table_args__ = (
        UniqueConstraint("order_ref", "warehouse_code"),  # one shipment per allocated warehouse
        CheckConstraint("revenue_origin IN ('domestic','overseas')", name="revenue_origin"),
        CheckConstraint("weight_g > 0 AND fee_cents >= 0 AND cost_cents >= 0", name="amounts"),
    )


class ShipmentLeg(Base):
    __tablename__ = "shipment_legs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    lane_code: Mapped[str] = mapped_column(String(96))
    origin: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    departure_id: Mapped[int | None] = mapped_column(ForeignKey("departures.id"))
    departs_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    arrives_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    cost_cents: Mapped[int] = mapped_column(Integer)
    emissions_g: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float)
    __table_args__ = (UniqueConstraint("shipment_id", "seq"),)


class TrackingEvent(Base):
    """A carrier's scan, kept as received; `applied` says whether it moved the shipment's status."""

    __tablename__ = "tracking_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(24))
    node: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")
    __table_args__ = (
        UniqueConstraint("shipment_id", "event_id"),  # a carrier resending a scan changes nothing
        Index("ix_tracking_events_shipment_occurred", "shipment_id", "occurred_at"),
    )
