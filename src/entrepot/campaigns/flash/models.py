"""Tables of peak-day commerce: flash sales, their orders and what each buyer holds of a sale.

A flash sale's own row is the hot counter: `stock` units were taken out of a warehouse's stock when the
sale was created (one inventory reservation), and `reserved + sold + available = stock` always, with
`available` implied. The CHECK constraints make overselling impossible even for a buggy caller.

`flash_orders` and `flash_buyers` carry no foreign keys. PostgreSQL checks a foreign key on every row
inserted, a lookup and a row lock on the row referred to, and a rush's batch inserts every order and
holding while it holds the sale's lock, so the checks would lengthen the lock for every other server's
batch (the measurement: docs/performance.md, Flash sales; the record:
docs/decisions/0003-no-foreign-keys-on-flash-tables.md). What they guarded holds by construction: the
batch writes only for the sale whose row it has locked and for buyers of authenticated keys, a holding is
written only with an order for the same sale and buyer, and neither sales nor buyers are ever deleted.
Every join on these tables names its ON clause and no ORM relationship depends on the keys. Nor is
`flash_orders.buyer_id` indexed on its own: nothing reads orders by buyer across sales (a buyer's order
in a sale is found by the unique key that starts with the sale), and every index costs an entry for each
order inserted and each order paid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.campaigns.common import CampaignHeader
from entrepot.platform.db import Base, BigId, UtcDateTime, table_of

FLASH_ORDER_STATUSES = ("waiting", "reserved", "paid", "expired", "released", "lapsed")
FLASH_STRATEGIES = ("batched", "row_lock")


class FlashSale(CampaignHeader, Base):
    __tablename__ = "flash_sales"
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    sale_price_minor: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)  # units asked for by the waiting queue
    per_buyer_limit: Mapped[int] = mapped_column(Integer)
    reservation_ttl_seconds: Mapped[int] = mapped_column(Integer)
    # batched: requests coalesced into one transaction per batch; row_lock: one per request (reference)
    strategy: Mapped[str] = mapped_column(String(16))
    __table_args__ = (
        CheckConstraint("stock > 0", name="stock_positive"),
        CheckConstraint("reserved >= 0 AND sold >= 0 AND waiting >= 0", name="counters_non_negative"),
        CheckConstraint("reserved + sold <= stock", name="never_oversold"),
        CheckConstraint("per_buyer_limit > 0", name="limit_positive"),
        CheckConstraint("sale_price_minor >= 0", name="price_non_negative"),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("strategy IN ('batched','row_lock')", name="strategy"),
    )


class FlashOrder(Base):
    """One buyer's claim on a sale: waiting for units, holding them (reserved) until paid, or done."""

    __tablename__ = "flash_orders"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    sale_id: Mapped[int] = mapped_column(BigId)  # no foreign keys here: see the module's note
    buyer_id: Mapped[int] = mapped_column(BigId)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    payment_status: Mapped[str | None] = mapped_column(String(16))
    decline_reason: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("sale_id", "buyer_id", "idempotency_key"),  # a key is scoped to one sale
        CheckConstraint("quantity > 0", name="positive"),
        CheckConstraint(
            "status IN ('waiting','reserved','paid','expired','released','lapsed')", name="status"
        ),
        CheckConstraint(
            "payment_status IS NULL OR payment_status IN ('pending','succeeded','failed','refunded')",
            name="payment_status",
        ),
        # the sweeper's queues: reservations running out, and the waiting line in arrival order
        Index("ix_flash_orders_sale_status_expires", "sale_id", "status", "expires_at"),
        Index("ix_flash_orders_sale_status_id", "sale_id", "status", "id"),
    )


class FlashBuyer(Base):
    """Units a buyer holds of a sale (waiting, reserved or paid): the per-buyer limit is checked on it."""

    __tablename__ = "flash_buyers"
    sale_id: Mapped[int] = mapped_column(BigId, primary_key=True)  # no foreign keys: the module's note
    buyer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("quantity >= 0", name="non_negative"),)


# The tables as Core tables, for the batch statements (typed: `__table__` is only a FromClause to mypy).
FLASH_SALES = table_of(FlashSale)
FLASH_ORDERS = table_of(FlashOrder)
FLASH_HOLDINGS = table_of(FlashBuyer)
