"""Sellers and the catalog: the sellers list (operators only, as GET /api/v1/sellers; a search by name,
its `q`, and cursor pages), a seller's page with its marketplaces, commissions and products (an
operator any, a seller only its own: another's is a 404, as GET /api/v1/sellers/{id}), and a product's
page with its SKUs, their prices per market and their stock per warehouse (as GET
/api/v1/products/{id}: buyers 403), with the seller centre's forms (web/seller_catalog.py: prices and
stock; web/catalog_import.py: the CSV import)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from entrepot.catalog import service
from entrepot.kernel.pagination import decode_cursor
from entrepot.organization import service as organization
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.platform.schemas import CodeQuery, IdPath, IdQuery, Text
from entrepot.web import catalog_import, seller_catalog
from entrepot.web.auth import Viewer
from entrepot.web.orders import PAGE_SIZE, CursorQuery
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
SearchQuery = Annotated[Text | None, Query(max_length=200, description="part of a seller's name")]


@router.get("/catalog")
def catalog_home(ctx: Ctx, viewer: Viewer) -> Response:
    """The navigation's way in: the sellers list for an operator, a seller's own page for a seller."""
    service.seller_scope(viewer.principal)  # buyers and carriers: 403, as the catalog's admin views
    if viewer.principal.is_operator:
        return RedirectResponse("/sellers", status_code=303)
    return RedirectResponse(f"/sellers/{viewer.principal.seller_public_id}", status_code=303)


@router.get("/sellers")
def list_sellers(
    request: Request, ctx: Ctx, viewer: Viewer, q: SearchQuery = None, cursor: CursorQuery = None
) -> Response:
    viewer.principal.require("operator")  # as the API's list: 403 for any other role
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    search = (q or "").strip()
    with ctx.db.transaction() as session:
        sellers = service.list_sellers(session, decode_cursor(cursor), limit, search or None)
        marketplaces = service.sellers_marketplace_ids(session, [s.id for s in sellers])
        codes = organization.unit_codes(session, set().union(*marketplaces.values()))
    return render(
        request,
        "sellers.html",
        sellers=[(s, sorted(codes[u] for u in marketplaces[s.id])) for s in sellers],
        search=search,
        next_cursor=next_cursor([s.id for s in sellers], limit),
        first_page=cursor is not None,
    )


@router.get("/sellers/{seller_id}")
def seller_page(
    request: Request, seller_id: IdPath, ctx: Ctx, viewer: Viewer, cursor: CursorQuery = None
) -> Response:
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        seller = service.visible_seller(session, viewer.principal, seller_id)
        unit_ids = service.seller_marketplace_ids(session, seller.id)
        codes = organization.unit_codes(session, unit_ids)
        commissions = service.commission_table(session, unit_ids)
        products = service.list_products(session, seller.id, decode_cursor(cursor), limit)
        skus = service.product_skus(session, [p.id for p, _ in products])
    return render(
        request,
        "seller.html",
        seller=seller,
        commissions=sorted((codes[unit], rates) for unit, rates in commissions.items()),
        products=[(p, len(skus[p.id])) for p, _ in products],
        next_cursor=next_cursor([p.id for p, _ in products], limit),
        first_page=cursor is not None,
    )


@router.get("/products/{product_id}")
def product_page(
    request: Request,
    product_id: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    done: seller_catalog.DoneQuery = None,
    sku: IdQuery = None,
    at: CodeQuery = None,
) -> Response:
    """The product, with the forms that set its SKUs' prices and stock (web/seller_catalog.py); `done`,
    `sku` and `at` say what was just set."""
    found = seller_catalog.done_of(done, sku, at)
    return seller_catalog.product_page(request, ctx, viewer, product_id, done=found)


# The seller centre's forms (prices, stock, the CSV import) answer under this router, which the
# console already mounts (web/app.py).
router.include_router(seller_catalog.router)
router.include_router(catalog_import.router)
