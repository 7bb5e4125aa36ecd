"""Routes of inventory: warehouses and stock per SKU per warehouse, what a market sells with the units
available, and the catalog CSV import with its optional stock columns (the catalog's rows with
inventory's stock: both composed here, above the catalog)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from entrepot.catalog import service as catalog
from entrepot.catalog.schemas import ImportErrorOut, ImportReportOut, ListedSku
from entrepot.inventory import service
from entrepot.inventory.models import Stock, Warehouse
from entrepot.inventory.schemas import StockIn, StockOut, WarehouseIn, WarehouseOut
from entrepot.kernel.bounds import ID_LENGTH
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Caller, Ctx, Operator, Paging, next_cursor
from entrepot.platform.principal import Principal
from entrepot.platform.problems import problem
from entrepot.platform.schemas import CSV_BODY, CodePath, CodeQuery, IdPath, IdQuery, ListPage, Text

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


@router.post(
    "/catalog/import",
    response_model=ImportReportOut,
    tags=["catalog"],
    openapi_extra=CSV_BODY,
)
async def import_catalog(
    request: Request,
    ctx: Ctx,
    principal: Caller,
    partial: Annotated[bool, Query(description="import the good rows and report the bad ones")] = False,
    seller: Annotated[
        Text | None, Query(max_length=ID_LENGTH, description="operators only: the seller")
    ] = None,
) -> JSONResponse | ImportReportOut:
    """Bulk import a catalog CSV. By default a file with any bad row imports nothing; every bad row is
    reported with its line number and fields. The optional `stock` and `warehouse` columns set the units
    on hand there, so the SKUs can be ordered at once (composed here: the catalog sits below inventory)."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV must be UTF-8", [FieldError("file", "not UTF-8")]) from None
    report = await run_in_threadpool(_import, ctx, principal, seller, text, partial)
    if report.errors and not partial:
        return problem(
            422,
            "catalog-rows-invalid",
            "Invalid rows",
            f"{len(report.errors)} of {report.rows} rows are invalid; nothing was imported",
            request.url.path,
            errors=None,
            extra={"rows": report.errors},
        )
    return ImportReportOut(
        imported=report.imported > 0,
        rows=report.rows,
        rows_imported=report.imported,
        products_created=report.products_created,
        skus_created=report.skus_created,
        prices_set=report.prices_set,
        stock_set=report.stock_set,
        errors=[ImportErrorOut(**e) for e in report.errors],  # type: ignore[arg-type]
    )


def _import(
    ctx: AppContext, principal: Principal, seller: str | None, text: str, partial: bool
) -> catalog.ImportReport:
    # A file with a bad row returns before writing anything, so the transaction commits nothing.
    with ctx.db.transaction() as session:
        acting = catalog.acting_seller(session, principal, seller)
        stock = service.CatalogStock(session)
        return catalog.import_catalog_csv(session, acting, text, partial, ctx.clock(), stock)


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
