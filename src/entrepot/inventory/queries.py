"""Inventory's reads for pages: stock lines by warehouse with filters and keyset pages, what is low,
and the reservations holding stock, each in one query whatever the page's size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.inventory.models import Reservation, Stock, Warehouse

_Row = TypeVarTuple("_Row")
LOW_STOCK_UNITS = 5  # a stock line is low when at most this many units are available (the default)


@dataclass(frozen=True, slots=True)
class StockLine:
    row_id: int  # the stock row's id: the page's cursor
    sku_id: int
    warehouse: str
    country: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class StockFilter:
    """`seller_id`: only that seller's SKUs (a seller's own view); `warehouse`: a warehouse's code;
    `market_id`: only SKUs with a price in that market; `low_at`: only lines with at most that many
    units available."""

    seller_id: int | None = None
    warehouse: str | None = None
    market_id: int | None = None
    low_at: int | None = None


_LINE = select(Stock.id, Stock.sku_id, Warehouse.code, Warehouse.country, Stock.on_hand, Stock.reserved).join(
    Warehouse, Warehouse.id == Stock.warehouse_id
)


def stock_lines(session: Session, where: StockFilter, after: int | None, limit: int) -> list[StockLine]:
    """A page of stock lines in row order (stable while stock moves), after the row `after`."""
    query = _scoped(_LINE, where)
    if where.low_at is not None:
        query = query.where(Stock.on_hand - Stock.reserved <= where.low_at)
    if after is not None:
        query = query.where(Stock.id > after)
    return [StockLine(*row) for row in session.execute(query.order_by(Stock.id).limit(limit))]


def stock_by_sku(session: Session, sku_ids: Collection[int]) -> dict[int, list[StockLine]]:
    """SKU id -> its stock in each warehouse, in one query."""
    found: dict[int, list[StockLine]] = {sku_id: [] for sku_id in sku_ids}
    if found:
        rows = session.execute(_LINE.where(Stock.sku_id.in_(found)).order_by(Stock.sku_id, Warehouse.code))
        for row in rows:
            found[row[1]].append(StockLine(*row))
    return found


@dataclass(frozen=True, slots=True)
class HeldStock:
    row_id: int
    order_ref: str
    sku_id: int
    warehouse: str
    quantity: int
    expires_at: dt.datetime
    created_at: dt.datetime


def active_reservations(
    session: Session, where: StockFilter, after: int | None, limit: int
) -> list[HeldStock]:
    """A page of the reservations holding stock now (not yet confirmed, released or expired), oldest
    first."""
    query = _scoped(
        select(
            Reservation.id,
            Reservation.order_ref,
            Stock.sku_id,
            Warehouse.code,
            Reservation.quantity,
            Reservation.expires_at,
            Reservation.created_at,
        )
        .join(Stock, Stock.id == Reservation.stock_id)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Reservation.status == "active"),
        where,
    )
    if after is not None:
        query = query.where(Reservation.id > after)
    return [HeldStock(*row) for row in session.execute(query.order_by(Reservation.id).limit(limit))]


def _scoped(query: Select[*_Row], where: StockFilter) -> Select[*_Row]:
    if where.seller_id is not None:
        query = query.where(Stock.sku_id.in_(catalog.skus_of_seller(where.seller_id)))
    if where.warehouse:
        query = query.where(Warehouse.code == where.warehouse)
    if where.market_id is not None:
        query = query.where(Stock.sku_id.in_(catalog.skus_priced_in(where.market_id)))
    return query
