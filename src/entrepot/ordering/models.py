"""Orders, their lines, payments, refunds and idempotency keys."""

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
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime

ORDER_STATUSES = (
    "placed",
    "paid",
    "fulfilled",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "return_requested",
    "returned",
    "refunded",
)


class Order(Base):
    """Amounts are kept in the order's currency and, at the ECB rate of the order date, in USD and CNY."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_minor: Mapped[int] = mapped_column(BigInteger)
    subtotal_usd_minor: Mapped[int] = mapped_column(BigInteger)
    total_usd_minor: Mapped[int] = mapped_column(BigInteger)
    subtotal_cny_minor: Mapped[int] = mapped_column(BigInteger)
    total_cny_minor: Mapped[int] = mapped_column(BigInteger)
    usd_rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    cny_rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    fx_rate_date: Mapped[dt.date] = mapped_column(Date)
    # True while the USD/CNY amounts rest on a rate older than the staleness limit: re-stated (and
    # recorded in fx_restatements) once a rate for the order date arrives.
    fx_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    order_date: Mapped[dt.date] = mapped_column(Date, index=True)  # in the market's time zone
    cross_border: Mapped[bool] = mapped_column(Boolean)
    # The delivery option placed with (its fee is shipping_minor): service level, the objective asked
    # for, the promised date in the market's time zone (none with flat zone fees), where it came from.
    # Empty on orders placed before delivery options existed.
    delivery_service: Mapped[str | None] = mapped_column(String(16))
    delivery_objective: Mapped[str | None] = mapped_column(String(16))
    delivery_promised_on: Mapped[dt.date | None] = mapped_column(Date)
    delivery_source: Mapped[str | None] = mapped_column(String(16))
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    reservation_expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)  # the snapshot reads by it
    __table_args__ = (
        CheckConstraint(
            "status IN ('placed','paid','fulfilled','shipped','delivered','completed','cancelled',"
            "'return_requested','returned','refunded')",
            name="status",
        ),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= total_minor", name="refund_bounds"),
        CheckConstraint("total_minor >= 0", name="total_non_negative"),
        Index(
            "ix_orders_fx_provisional",
            "currency",
            "order_date",
            postgresql_where=text("fx_provisional"),
            sqlite_where=text("fx_provisional"),
        ),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    commission_minor: Mapped[int] = mapped_column(BigInteger)
    cross_border: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (CheckConstraint("quantity > 0", name="positive"),)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    decline_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("status IN ('pending','succeeded','failed')", name="status"),
        # At most one payment in flight or succeeded per order: a second `pay` cannot double-charge.
        Index(
            "uq_payments_order_live",
            "order_id",
            unique=True,
            sqlite_where=text("status IN ('pending','succeeded')"),
            postgresql_where=text("status IN ('pending','succeeded')"),
        ),
        # The payments still waiting for their provider's answer, oldest first: what reconciliation reads
        # every round without scanning every payment ever taken.
        Index(
            "ix_payments_pending",
            "created_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class ProviderLedgerEntry(Base):
    """The simulated payment provider's own record of each payment it authorised and what it decided
    (`payments.SimulatedProvider`, kept by `provider_ledger.TableLedger`). The provider's side, not the
    merchant's: ordering's use cases never read it, they ask the provider."""

    __tablename__ = "provider_ledger"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_ref: Mapped[str] = mapped_column(String(40), unique=True)
    order_ref: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    decline_reason: Mapped[str | None] = mapped_column(String(64))  # none: the payment succeeded


class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("amount_minor > 0", name="positive"),)


class FxRestatement(Base):
    """An order's USD and CNY amounts as first stated on a stale rate, and as re-stated once a rate for
    its date arrived: the audit trail of every change to a converted amount."""

    __tablename__ = "fx_restatements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    old_rate_date: Mapped[dt.date] = mapped_column(Date)
    new_rate_date: Mapped[dt.date] = mapped_column(Date)
    old_usd_rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    new_usd_rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    old_cny_rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    new_cny_rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    old_total_usd_minor: Mapped[int] = mapped_column(BigInteger)
    new_total_usd_minor: Mapped[int] = mapped_column(BigInteger)
    old_total_cny_minor: Mapped[int] = mapped_column(BigInteger)
    new_total_cny_minor: Mapped[int] = mapped_column(BigInteger)
    restated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class IdempotencyKey(Base):
    """The first request with a key wins; its body hash decides whether a repeat is the same request."""

    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    order_ref: Mapped[str] = mapped_column(String(40))  # the order's public id, chosen before it exists
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("principal", "key"),)


class Cart(Base):
    """A buyer's basket in one market, kept between visits; checking it out places an order."""

    __tablename__ = "carts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    status: Mapped[str] = mapped_column(String(16))
    order_ref: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("status IN ('open','ordered')", name="status"),)


class CartLine(Base):
    __tablename__ = "cart_lines"
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("quantity > 0", name="positive"),)
