"""Tables of local services: a delivery station's planned routes for a day, and their stops, each with
the planned times that become the shipment's tracking scans once they are due."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
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
