"""Tables of emissions: factor tables (immutable, versioned by name), calculation versions, the activity
data of each shipment's transport chain, the results of each chain element per version, local couriers'
trips (the orders each delivered, and their shares of it per version), and targets.

Results are never updated: a new factor table makes a new calculation version whose rows sit beside the
old ones, so a figure reported once can always be reproduced and audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class FactorTableRow(Base):
    """One loaded factor table: `name` + `version` identify it; a reload of a name is a new version."""

    __tablename__ = "emission_factor_tables"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # default | regional | carrier
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # ISO 3166 alpha-2 codes the table applies in, sorted; null: everywhere (the defaults, carriers')
    countries: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("kind IN ('default','regional','carrier')", name="kind"),
    )


class FactorRow(Base):
    __tablename__ = "emission_factors"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("emission_factor_tables.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)  # the line of the file it came from (header = 1)
    mode: Mapped[str] = mapped_column(String(16))
    vehicle: Mapped[str] = mapped_column(String(64))
    energy: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(64), default="")
    min_km: Mapped[float | None] = mapped_column(Float)
    max_km: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    ttw: Mapped[float] = mapped_column(Float)
    wtt: Mapped[float] = mapped_column(Float)
    wtw: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(String(300), default="")
    __table_args__ = (UniqueConstraint("table_id", "row"),)


class CalculationVersion(Base):
    """A set of factor tables in force from `created_at`; every result names the version it belongs to."""

    __tablename__ = "emission_versions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    tables: Mapped[list[str]] = mapped_column(JSON)  # "name@version", highest precedence first
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ShipmentActivity(Base):
    """What was carried for whom: the dimensions a shipment's emissions roll up by, fixed when planned."""

    __tablename__ = "emission_shipments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_ref: Mapped[str] = mapped_column(String(40), unique=True)
    order_ref: Mapped[str] = mapped_column(String(40), index=True)
    seller_ref: Mapped[str] = mapped_column(String(40), index=True)
    market: Mapped[str] = mapped_column(String(64))
    marketplace: Mapped[str] = mapped_column(String(64))
    division: Mapped[str] = mapped_column(String(64))  # as the organisation stood on planned_on
    planned_on: Mapped[dt.date] = mapped_column(Date, index=True)
    weight_g: Mapped[int] = mapped_column(Integer)
    origin_country: Mapped[str] = mapped_column(String(2))
    destination_country: Mapped[str] = mapped_column(String(2))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("weight_g > 0", name="weight"),)


class ElementActivity(Base):
    """One element of a shipment's transport chain: a leg (mode, vehicle, distance) or a hub operation."""

    __tablename__ = "emission_elements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("emission_shipments.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # leg | hub
    mode: Mapped[str] = mapped_column(String(16))  # for a hub: the node kind (sortation_hub, airport ...)
    vehicle: Mapped[str] = mapped_column(String(64))
    carrier: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str] = mapped_column(String(96))
    origin: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    distance_km: Mapped[float] = mapped_column(Float)
    distance_rule: Mapped[str] = mapped_column(String(64))
    mass_g: Mapped[int] = mapped_column(Integer)
    trip: Mapped[str | None] = mapped_column(String(120))  # the vehicle trip (departure) it rode on
    __table_args__ = (
        UniqueConstraint("shipment_id", "seq"),
        CheckConstraint("kind IN ('leg','hub')", name="kind"),
        CheckConstraint("mass_g > 0 AND distance_km >= 0", name="activity"),
    )


class _Figures:
    """What every result row holds, whatever it is the emissions of: the figures in integer milligrams
    CO2e (tank-to-wheel, well-to-tank, their sum) and the factor behind them (table, row, values, unit,
    source), or that none was found."""

    ttw_mg: Mapped[int] = mapped_column(BigInteger)
    wtt_mg: Mapped[int] = mapped_column(BigInteger)
    wtw_mg: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(160))
    factor_table: Mapped[str | None] = mapped_column(String(80))
    factor_row: Mapped[int | None] = mapped_column(Integer)
    factor_ttw: Mapped[float | None] = mapped_column(Float)
    factor_wtt: Mapped[float | None] = mapped_column(Float)
    factor_wtw: Mapped[float | None] = mapped_column(Float)
    factor_unit: Mapped[str | None] = mapped_column(String(16))
    factor_source: Mapped[str | None] = mapped_column(String(300))
    missing_factor: Mapped[bool] = mapped_column(Boolean, default=False)


class ElementResult(_Figures, Base):
    """An element's emissions under one calculation version, in integer milligrams CO2e, with its audit
    trail: the factor (table, row, values, unit, source) and the distance rule."""

    __tablename__ = "emission_results"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(ForeignKey("emission_versions.number"))
    element_id: Mapped[int] = mapped_column(ForeignKey("emission_elements.id"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("emission_shipments.id"))
    tkm: Mapped[float] = mapped_column(Float)
    __table_args__ = (
        UniqueConstraint("version", "element_id"),
        Index("ix_emission_results_version_shipment", "version", "shipment_id"),
        CheckConstraint("wtw_mg = ttw_mg + wtt_mg AND ttw_mg >= 0 AND wtt_mg >= 0", name="wtw"),
    )


class TargetRow(Base):
    """A reduction target: absolute (t CO2e) or intensity (g per t-km, per parcel) against a baseline."""

    __tablename__ = "emission_targets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    metric: Mapped[str] = mapped_column(String(24))
    baseline_year: Mapped[int] = mapped_column(Integer)  # fiscal years
    target_year: Mapped[int] = mapped_column(Integer)
    reduction: Mapped[float] = mapped_column(Float)  # 0.5 = -50 %
    baseline_value: Mapped[float | None] = mapped_column(Float)  # null: measured from the stored data
    baseline_source: Mapped[str | None] = mapped_column(String(300))  # an imported baseline's source
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("target_year > baseline_year", name="years"),
        CheckConstraint("reduction > 0 AND reduction <= 1", name="reduction"),
    )


class LocalTripActivity(Base):
    """A local courier's finished trip (local services' `local.trip_done`): its mode and the metres of its
    planned route by that mode's roads, recorded once. Its emissions are per vehicle-km, not tonne-km."""

    __tablename__ = "emission_local_trips"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trip_ref: Mapped[str] = mapped_column(String(40), unique=True)
    courier_ref: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(16))  # ebike | scooter | car | walking
    distance_m: Mapped[int] = mapped_column(Integer)
    # the delivered orders' markets' countries (ISO 3166 alpha-2, sorted, comma-separated): which tables
    # scoped to countries may answer for the trip (an e-bike's grid is its market's country's)
    countries: Mapped[str] = mapped_column(String(32))
    done_on: Mapped[dt.date] = mapped_column(Date, index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("distance_m >= 0", name="distance"),)


class LocalDelivery(Base):
    """An order a trip delivered, with the dimensions its share of the trip rolls up by: the store's seller
    and market, and the business unit that delivered it (`marketplace`: the on-demand delivery unit) with
    its division as the organisation stood on the trip's day."""

    __tablename__ = "emission_local_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("emission_local_trips.id"), index=True)
    order_ref: Mapped[str] = mapped_column(String(40), unique=True)
    seller_ref: Mapped[str] = mapped_column(String(40), index=True)
    market: Mapped[str] = mapped_column(String(64))
    marketplace: Mapped[str] = mapped_column(String(64))
    division: Mapped[str] = mapped_column(String(64))


class LocalResult(_Figures, Base):
    """A delivered order's share of its trip's emissions under one calculation version (integer mg CO2e),
    with the trip's factor as the audit trail; never updated, as element results are not."""

    __tablename__ = "emission_local_results"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(ForeignKey("emission_versions.number"))
    trip_id: Mapped[int] = mapped_column(ForeignKey("emission_local_trips.id"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("emission_local_deliveries.id"))
    km: Mapped[float] = mapped_column(Float)  # the delivery's share of the trip's kilometres
    __table_args__ = (
        UniqueConstraint("version", "delivery_id"),
        Index("ix_emission_local_results_version_trip", "version", "trip_id"),
        CheckConstraint("wtw_mg = ttw_mg + wtt_mg AND ttw_mg >= 0 AND wtt_mg >= 0", name="wtw"),
    )
