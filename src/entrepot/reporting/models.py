"""Tables of reporting: GMV definitions per business unit, GMV targets, guidance bands with their
revisions, and published actuals imported from outside (periods before the platform ran)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime

# What a published figure may be: money (GMV, revenue, adjusted EBITA, which may be a loss), a count of
# consumers, or a share of revenue earned outside China in whole per cent (Cainiao's 57 %).
ACTUAL_METRICS = ("gmv", "revenue", "active_consumers", "adjusted_ebita", "revenue_abroad_pct")


class GmvRule(Base):
    """The GMV definition a business unit reports under (units without one use confirmed-gross)."""

    __tablename__ = "reporting_gmv_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_unit: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ExternalActual(Base):
    """A figure published outside the platform (investor day, results), kept as imported and marked
    external wherever it is shown. Money in minor units of `currency`; counts with no currency."""

    __tablename__ = "reporting_external_actuals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    metric: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str | None] = mapped_column(String(3))
    value_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("metric", "scope", "period"),
        CheckConstraint(f"metric IN ({', '.join(repr(m) for m in ACTUAL_METRICS)})", name="metric"),
    )


class Target(Base):
    __tablename__ = "reporting_targets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    metric: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    value_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("value_minor > 0", name="positive"),)


class GuidanceBand(Base):
    """One issue of guidance for a metric's growth over a period; a later issue revises an earlier one."""

    __tablename__ = "reporting_guidance"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    metric: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    low_pct: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    high_pct: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        UniqueConstraint("metric", "scope", "period", "issued_on"),
        CheckConstraint("low_pct <= high_pct", name="band"),
    )


from entrepot.reporting.accounts import models as _accounts  # noqa: E402, F401  (registers the tables)
