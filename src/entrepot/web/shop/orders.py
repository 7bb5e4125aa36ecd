"""A buyer's orders in a shop: the list (as GET /api/v1/orders?market=...) and an order's page with its
state, its timeline and the tracking of its parcels (as GET /api/v1/orders/{id} and
/orders/{id}/shipments). Orders are read through the principal's eyes (ordering.queries): another
buyer's order is a 404 here, as in the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.catalog import service as catalog
from entrepot.kernel.errors import not_found
from entrepot.kernel.pagination import decode_cursor
from entrepot.logistics import tracking_service
from entrepot.ordering import queries
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.platform.schemas import IdPath
from entrepot.web.auth import Viewer
from entrepot.web.orders import CursorQuery
from entrepot.web.shop.common import (
    PAGE_SIZE,
    MarketPart,
    Marketplace,
    Shop,
    ShopRoute,
    current_cart,
    items_in,
    open_shop,
    render_shop,
)

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
PlacedQuery = Annotated[int | None, Query(ge=1, le=1, description="the order was just placed")]


@router.get("/shop/{marketplace}/{market}/orders")
def my_orders(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ctx: Ctx,
    viewer: Viewer,
    cursor: CursorQuery = None,
) -> Response:
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        filters = queries.OrderFilter(market=shop.market.code)
        orders = queries.list_orders(session, viewer.principal, filters, decode_cursor(cursor), limit)
        count = items_in(session, current_cart(session, request, viewer))
    return render_shop(
        request,
        "shop_orders.html",
        shop,
        cart_count=count,
        orders=orders,
        next_cursor=next_cursor([o.id for o in orders], limit),
        first_page=cursor is not None,
    )


@router.get("/shop/{marketplace}/{market}/orders/{order_id}")
def order_page(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    order_id: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    placed: PlacedQuery = None,
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        order = queries.get_order(session, order_id, viewer.principal)
        detail = queries.order_detail(session, order)
        if detail.market_code != shop.market.code:  # another shop's order: not found in this one
            raise not_found("order", order_id)
        titles = _titles(session, shop, [str(line["sku"]) for line in detail.lines])
        timeline = queries.order_timeline(session, order)
        parcels = [
            (s, tracking_service.scans_of(session, s))
            for s in tracking_service.shipments_of_order(session, order.public_id)
        ]
        count = items_in(session, current_cart(session, request, viewer))
    return render_shop(
        request,
        "shop_order.html",
        shop,
        cart_count=count,
        order=order,
        detail=detail,
        titles=titles,
        timeline=timeline,
        parcels=parcels,
        placed=placed,
    )


def _titles(session: Session, shop: Shop, skus: list[str]) -> dict[str, str]:
    """SKU public id -> `title code`, for the SKUs the market still sells (others show their id)."""
    priced = catalog.priced_skus(session, shop.market.id, skus)
    labels = catalog.sku_labels(session, [p.sku_id for p in priced.values()])
    return {sku: f"{labels[p.sku_id].title} {labels[p.sku_id].code}" for sku, p in priced.items()}
