"""Sellers and the category of each SKU, for the reporting snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.catalog.models import Product, Seller, Sku

Row = dict[str, Any]


def seller_rows(session: Session) -> list[Row]:
    query = select(Seller.id.label("seller_id"), Seller.public_id.label("seller"), Seller.country)
    return [dict(r) for r in session.execute(query.order_by(Seller.id)).mappings()]


def sku_category_rows(session: Session) -> list[Row]:
    query = select(Sku.id.label("sku_id"), Product.category).join(Product, Product.id == Sku.product_id)
    return [dict(r) for r in session.execute(query.order_by(Sku.id)).mappings()]
