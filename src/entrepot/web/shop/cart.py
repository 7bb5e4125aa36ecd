"""The cart and checkout: the buyer's cart of the market (the cart service of /api/v1/carts: change a
line's quantity, take it out), priced by checkout's quote with its delivery options (fee, promised
date, CO2e, the greenest marked), and placed and paid with the simulated provider as POST
/api/v1/carts/{id}/checkout does, with an idempotency key the form carries (a second click replays)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.catalog import service as catalog
from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.ordering import carts, checkout
from entrepot.ordering.api import deliver_in_process
from entrepot.ordering.context import OrderingContext, OrderingCtx
from entrepot.ordering.domain import Quote
from entrepot.ordering.models import Cart
from entrepot.ordering.shipping import DeliveryOption
from entrepot.platform.schemas import IdPath
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.shop import words
from entrepot.web.shop.browse import QuantityField, parse_quantity
from entrepot.web.shop.common import (
    MarketPart,
    Marketplace,
    Shop,
    ShopRoute,
    current_cart,
    forget_cart,
    items_in,
    open_shop,
    render_shop,
)

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
# The simulated provider's method tokens a buyer picks from (any other token is the API's to send).
PAYMENT_METHODS = words.PAYMENT_METHODS
AddedQuery = Annotated[str | None, Query(max_length=64, description="the SKU just added, to say so")]
Token = Annotated[str, Form(max_length=64)]


def _lines_of(session: Session, shop: Shop, cart: Cart | None) -> list[dict[str, object]]:
    """The cart's lines with their product titles and unit prices in the market."""
    held = carts.cart_lines(session, cart) if cart else []
    priced = catalog.priced_skus(session, shop.market.id, [sku for sku, _ in held])
    labels = catalog.sku_labels(session, [p.sku_id for p in priced.values()])
    return [
        {
            "sku": sku,
            "quantity": quantity,
            "title": labels[priced[sku].sku_id].title if sku in priced else sku,
            "code": labels[priced[sku].sku_id].code if sku in priced else "",
            "unit_price_minor": priced[sku].unit_price_minor if sku in priced else None,
        }
        for sku, quantity in held
    ]


def _quoted(
    session: Session, ctx: OrderingContext, viewer: SignedIn, cart: Cart | None
) -> tuple[checkout.Quoted | None, FormProblem]:
    """Checkout's quote of the cart (totals and delivery options), or why it cannot be quoted now."""
    if cart is None or not carts.cart_lines(session, cart):
        return None, FormProblem()
    basket = carts.basket_of(session, cart)
    try:  # the quote only reads: a refusal leaves the page's transaction as it was
        quoted = checkout.quote(session, viewer.principal, basket, ctx.limits, ctx.shipping, ctx.clock())
    except DomainError as problem:
        return None, FormProblem.of(problem)
    return quoted, FormProblem()


def _each_option(
    session: Session, ctx: OrderingContext, viewer: SignedIn, cart: Cart
) -> tuple[list[tuple[DeliveryOption, Quote]], FormProblem]:
    """The cart priced with each delivery option (checkout.quote_each_option), or why it cannot be."""
    if not carts.cart_lines(session, cart):
        return [], FormProblem()
    basket = carts.basket_of(session, cart)
    try:  # only reads, as _quoted
        each = checkout.quote_each_option(
            session, viewer.principal, basket, ctx.limits, ctx.shipping, ctx.clock()
        )
    except DomainError as problem:
        return [], FormProblem.of(problem)
    return each, FormProblem()


def _cart_page(
    request: Request,
    ctx: OrderingContext,
    viewer: SignedIn,
    marketplace: str,
    market: str,
    status: int = 200,
    problem: FormProblem | None = None,
    failed_sku: str | None = None,
    added: str | None = None,
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        cart = current_cart(session, request, viewer)
        lines = _lines_of(session, shop, cart)
        quoted, unquoted = _quoted(session, ctx, viewer, cart)
        count = items_in(session, cart)
    return render_shop(
        request,
        "shop_cart.html",
        shop,
        status,
        cart_count=count,
        lines=lines,
        quoted=quoted,
        unquoted=unquoted,
        problem=problem or FormProblem(),
        failed_sku=failed_sku,
        added=added,
        csrf=viewer.csrf_token,
    )


@router.get("/shop/{marketplace}/{market}/cart")
def cart_page(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ctx: OrderingCtx,
    viewer: Viewer,
    added: AddedQuery = None,
) -> Response:
    return _cart_page(request, ctx, viewer, marketplace, market, added=added)


@router.post("/shop/{marketplace}/{market}/cart/lines/{sku}")
def set_line(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    sku: IdPath,
    ctx: OrderingCtx,
    viewer: Viewer,
    csrf: CsrfField = "",
    quantity: QuantityField = "",
) -> Response:
    """Set a line's quantity (0 takes it out), as PUT /api/v1/carts/{id}/lines/{sku}."""
    auth.check_csrf(viewer, csrf)
    try:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            cart = current_cart(session, request, viewer)
            if cart is None:  # the cart was checked out meanwhile, or another buyer signed in
                return RedirectResponse(f"{shop.path}/cart", status_code=303)
            wanted = parse_quantity(quantity)
            carts.set_line(session, viewer.principal, cart.public_id, sku, wanted, ctx.limits, ctx.clock())
    except DomainError as problem:
        if problem.status in (401, 403, 404):
            raise
        found = FormProblem.of(problem)
        return _cart_page(request, ctx, viewer, marketplace, market, problem.status, found, sku)
    return RedirectResponse(f"{shop.path}/cart", status_code=303)


def _checkout_page(
    request: Request,
    ctx: OrderingContext,
    viewer: SignedIn,
    marketplace: str,
    market: str,
    status: int = 200,
    problem: FormProblem | None = None,
    chosen: str | None = None,
    method: str = "card_visa",
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        cart = current_cart(session, request, viewer)
        if cart is None:  # nothing to check out: the (empty) cart says so
            return RedirectResponse(f"{shop.path}/cart", status_code=303)
        lines = _lines_of(session, shop, cart)
        each, unquoted = _each_option(session, ctx, viewer, cart)
        count = items_in(session, cart)
    choices = [(option, _asked_as(option), quote) for option, quote in each]
    if choices and chosen is None:
        chosen = next((value for option, value, _ in choices if option.default), choices[0][1])
    return render_shop(
        request,
        "shop_checkout.html",
        shop,
        status,
        cart_count=count,
        lines=lines,
        unquoted=unquoted,
        problem=problem or FormProblem(),
        choices=choices,
        chosen=chosen,
        method=method,
        methods=PAYMENT_METHODS,
        key=secrets.token_urlsafe(18),  # this form's idempotency key: sent twice, one order
        csrf=viewer.csrf_token,
    )


@router.get("/shop/{marketplace}/{market}/checkout")
def checkout_page(
    request: Request, marketplace: Marketplace, market: MarketPart, ctx: OrderingCtx, viewer: Viewer
) -> Response:
    return _checkout_page(request, ctx, viewer, marketplace, market)


@router.post("/shop/{marketplace}/{market}/checkout")
def place_and_pay(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ctx: OrderingCtx,
    viewer: Viewer,
    background: BackgroundTasks,
    csrf: CsrfField = "",
    key: Token = "",
    delivery_option: Token = "",
    payment_method: Token = "",
) -> Response:
    """Place the cart's order with the chosen delivery option and start paying (the provider's signed
    webhook is delivered in this process after the answer, as the API's checkout does)."""
    auth.check_csrf(viewer, csrf)
    try:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            cart = current_cart(session, request, viewer, open_only=False)  # a second click: replayed
            if cart is None:
                return RedirectResponse(f"{shop.path}/cart", status_code=303)
            placed = carts.checkout_cart(
                session,
                viewer.principal,
                cart.public_id,
                _key(key),
                checkout.PayNow(_method(payment_method), ctx.payments),
                ctx.limits,
                ctx.fx,
                ctx.clock(),
                ctx.shipping,
                delivery_option or None,
            )
    except DomainError as problem:
        if problem.status in (401, 403, 404):
            raise
        found = FormProblem.of(problem)
        return _checkout_page(
            request, ctx, viewer, marketplace, market, problem.status, found, delivery_option, payment_method
        )
    if placed.delivery is not None:
        background.add_task(deliver_in_process, ctx, placed.delivery)
    response = RedirectResponse(f"{shop.path}/orders/{placed.order.public_id}?placed=1", status_code=303)
    forget_cart(request, response, shop)
    return response


def _asked_as(option: DeliveryOption) -> str:
    """The id a choice of this option is sent with: one route can answer several ids (the sea route is
    the cheapest and the greenest standard delivery); the card marked greenest asks for the greenest,
    so the order records that objective, as an API client asking for `...-greenest` would."""
    if option.greenest:
        return next((a for a in option.answers if a.endswith("-greenest")), option.id)
    return option.id


def _key(given: str) -> str:
    """The form's idempotency key, or a new one when a hand-made request left it out."""
    return (
        given if 8 <= len(given) <= 64 and given.isascii() and given.isprintable() else secrets.token_hex(16)
    )


def _method(given: str) -> str:
    if given not in PAYMENT_METHODS:
        raise ValidationFailed(
            "choose how to pay", [FieldError("payment_method", f"one of {', '.join(PAYMENT_METHODS)}")]
        )
    return given
