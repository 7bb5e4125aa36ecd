"""Sellers, their marketplaces, products, SKUs, prices per market and commission rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class Seller(Base):
    __tablename__ = "sellers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class SellerMarketplace(Base):
    __tablename__ = "seller_marketplaces"
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), primary_key=True)
    business_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))  # the seller's own product reference
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(64), index=True)
    hs_code: Mapped[str] = mapped_column(String(10))
    origin_country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("seller_id", "ref"),)


class Sku(Base):
    __tablename__ = "skus"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    weight_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("seller_id", "code"),
        CheckConstraint(
            "weight_g > 0 AND length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="positive_size"
        ),
    )


class Price(Base):
    __tablename__ = "prices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    __table_args__ = (
        UniqueConstraint("sku_id", "market_id"),
        CheckConstraint("amount_minor > 0", name="positive"),
    )


class CommissionRate(Base):
    """Commission a marketplace takes on a category; category '*' is the marketplace default."""

    __tablename__ = "commission_rates"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    category: Mapped[str] = mapped_column(String(64))
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    __table_args__ = (
        UniqueConstraint("business_unit_id", "category"),
        CheckConstraint("rate >= 0 AND rate < 1", name="rate"),
    )
