"""Tables of the group's accounts: investees with dated stakes, imported results and impairments;
programmes with their commitments, spend and targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class Investee(Base):
    """A company the group holds a stake in and accounts for by the equity method (Ant Group): its
    share of results enters group profit below the segments, never revenue or GMV."""

    __tablename__ = "accounts_investees"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    # Quarters between the investee's quarter and the group's quarter that records it (Ant: 1).
    lag_quarters: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("lag_quarters BETWEEN 0 AND 4", name="lag"),)


class InvesteeStake(Base):
    """The group's ownership share from `valid_from` until the next stake of the same investee."""

    __tablename__ = "accounts_investee_stakes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    investee_id: Mapped[int] = mapped_column(ForeignKey("accounts_investees.id"), index=True)
    share: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
    __table_args__ = (
        UniqueConstraint("investee_id", "valid_from"),
        CheckConstraint("share >= 0 AND share <= 1", name="share"),
    )


class InvesteeResult(Base):
    """An investee's net income for one quarter (named in the group's fiscal calendar), imported from
    outside and shown with its source."""

    __tablename__ = "accounts_investee_results"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    investee_id: Mapped[int] = mapped_column(ForeignKey("accounts_investees.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    net_income_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    external: Mapped[bool] = mapped_column(Boolean, default=True)
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("investee_id", "period"),)


class InvesteeImpairment(Base):
    """A write-down of the investment on a day: it lowers the group's share in the quarter holding it."""

    __tablename__ = "accounts_investee_impairments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    investee_id: Mapped[int] = mapped_column(ForeignKey("accounts_investees.id"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    __table_args__ = (CheckConstraint("amount_minor > 0", name="positive"),)


class Programme(Base):
    """An investment programme in one of the seven categories announced at the investor day."""

    __tablename__ = "accounts_programmes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    # The market countries whose platform data measures the programme's outcomes (comma-separated).
    countries: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ProgrammeSpend(Base):
    """What a programme committed and spent in a fiscal period (minor units)."""

    __tablename__ = "accounts_programme_spend"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("accounts_programmes.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    committed_minor: Mapped[int] = mapped_column(BigInteger)
    spent_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    __table_args__ = (
        UniqueConstraint("programme_id", "period"),
        CheckConstraint("committed_minor >= 0 AND spent_minor >= 0", name="amounts"),
    )


class ProgrammeTarget(Base):
    """An outcome a programme aims at by a day, in a metric the platform measures."""

    __tablename__ = "accounts_programme_targets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("accounts_programmes.id"), index=True)
    metric: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    due_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
    __table_args__ = (
        UniqueConstraint("programme_id", "metric", "due_on"),
        CheckConstraint("value > 0", name="positive"),
    )
