"""Use cases of inventory. Every stock change is one conditional UPDATE, never read-then-write:
the WHERE clause re-checks availability on the newest row version, so concurrent buyers cannot oversell,
and the table's CHECK constraints stop any caller that tries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from entrepot.catalog.service import SkuView
from entrepot.inventory import allocation
from entrepot.inventory.domain import MAX_STOCK_UNITS, Candidate
from entrepot.inventory.models import Reservation, Stock, Warehouse
from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.organization.domain import check_code
from entrepot.platform import audit
from entrepot.platform.db import insert_many_returning_ids, refuse_taken_code


def create_warehouse(
    session: Session, code: str, name: str, country: str, latitude: float, longitude: float, now: dt.datetime
) -> Warehouse:
    check_code(code)
    errors = []
    if (bad_country := country_error(country)) is not None:
        errors.append(bad_country)
    if not -90 <= latitude <= 90:
        errors.append(FieldError("latitude", "between -90 and 90"))
    if not -180 <= longitude <= 180:
        errors.append(FieldError("longitude", "between -180 and 180"))
    if errors:
        raise ValidationFailed("invalid warehouse", errors)
    refuse_taken_code(session, Warehouse, code, "a warehouse")
    warehouse = Warehouse(
        public_id=new_id("wh"),
        code=code,
        name=name,
        country=country,
        latitude=latitude,
        longitude=longitude,
        created_at=now,
    )
    session.add(warehouse)
    session.flush()
    after = {"name": name, "country": country, "latitude": latitude, "longitude": longitude}
    audit.record(session, "warehouse.created", code, None, after, now)
    return warehouse


def get_warehouse(session: Session, code_or_id: str) -> Warehouse:
    column = Warehouse.public_id if code_or_id.startswith("wh_") else Warehouse.code
    warehouse = session.scalar(select(Warehouse).where(column == code_or_id))
    if warehouse is None:
        raise NotFound(f"no warehouse {code_or_id!r}")
    return warehouse


def set_on_hand(session: Session, sku: SkuView, warehouse: Warehouse, on_hand: int) -> Stock:
    """Set the counted quantity. It may not drop below what is already reserved for buyers."""
    if on_hand < 0:
        raise ValidationFailed("invalid stock", [FieldError("on_hand", "must not be negative")])
    stock = session.scalar(select(Stock).where(Stock.sku_id == sku.id, Stock.warehouse_id == warehouse.id))
    if stock is None:
        stock = Stock(sku_id=sku.id, warehouse_id=warehouse.id, on_hand=on_hand, reserved=0)
        session.add(stock)
        audit.record(session, "stock.set", f"{sku.public_id}@{warehouse.code}", None, {"on_hand": on_hand})
        session.flush()
        return stock
    result = session.execute(
        update(Stock)
        .where(Stock.id == stock.id, Stock.reserved <= on_hand)
        .values(on_hand=on_hand)
        .returning(Stock.on_hand, Stock.reserved)
    ).first()
    if result is None:
        raise Conflict(
            f"{on_hand} is below the {stock.reserved} units reserved for open orders", code="below-reserved"
        )
    before, after = {"on_hand": stock.on_hand}, {"on_hand": on_hand}
    audit.record(session, "stock.set", f"{sku.public_id}@{warehouse.code}", before, after)
    session.refresh(stock)
    return stock


def stock_levels(session: Session, sku_id: int) -> list[tuple[Warehouse, Stock]]:
    rows = session.execute(
        select(Warehouse, Stock).join(Stock, Stock.warehouse_id == Warehouse.id).where(Stock.sku_id == sku_id)
    ).all()
    return [(w, s) for w, s in rows]


# The checkout's statements are built once, with bind parameters: building a statement and its cache
# key costs more Python time than PostgreSQL spends running it.
_STOCK = cast(Table, Stock.__table__)
_RESERVATIONS = cast(Table, Reservation.__table__)
_stock = _STOCK.c
_reservation = _RESERVATIONS.c
_CANDIDATES = (
    select(
        _stock.id,
        _stock.sku_id,
        Warehouse.__table__.c.id,
        Warehouse.__table__.c.public_id,
        Warehouse.__table__.c.country,
        Warehouse.__table__.c.latitude,
        Warehouse.__table__.c.longitude,
        (_stock.on_hand - _stock.reserved).label("available"),
        Warehouse.__table__.c.code,
    )
    .join_from(Stock.__table__, Warehouse.__table__, Warehouse.__table__.c.id == _stock.warehouse_id)
    .where(_stock.sku_id.in_(bindparam("sku_ids", expanding=True)), _stock.on_hand > _stock.reserved)
)
_RESERVE = (
    update(_STOCK)
    .where(_stock.id == bindparam("stock_id"), _stock.on_hand - _stock.reserved >= bindparam("quantity"))
    .values(reserved=_stock.reserved + bindparam("quantity"))
)
_SETTLE = (
    update(_RESERVATIONS)
    .where(_reservation.order_ref.in_(bindparam("refs", expanding=True)), _reservation.status == "active")
    .values(status=bindparam("outcome"))
    .returning(_reservation.order_ref, _reservation.stock_id, _reservation.quantity)
)


def candidates(session: Session, sku_ids: Iterable[int]) -> list[Candidate]:
    """Every warehouse holding available stock of these SKUs, in one query."""
    rows = session.execute(_CANDIDATES, {"sku_ids": list(sku_ids)}).all()
    return [Candidate(*row) for row in rows]


def try_reserve(session: Session, stock_id: int, quantity: int) -> bool:
    """Take `quantity` from available stock if, and only if, it is still there."""
    result = session.execute(_RESERVE, {"stock_id": stock_id, "quantity": quantity})
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def add_reservations(
    session: Session, order_ref: str, lines: list[tuple[int, int]], expires_at: dt.datetime, now: dt.datetime
) -> list[int]:
    """Record reservations for (stock_id, quantity) pairs already taken by try_reserve; returns their ids."""
    return add_order_reservations(session, [(order_ref, sid, q) for sid, q in lines], expires_at, now)


def add_order_reservations(
    session: Session, taken: list[tuple[str, int, int]], expires_at: dt.datetime, now: dt.datetime
) -> list[int]:
    """Record the reservations of a batch of orders, (order ref, stock id, quantity) each, already taken
    from stock (inventory.allocation), in one statement; returns their ids in the same order."""
    rows = [
        {
            "stock_id": stock_id,
            "order_ref": order_ref,
            "quantity": quantity,
            "status": "active",
            "expires_at": expires_at,
            "created_at": now,
        }
        for order_ref, stock_id, quantity in taken
    ]
    return insert_many_returning_ids(session, _RESERVATIONS, rows)


def settle(session: Session, order_ref: str, outcome: str) -> bool:
    """Confirm (sold), release or expire the active reservations of an order, all together.

    Returns False when none is active any more (a concurrent sweeper or webhook settled them first):
    then nothing changes and the caller decides what that means.
    """
    return bool(settle_orders(session, [order_ref], outcome))


def settle_orders(session: Session, order_refs: Collection[str], outcome: str) -> set[str]:
    """`settle` for many orders in a few statements, whatever their number (a batch of payments): the
    orders whose reservations were still active, each settled all together."""
    if outcome not in ("confirmed", "released", "expired"):
        raise ValueError(outcome)
    if not order_refs:
        return set()
    claimed = session.execute(_SETTLE, {"refs": list(order_refs), "outcome": outcome}).all()
    if not claimed:
        return set()
    taken: dict[int, int] = {}
    for _, stock_id, quantity in claimed:
        taken[stock_id] = taken.get(stock_id, 0) + quantity
    allocation.settle_units(session, taken, sold=outcome == "confirmed")
    return {order_ref for order_ref, _, _ in claimed}


def restock_order(session: Session, order_ref: str) -> None:
    """Goods of a sold order go back on the shelves they came from (a cancellation after payment,
    or a received return)."""
    sold = session.execute(
        select(Reservation.stock_id, Reservation.quantity).where(
            Reservation.order_ref == order_ref, Reservation.status == "confirmed"
        )
    ).all()
    for stock_id, quantity in sold:
        session.execute(update(Stock).where(Stock.id == stock_id).values(on_hand=Stock.on_hand + quantity))


def available_by_sku(session: Session, sku_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Stock.sku_id, func.sum(Stock.on_hand - Stock.reserved))
        .where(Stock.sku_id.in_(sku_ids))
        .group_by(Stock.sku_id)
    )
    return {sku_id: int(total or 0) for sku_id, total in rows}


# For other contexts' reads: a warehouse's public id inside their statements, and warehouses' places.


def warehouse_public_id(warehouse_id_column: ColumnExpressionArgument[int]) -> ScalarSelect[str]:
    """The public id of the warehouse `warehouse_id_column` refers to, as an expression for another
    context's query (the lines of a page of orders, say), so that reading them stays one statement."""
    return select(Warehouse.public_id).where(Warehouse.id == warehouse_id_column).scalar_subquery()


@dataclass(frozen=True, slots=True)
class WarehousePlace:
    code: str
    country: str


def warehouse_places(session: Session, warehouse_ids: Collection[int]) -> dict[int, WarehousePlace]:
    """id -> where the warehouse is (its code and country), in one query."""
    if not warehouse_ids:
        return {}
    rows = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.country).where(Warehouse.id.in_(set(warehouse_ids)))
    )
    return {warehouse_id: WarehousePlace(code, country) for warehouse_id, code, country in rows}


def list_warehouses(session: Session, country: str | None, after: int | None, limit: int) -> list[Warehouse]:
    """A page of warehouses in id order (of one country when given), after the id `after`."""
    query = select(Warehouse).order_by(Warehouse.id).limit(limit)
    if country:
        query = query.where(Warehouse.country == country)
    if after is not None:
        query = query.where(Warehouse.id > after)
    return list(session.scalars(query))


class CatalogStock:
    """Inventory's side of a catalog import's optional stock columns (catalog.service.StockPort), in the
    import's transaction: warehouses are read once each by code."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.warehouses: dict[str, Warehouse | None] = {}

    def _warehouse(self, code: str) -> Warehouse | None:
        if code not in self.warehouses:
            self.warehouses[code] = self.session.scalar(select(Warehouse).where(Warehouse.code == code))
        return self.warehouses[code]

    def stock_errors(self, sku: SkuView | None, warehouse: str, on_hand: int) -> list[FieldError]:
        found = self._warehouse(warehouse)
        if found is None:
            return [FieldError("warehouse", f"no warehouse {warehouse!r}")]
        if not 0 <= on_hand <= MAX_STOCK_UNITS:
            return [FieldError("stock", f"must be between 0 and {MAX_STOCK_UNITS} units")]
        if sku is not None:
            reserved = self.session.scalar(
                select(Stock.reserved).where(Stock.sku_id == sku.id, Stock.warehouse_id == found.id)
            )
            if reserved is not None and reserved > on_hand:
                return [
                    FieldError("stock", f"{on_hand} is below the {reserved} units reserved for open orders")
                ]
        return []

    def set_on_hand(self, sku: SkuView, warehouse: str, on_hand: int) -> None:
        found = self._warehouse(warehouse)
        if found is None:  # stock_errors said so before the row was written
            raise NotFound(f"no warehouse {warehouse!r}")
        set_on_hand(self.session, sku, found, on_hand)
