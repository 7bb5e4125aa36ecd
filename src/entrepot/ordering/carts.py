"""Carts: a buyer's basket in one market, kept between visits, that becomes an order at checkout."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.kernel.errors import Conflict, FieldError, Forbidden, ValidationFailed, not_found
from entrepot.kernel.fx import FxRates
from entrepot.kernel.idempotency import request_fingerprint
from entrepot.kernel.ids import new_id
from entrepot.ordering.checkout import Basket, Limits, PayNow, Placed, earlier_claim
from entrepot.ordering.models import Cart, CartLine
from entrepot.ordering.placing import place_order
from entrepot.ordering.queries import order_by_ref, order_detail
from entrepot.ordering.shipping import ShippingRates
from entrepot.organization import service as organization
from entrepot.platform.db import by_public_id
from entrepot.platform.principal import Principal


def create_cart(session: Session, principal: Principal, market_code: str, now: dt.datetime) -> Cart:
    if principal.role != "buyer":
        raise Forbidden("carts belong to buyers")
    market = organization.get_market(session, market_code)
    cart = Cart(
        public_id=new_id("cart"),
        buyer_id=principal.buyer_id,
        market_id=market.id,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(cart)
    session.flush()
    return cart


def get_cart(session: Session, principal: Principal, public_id: str, for_update: bool = False) -> Cart:
    """Buyers see their own carts, operators all; anyone else's cart is not found."""
    if principal.role not in ("buyer", "operator"):
        raise not_found("cart", public_id)
    mine = Cart.buyer_id == principal.buyer_id if principal.role == "buyer" else None
    return by_public_id(session, Cart, public_id, "cart", lock=for_update, where=mine)


def list_carts(session: Session, principal: Principal, after: int | None, limit: int) -> list[Cart]:
    query = select(Cart).order_by(Cart.id).limit(limit)
    if principal.role == "buyer":
        query = query.where(Cart.buyer_id == principal.buyer_id)
    elif not principal.is_operator:
        raise Forbidden("carts belong to buyers")
    if after is not None:
        query = query.where(Cart.id > after)
    return list(session.scalars(query))


def set_line(
    session: Session,
    principal: Principal,
    cart_id: str,
    sku: str,
    quantity: int,
    limits: Limits,
    now: dt.datetime,
) -> Cart:
    """Set a SKU's quantity in an open cart; 0 takes it out."""
    cart = _open_cart(session, principal, cart_id)
    if not 0 <= quantity <= limits.max_quantity:
        raise ValidationFailed("invalid quantity", [FieldError("quantity", f"0 to {limits.max_quantity}")])
    priced = catalog.priced_skus(session, cart.market_id, [sku])
    if sku not in priced:
        raise ValidationFailed(
            "unknown SKU", [FieldError("sku", f"no SKU {sku} is sold in this cart's market")]
        )
    sku_id = priced[sku].sku_id
    line = session.get(CartLine, (cart.id, sku_id))
    if quantity == 0:
        if line is not None:
            session.delete(line)
    elif line is None:
        if len(cart_lines(session, cart)) >= limits.max_lines:
            raise ValidationFailed(
                "the cart is full", [FieldError("sku", f"at most {limits.max_lines} lines")]
            )
        session.add(CartLine(cart_id=cart.id, sku_id=sku_id, quantity=quantity, added_at=now))
    else:
        line.quantity = quantity
    cart.updated_at = now
    session.flush()
    return cart


def _open_cart(session: Session, principal: Principal, cart_id: str) -> Cart:
    cart = get_cart(session, principal, cart_id, for_update=True)
    if cart.status != "open":
        raise Conflict(f"the cart was checked out as {cart.order_ref}", code="cart-ordered")
    return cart


def cart_lines(session: Session, cart: Cart) -> list[tuple[str, int]]:
    sku = catalog.sku_public_id(CartLine.sku_id).label("sku")
    rows = session.execute(
        select(sku, CartLine.quantity).where(CartLine.cart_id == cart.id).order_by(CartLine.added_at, sku)
    ).all()
    return [(sku, quantity) for sku, quantity in rows]


def basket_of(session: Session, cart: Cart) -> Basket:
    market = organization.market_by_id(session, cart.market_id)
    return Basket(market.code, None, cart_lines(session, cart))


def open_for_checkout(session: Session, principal: Principal, cart_id: str) -> tuple[Cart, Basket]:
    cart = _open_cart(session, principal, cart_id)
    return cart, basket_of(session, cart)


def mark_ordered(session: Session, cart: Cart, order_ref: str, now: dt.datetime) -> None:
    """The cart keeps its lines, read-only, as the record of what was checked out."""
    cart.status, cart.order_ref, cart.updated_at = "ordered", order_ref, now
    session.flush()


def checkout_cart(
    session: Session,
    principal: Principal,
    cart_id: str,
    idempotency_key: str,
    pay_now: PayNow | None,
    limits: Limits,
    fx: FxRates,
    now: dt.datetime,
    rates: ShippingRates | None = None,
    delivery_option: str | None = None,
) -> Placed:
    """Place the cart's order. A retry with the same key returns it; any other attempt on a cart
    already checked out is a conflict, so one cart never becomes two orders."""
    cart = get_cart(session, principal, cart_id, for_update=True)
    basket = basket_of(session, cart)
    method = pay_now.method if pay_now else None
    fingerprint = request_fingerprint(
        {
            "cart": cart.public_id,
            "lines": basket.lines,
            "payment_method": method,
            **({"delivery_option": delivery_option} if delivery_option else {}),
        }
    )
    if cart.status == "ordered":
        earlier = earlier_claim(session, principal, idempotency_key)
        if (
            earlier is not None
            and earlier.order_ref == cart.order_ref
            and earlier.request_hash == fingerprint
        ):
            return Placed(order_detail(session, order_by_ref(session, earlier.order_ref)), replayed=True)
        raise Conflict(f"the cart was checked out as {cart.order_ref}", code="cart-ordered")
    if not basket.lines:
        raise ValidationFailed("the cart is empty", [FieldError("lines", "add a SKU first")])
    placed = place_order(
        session,
        principal,
        basket,
        idempotency_key,
        fingerprint,
        limits,
        fx,
        now,
        pay_now,
        rates,
        delivery_option,
    )
    if not placed.replayed:
        mark_ordered(session, cart, placed.order.public_id, now)
    return placed
