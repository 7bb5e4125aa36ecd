"""Tables of livestream selling: a host's session and its queue of drops (each drop a flash sale)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime, table_of


class LiveSession(Base):
    __tablename__ = "live_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    market_ref: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("status IN ('live','ended')", name="status"),)


class LiveDrop(Base):
    """A product the host will put on sale: queued, then open (its flash sale running), then closed."""

    __tablename__ = "live_drops"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku_ref: Mapped[str] = mapped_column(String(40))
    sale_price_minor: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    per_buyer_limit: Mapped[int] = mapped_column(Integer)
    reservation_ttl_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("flash_sales.id"))
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        CheckConstraint("status IN ('queued','open','closed')", name="status"),
        CheckConstraint("stock > 0 AND per_buyer_limit > 0 AND sale_price_minor >= 0", name="terms"),
    )


SESSIONS = table_of(LiveSession)
DROPS = table_of(LiveDrop)
