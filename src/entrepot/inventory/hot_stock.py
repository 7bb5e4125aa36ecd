"""Hot-SKU stock: units set aside for a flash sale, so the sale's own counter takes the rush.

A flash sale sends thousands of buyers a second at one SKU. Deducting each order from the warehouse's
stock row would serialise them all on that row (about 2,000 conditional updates a second here). Instead
the sale takes its units out of the warehouse in one reservation when it is created; during the sale
only the sale's counter changes, in coalesced batches (see ordering.flash); when the sale closes, the
units sold leave the shelf and the rest go back on sale, in one transaction. Both steps use the
inventory's ordinary conditional updates, so the warehouse row never goes below zero either.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.inventory import service as inventory
from entrepot.inventory.domain import rank_for_line
from entrepot.inventory.models import Reservation, Stock, Warehouse
from entrepot.kernel.errors import InsufficientStock

# A sale's allocation outlives any checkout reservation: it is settled when the sale closes, not swept.
ALLOCATION_GRACE = dt.timedelta(days=365)


def allocate_to_sale(
    session: Session, sku_id: int, quantity: int, sale_ref: str, country: str, now: dt.datetime
) -> int:
    """Reserve `quantity` units of the SKU from one warehouse (the market's country first, then the one
    with most available) for the sale `sale_ref`; returns the warehouse id."""
    able = rank_for_line(inventory.candidates(session, [sku_id]), quantity, country, None)
    for candidate in able:
        if inventory.try_reserve(session, candidate.stock_id, quantity):
            inventory.add_reservations(
                session, sale_ref, [(candidate.stock_id, quantity)], now + ALLOCATION_GRACE, now
            )
            return candidate.warehouse_id
    raise InsufficientStock(
        f"no warehouse holds {quantity} units of this SKU for the sale", quantity=quantity
    )


def settle_sale(
    session: Session, sale_ref: str, sku_id: int, warehouse_id: int, sold: int, now: dt.datetime
) -> None:
    """Close the allocation: the units sold leave the shelf, the others are available again."""
    inventory.settle(session, sale_ref, "released")
    if sold == 0:
        return
    stock_id = session.scalar(
        select(Stock.id).where(Stock.sku_id == sku_id, Stock.warehouse_id == warehouse_id)
    )
    assert stock_id is not None, "the sale's stock row is gone"
    # The units just released are still on hand and this transaction holds the stock row, so taking the
    # sold ones back cannot fail; they are confirmed as one sold reservation of the sale.
    taken = inventory.try_reserve(session, stock_id, sold)
    assert taken, "released units vanished inside one transaction"
    sold_ref = f"{sale_ref}:sold"
    inventory.add_reservations(session, sold_ref, [(stock_id, sold)], now, now)
    inventory.settle(session, sold_ref, "confirmed")


def sale_reservation_id(session: Session, sale_ref: str) -> int:
    """The reservation that set the sale's units aside (what the sale's orders were allocated from)."""
    found = session.scalar(
        select(Reservation.id).where(Reservation.order_ref == sale_ref).order_by(Reservation.id).limit(1)
    )
    if found is None:
        raise LookupError(f"no stock was set aside for the sale {sale_ref}")
    return found


def warehouse_country(session: Session, warehouse_id: int) -> str:
    country = session.scalar(select(Warehouse.country).where(Warehouse.id == warehouse_id))
    if country is None:
        raise LookupError(f"no warehouse {warehouse_id}")
    return country
