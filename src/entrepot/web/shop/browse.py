"""Browsing a shop: the shops there are, a market's products (a search by title, cursor pages, as GET
/api/v1/markets/{market}/skus) and a product's page with its price in the market's currency, from
which a buyer adds it to the cart (the cart service of PUT /api/v1/carts/{id}/lines/{sku})."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from entrepot.catalog import service as catalog
from entrepot.identity.sessions import SignedIn
from entrepot.inventory import service as inventory
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed, not_found
from entrepot.kernel.pagination import decode_cursor
from entrepot.ordering import carts
from entrepot.ordering.context import OrderingCtx
from entrepot.organization import service as organization
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.platform.schemas import IdPath, Text
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.orders import CursorQuery
from entrepot.web.shop.common import (
    PAGE_SIZE,
    MarketPart,
    Marketplace,
    ShopRoute,
    current_cart,
    items_in,
    keep_cart,
    open_shop,
    render_shop,
)

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
SearchQuery = Annotated[Text | None, Query(max_length=200, description="part of a product's title")]
QuantityField = Annotated[str, Form(max_length=12)]


@router.get("/shop")
def shops(request: Request, ctx: Ctx, viewer: Viewer) -> Response:
    """Every marketplace's markets, each a shop in its own currency and language."""
    with ctx.db.transaction() as session:
        found = organization.list_markets(session, None, None, 500)
    listed = [(unit, market.country.lower(), market.currency, market.locale) for market, unit in found]
    return render_shop(request, "shop_index.html", None, markets=listed)


@router.get("/shop/{marketplace}/{market}")
def browse(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ctx: Ctx,
    viewer: Viewer,
    q: SearchQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    """A page of what the market sells, with a search by title; the next page keeps the search."""
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        rows = catalog.market_skus(session, shop.market.id, decode_cursor(cursor), limit, None, None, q)
        available = inventory.available_by_sku(session, [r.sku_id for r in rows])
        count = items_in(session, current_cart(session, request, viewer))
    return render_shop(
        request,
        "shop_browse.html",
        shop,
        cart_count=count,
        rows=rows,
        available=available,
        q=q or "",
        next_cursor=next_cursor([r.row_id for r in rows], limit),
        first_page=cursor is not None,
    )


@router.get("/shop/{marketplace}/{market}/products/{sku}")
def product(
    request: Request, marketplace: Marketplace, market: MarketPart, sku: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    return _product_page(request, ctx, viewer, marketplace, market, sku)


def _product_page(
    request: Request,
    ctx: Ctx,
    viewer: SignedIn,
    marketplace: str,
    market: str,
    sku: str,
    status: int = 200,
    problem: FormProblem | None = None,
    quantity: str = "1",
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        priced = catalog.priced_skus(session, shop.market.id, [sku])
        if sku not in priced:
            raise not_found("product", sku)  # not sold here: as the cart service answers it
        found = priced[sku]
        label = catalog.sku_labels(session, [found.sku_id])[found.sku_id]
        available = inventory.available_by_sku(session, [found.sku_id]).get(found.sku_id, 0)
        seller = catalog.get_seller(session, found.seller_public_id).name
        count = items_in(session, current_cart(session, request, viewer))
    return render_shop(
        request,
        "shop_product.html",
        shop,
        status,
        cart_count=count,
        sku=found,
        label=label,
        seller=seller,
        available=available,
        csrf=viewer.csrf_token,
        problem=problem or FormProblem(),
        quantity=quantity,
    )


@router.post("/shop/{marketplace}/{market}/cart/lines")
def add_to_cart(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ctx: OrderingCtx,
    viewer: Viewer,
    csrf: CsrfField = "",
    sku: Annotated[str, Form(max_length=64)] = "",
    quantity: QuantityField = "1",
) -> Response:
    """Add to the buyer's cart in this market (a new cart the first time): the quantity in the cart goes
    up by the one asked for, within the cart service's limits, which it states in place when refused."""
    auth.check_csrf(viewer, csrf)
    try:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            cart = current_cart(session, request, viewer)
            if cart is None:
                cart = carts.create_cart(session, viewer.principal, shop.market.code, ctx.clock())
            held = dict(carts.cart_lines(session, cart)).get(sku, 0)
            carts.set_line(
                session,
                viewer.principal,
                cart.public_id,
                sku,
                held + parse_quantity(quantity),
                ctx.limits,
                ctx.clock(),
            )
    except DomainError as problem:
        if problem.status in (401, 403, 404):
            raise
        found = FormProblem.of(problem)
        return _product_page(request, ctx, viewer, marketplace, market, sku, problem.status, found, quantity)
    response = RedirectResponse(f"{shop.path}/cart?added={sku}", status_code=303)
    keep_cart(request, response, shop, cart)
    return response


def parse_quantity(typed: str) -> int:
    """A quantity as typed: a whole number (the cart service decides how many are allowed)."""
    text = typed.strip()
    if not text.isdigit() or len(text) > 9:
        raise ValidationFailed("invalid quantity", [FieldError("quantity", "a whole number, e.g. 1")])
    return int(text)
