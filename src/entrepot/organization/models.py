"""Tables of the organisation: one tree of units with effective-dated edges, and the markets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class OrgUnit(Base):
    """A group, segment, division or business unit (a marketplace such as Lazada)."""

    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The day a reorganisation emptied the unit: it is in the tree before, and takes no member from then on.
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (CheckConstraint("kind IN ('group','segment','division','business_unit')", name="kind"),)


class OrgMembership(Base):
    """`child` sits under `parent` from valid_from (inclusive) to valid_to (exclusive; open when null)."""

    __tablename__ = "org_memberships"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="interval"),
        CheckConstraint("child_id <> parent_id", name="not_self"),
    )


class OrgMoveRevision(Base):
    """The audit record of a future-dated move corrected or withdrawn before it took effect: what was
    planned, what replaced it (nothing when withdrawn), when and why."""

    __tablename__ = "org_move_revisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    planned_parent: Mapped[str] = mapped_column(String(64))
    planned_from: Mapped[dt.date] = mapped_column(Date)
    new_parent: Mapped[str | None] = mapped_column(String(64))
    new_from: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    revised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("action IN ('corrected','withdrawn')", name="action"),
        CheckConstraint(
            "(action = 'withdrawn' AND new_parent IS NULL AND new_from IS NULL)"
            " OR (action = 'corrected' AND new_parent IS NOT NULL AND new_from IS NOT NULL)",
            name="replacement",
        ),
    )


class Market(Base):
    """A business unit selling in one country: Lazada in Singapore prices in SGD with 9 % GST."""

    __tablename__ = "markets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    business_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True)
    shipping_domestic_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_cross_border_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("business_unit_id", "country"),
        CheckConstraint("tax_rate >= 0 AND tax_rate < 1", name="tax_rate"),
        CheckConstraint(
            "shipping_domestic_minor >= 0 AND shipping_cross_border_minor >= 0", name="shipping_fees"
        ),
    )


class FxManualRate(Base):
    """Operator-supplied rates for currencies the ECB does not publish (units of currency per USD)."""

    __tablename__ = "fx_manual_rates"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    currency: Mapped[str] = mapped_column(String(3))
    on: Mapped[dt.date] = mapped_column(Date)
    per_usd: Mapped[Decimal] = mapped_column(Numeric(20, 8))
    note: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (
        UniqueConstraint("currency", "on"),
        CheckConstraint("per_usd > 0", name="positive"),
        Index("ix_fx_manual_rates_currency_on", "currency", "on"),
    )


class FxPublishedRate(Base):
    """ECB reference rates loaded after the package's bundled history (units of currency per EUR):
    every API process adds them to its rate book, so a newer rate reaches checkout without a release."""

    __tablename__ = "fx_published_rates"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    currency: Mapped[str] = mapped_column(String(3))
    on: Mapped[dt.date] = mapped_column(Date)
    per_eur: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    source: Mapped[str] = mapped_column(String(200), default="")
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    __table_args__ = (
        UniqueConstraint("currency", "on"),
        CheckConstraint("per_eur > 0", name="positive"),
    )
