"""Routes of inventory: warehouses and stock per SKU per warehouse, and what a market sells with the
units available (the catalog's priced SKUs with inventory's stock: composed here, above both)."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter

from entrepot.catalog import service as catalog
from entrepot.catalog.schemas import ListedSku
from entrepot.inventory import service
from entrepot.inventory.models import Stock, Warehouse
from entrepot.inventory.schemas import StockIn, StockOut, WarehouseIn, WarehouseOut
from entrepot.organization import service as organization
from entrepot.platform.deps import Caller, Ctx, Operator, Paging, next_cursor
from entrepot.platform.schemas import CodePath, CodeQuery, IdPath, IdQuery, ListPage

# Tagged per route: browsing a market is documented with the catalog, where it always was.
router = APIRouter()
TAGS: list[str | Enum] = ["inventory"]


@router.get("/markets/{market}/skus", response_model=ListPage[ListedSku], tags=["catalog"])
def browse_market(
    market: CodePath, ctx: Ctx, _: Caller, paging: Paging, category: CodeQuery = None, seller: IdQuery = None
) -> ListPage[ListedSku]:
    """What a market sells, with the units available now across warehouses."""
    with ctx.db.transaction() as session:
        found = organization.get_market(session, market)
        rows = catalog.market_skus(session, found.id, paging.after, paging.limit, category, seller)
        available = service.available_by_sku(session, [r.sku_id for r in rows])
        items = [
            ListedSku(
                id=r.sku,
                code=r.code,
                title=r.title,
                category=r.category,
                seller=r.seller,
                price_minor=r.price_minor,
                currency=r.currency,
                available=available.get(r.sku_id, 0),
            )
            for r in rows
        ]
        return ListPage(items=items, next_cursor=next_cursor([r.row_id for r in rows], paging.limit))


def warehouse_out(w: Warehouse) -> WarehouseOut:
    return WarehouseOut(
        id=w.public_id,
        code=w.code,
        name=w.name,
        country=w.country,
        latitude=w.latitude,
        longitude=w.longitude,
    )


def stock_out(sku: str, w: Warehouse, s: Stock) -> StockOut:
    return StockOut(
        sku=sku,
        warehouse=w.code,
        warehouse_country=w.country,
        on_hand=s.on_hand,
        reserved=s.reserved,
        available=s.on_hand - s.reserved,
    )


@router.post("/warehouses", status_code=201, response_model=WarehouseOut, tags=TAGS)
def create_warehouse(body: WarehouseIn, ctx: Ctx, _: Operator) -> WarehouseOut:
    with ctx.db.transaction() as session:
        w = service.create_warehouse(
            session, body.code, body.name, body.country.upper(), body.latitude, body.longitude, ctx.clock()
        )
        return warehouse_out(w)


@router.get("/warehouses", response_model=ListPage[WarehouseOut], tags=TAGS)
def list_warehouses(ctx: Ctx, _: Caller, paging: Paging, country: CodeQuery = None) -> ListPage[WarehouseOut]:
    with ctx.db.transaction() as session:
        found = service.list_warehouses(
            session, country.upper() if country else None, paging.after, paging.limit
        )
        return ListPage(
            items=[warehouse_out(w) for w in found],
            next_cursor=next_cursor([w.id for w in found], paging.limit),
        )


@router.get("/skus/{sku_id}/stock", response_model=list[StockOut], tags=TAGS)
def get_stock(sku_id: IdPath, ctx: Ctx, principal: Caller) -> list[StockOut]:
    scope = catalog.seller_scope(principal)
    with ctx.db.transaction() as session:
        sku = catalog.get_sku(session, sku_id, scope)
        return [stock_out(sku.public_id, w, s) for w, s in service.stock_levels(session, sku.id)]


@router.put("/skus/{sku_id}/stock/{warehouse}", response_model=StockOut, tags=TAGS)
def set_stock(sku_id: IdPath, warehouse: CodePath, body: StockIn, ctx: Ctx, principal: Caller) -> StockOut:
    """Set the counted quantity on hand; it cannot go below what open orders have reserved."""
    scope = catalog.seller_scope(principal)
    with ctx.db.transaction() as session:
        sku = catalog.get_sku(session, sku_id, scope)
        w = service.get_warehouse(session, warehouse)
        return stock_out(sku.public_id, w, service.set_on_hand(session, sku, w, body.on_hand))
