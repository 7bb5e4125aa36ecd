"""Ordering from a local store in a shop (issue 22): the shop's stores, and a store's page with the
order form: what to bring (an item, how many, at what price: the stores have no menu of their own yet,
as in the API) and the door, a street address the context's gazetteer finds on the city's map. The
order is placed by order_service.place_order, the API's own function, so the same rules refuse it, each
refusal shown beside its field; a refused form writes nothing. Placed, the buyer lands on the order's
tracking page (web/shop/local_tracking.py) with its promised time."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed, not_found
from entrepot.kernel.idempotency import request_fingerprint
from entrepot.kernel.money import exact_minor
from entrepot.local_services import order_service, store_service
from entrepot.local_services.delivery import Item
from entrepot.local_services.locate import locate
from entrepot.local_services.models import LocalStore
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import IdPath
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.shop.common import MarketPart, Marketplace, Shop, ShopRoute, open_shop, render_shop

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
FormText = Annotated[str, Form(max_length=300)]
LISTED = 200
# the service's field names -> the form's
ALIASES = {"drop_off": "address", "drop_off.address": "address", "items": "item", "items.0": "item"}


def _store_in(session: Session, shop: Shop, ref: str) -> LocalStore:
    store = store_service.get_store(session, ref)
    if store.market != shop.market.code:
        raise not_found("store", ref)
    return store


@router.get("/shop/{marketplace}/{market}/local-stores")
def stores(
    request: Request, marketplace: Marketplace, market: MarketPart, ctx: Ctx, viewer: Viewer
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        found = [
            s
            for s in store_service.list_stores(session, viewer.principal, None, LISTED)
            if s.market == shop.market.code
        ]
    return render_shop(request, "shop_local_stores.html", shop, stores=found)


@router.get("/shop/{marketplace}/{market}/local-stores/{ref}")
def store_page(
    request: Request, marketplace: Marketplace, market: MarketPart, ref: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        store = _store_in(session, shop, ref)
    # this form's idempotency key, as the checkout's: sent twice (a second click, a retry), one order
    values = {"item": "", "quantity": "1", "price": "", "address": "", "key": secrets.token_urlsafe(18)}
    return _form(request, shop, store, viewer, values, FormProblem())


def _form(
    request: Request,
    shop: Shop,
    store: LocalStore,
    viewer: SignedIn,
    values: dict[str, str],
    problem: FormProblem,
    status: int = 200,
) -> Response:
    return render_shop(
        request,
        "shop_local_store.html",
        shop,
        status,
        store=store,
        values=values,
        problem=problem,
        csrf=viewer.csrf_token,
    )


def parse_item(values: dict[str, str], currency: str) -> Item:
    """The form's item line as the service's Item, or every wrong field named at once."""
    errors = []
    name = values["item"].strip()
    if not name or len(name) > 200:
        errors.append(FieldError("item", "say what to bring (at most 200 characters)"))
    quantity = int(values["quantity"]) if values["quantity"].strip().isdigit() else 0
    if not 1 <= quantity <= 100:
        errors.append(FieldError("quantity", "a whole number from 1 to 100"))
    try:
        price = exact_minor(Decimal(values["price"].strip()), currency)
    except (InvalidOperation, ValueError):
        price = 0
    if not 1 <= price <= 10**15:
        errors.append(FieldError("price", f"a price in {currency} above zero, as 12.50"))
    if not values["address"].strip():
        errors.append(FieldError("address", "a street address in the city, as Mikonkatu 18"))
    if errors:
        raise ValidationFailed("the order has mistakes", errors)
    return Item(name, quantity, price)


@router.post("/shop/{marketplace}/{market}/local-stores/{ref}")
def place(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ref: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    item: FormText = "",
    quantity: FormText = "",
    price: FormText = "",
    address: FormText = "",
    key: FormText = "",
) -> Response:
    auth.check_csrf(viewer, csrf)
    viewer.principal.require("buyer")
    key = _key(key)
    values = {"item": item, "quantity": quantity, "price": price, "address": address, "key": key}
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        store = _store_in(session, shop, ref)
    try:
        line = parse_item(values, store.currency)
        drop = locate(address.strip(), None, "drop_off")
        with ctx.db.transaction() as session:
            fingerprint = request_fingerprint(
                {"store": ref, **{k: v for k, v in values.items() if k != "key"}}
            )
            claim = order_service.Claim(key, fingerprint)
            order, _ = order_service.place_order_once(
                session, viewer.principal, ref, [line], drop, ctx.clock(), claim
            )
            placed = order.public_id
    except DomainError as refused:
        return _form(request, shop, store, viewer, values, FormProblem.of(refused, ALIASES), refused.status)
    return RedirectResponse(f"{shop.path}/deliveries/{placed}", status_code=303)


def _key(given: str) -> str:
    """The form's idempotency key, or a new one when a hand-made request left it out."""
    usable = 8 <= len(given) <= 64 and given.isascii() and given.isprintable()
    return given if usable else secrets.token_hex(16)
