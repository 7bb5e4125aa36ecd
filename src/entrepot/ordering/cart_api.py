"""Routes of carts: a buyer keeps a basket in a market, quotes it, and checks it out into an order."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response
from sqlalchemy.orm import Session

from entrepot.ordering import carts, checkout, queries
from entrepot.ordering.api import deliver_in_process, order_out, quote_out
from entrepot.ordering.context import OrderingCtx
from entrepot.ordering.models import Cart
from entrepot.ordering.schemas import (
    CartCheckoutIn,
    CartIn,
    CartLineIn,
    CartLineOut,
    CartOut,
    OrderOut,
    QuoteOut,
)
from entrepot.platform.deps import Caller, Ctx, IdempotencyKey, Paging, next_cursor
from entrepot.platform.schemas import IdPath, ListPage

router = APIRouter(tags=["carts"])


def cart_out(session: Session, cart: Cart) -> CartOut:
    basket = carts.basket_of(session, cart)
    return CartOut(
        id=cart.public_id,
        market=basket.market,
        status=cart.status,
        order=cart.order_ref,
        lines=[CartLineOut(sku=sku, quantity=quantity) for sku, quantity in basket.lines],
        updated_at=cart.updated_at,
    )


@router.post("/carts", status_code=201, response_model=CartOut)
def create_cart(body: CartIn, ctx: Ctx, principal: Caller) -> CartOut:
    with ctx.db.transaction() as session:
        return cart_out(session, carts.create_cart(session, principal, body.market, ctx.clock()))


@router.get("/carts", response_model=ListPage[CartOut])
def list_carts(ctx: Ctx, principal: Caller, paging: Paging) -> ListPage[CartOut]:
    """A buyer's own carts (operators: everyone's), oldest first."""
    with ctx.db.transaction() as session:
        found = carts.list_carts(session, principal, paging.after, paging.limit)
        contents = queries.cart_contents(session, found)
        items = [
            CartOut(
                id=c.public_id,
                market=contents[c.id].market,
                status=c.status,
                order=c.order_ref,
                lines=[CartLineOut(sku=sku, quantity=quantity) for sku, quantity in contents[c.id].lines],
                updated_at=c.updated_at,
            )
            for c in found
        ]
    return ListPage(items=items, next_cursor=next_cursor([c.id for c in found], paging.limit))


@router.get("/carts/{cart_id}", response_model=CartOut)
def get_cart(cart_id: IdPath, ctx: Ctx, principal: Caller) -> CartOut:
    with ctx.db.transaction() as session:
        return cart_out(session, carts.get_cart(session, principal, cart_id))


@router.put("/carts/{cart_id}/lines/{sku}", response_model=CartOut)
def set_line(cart_id: IdPath, sku: IdPath, body: CartLineIn, ctx: OrderingCtx, principal: Caller) -> CartOut:
    """Set how many of a SKU the cart holds; 0 takes it out."""
    with ctx.db.transaction() as session:
        cart = carts.set_line(session, principal, cart_id, sku, body.quantity, ctx.limits, ctx.clock())
        return cart_out(session, cart)


@router.post("/carts/{cart_id}/quote", response_model=QuoteOut)
def quote_cart(cart_id: IdPath, ctx: OrderingCtx, principal: Caller) -> QuoteOut:
    with ctx.db.transaction() as session:
        basket = carts.basket_of(session, carts.get_cart(session, principal, cart_id))
        return quote_out(checkout.quote(session, principal, basket, ctx.limits, ctx.shipping, ctx.clock()))


@router.post("/carts/{cart_id}/checkout", status_code=201, response_model=OrderOut)
def checkout_cart(
    cart_id: IdPath,
    ctx: OrderingCtx,
    principal: Caller,
    response: Response,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey,
    body: CartCheckoutIn | None = None,
) -> OrderOut:
    """Place the cart's order (Idempotency-Key required, as for `POST /orders`); the cart then stays,
    read-only, as the record of what was ordered. The body is optional: without one, no payment starts
    and the default delivery option is taken."""
    key = idempotency_key
    body = body or CartCheckoutIn()
    pay_now = checkout.PayNow(body.payment_method, ctx.payments) if body.payment_method else None
    with ctx.db.transaction() as session:
        placed = carts.checkout_cart(
            session,
            principal,
            cart_id,
            key,
            pay_now,
            ctx.limits,
            ctx.fx,
            ctx.clock(),
            ctx.shipping,
            body.delivery_option,
        )
        out = order_out(placed.detail, ctx.clock())
    if placed.delivery is not None:
        background.add_task(deliver_in_process, ctx, placed.delivery)
    if placed.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return out
