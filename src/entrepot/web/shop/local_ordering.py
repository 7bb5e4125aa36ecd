"""Ordering from a local store in a shop (issue 22): the shop's stores, and a store's page with the
order form: the store's menu (what is on sale, each at its price in the store's currency), how many of
each, and the door, a street address the context's gazetteer finds on the city's map. The buyer names
items and quantities, never a price: the order is placed by order_service.place_order_once, the API's
own function, which prices each line from the menu, so the same rules refuse it, each refusal shown
beside its item or field; a refused form writes nothing. Placed, the buyer lands on the order's tracking
page (web/shop/local_tracking.py) with its promised time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed, not_found
from entrepot.kernel.idempotency import request_fingerprint
from entrepot.local_services import menu_service, order_service, store_service
from entrepot.local_services.delivery import Line
from entrepot.local_services.locate import locate
from entrepot.local_services.menu_service import MAX_ITEMS
from entrepot.local_services.models import LocalStore, MenuItem
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import IdPath
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.shop.common import MarketPart, Marketplace, Shop, ShopRoute, open_shop, render_shop

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
FormText = Annotated[str, Form(max_length=300)]
MenuRefs = Annotated[list[str], Form(max_length=MAX_ITEMS)]  # each row's menu item, in the menu's order
Quantities = Annotated[list[str], Form(max_length=MAX_ITEMS)]  # and how many of it, row by row
LISTED = 200
# the service's field names -> the form's
ALIASES = {"drop_off": "address", "drop_off.address": "address"}


def _store_in(session: Session, shop: Shop, ref: str, viewer: SignedIn) -> tuple[LocalStore, list[MenuItem]]:
    """The shop's store and its menu as the viewer sees it (a buyer: what is on sale)."""
    store, menu = menu_service.menu(session, viewer.principal, ref)
    if store.market != shop.market.code:
        raise not_found("store", ref)
    return store, menu


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
        store, menu = _store_in(session, shop, ref, viewer)
    # this form's idempotency key, as the checkout's: sent twice (a second click, a retry), one order
    form = OrderForm({}, "", secrets.token_urlsafe(18))
    return _form(request, shop, store, menu, viewer, form, FormProblem())


@dataclass(frozen=True)
class OrderForm:
    """What the buyer typed: a quantity per menu item (by its id), the address, the form's key."""

    quantities: dict[str, str]
    address: str
    key: str

    def fingerprint(self, store: str) -> str:
        """The body as the idempotency key compares it: the same store, lines and address."""
        lines = sorted((ref, n.strip()) for ref, n in self.quantities.items() if n.strip() not in ("", "0"))
        return request_fingerprint({"store": store, "items": lines, "address": self.address.strip()})


def _form(
    request: Request,
    shop: Shop,
    store: LocalStore,
    menu: list[MenuItem],
    viewer: SignedIn,
    form: OrderForm,
    problem: FormProblem,
    status: int = 200,
) -> Response:
    return render_shop(
        request,
        "shop_local_store.html",
        shop,
        status,
        store=store,
        menu=menu,
        form=form,
        problem=problem,
        csrf=viewer.csrf_token,
    )


def quantity_field(ref: str) -> str:
    """The form's field of a menu item's quantity."""
    return f"qty-{ref}"


def parse_lines(form: OrderForm) -> list[Line]:
    """The form's lines (items with a quantity above 0, in the menu's order) as the service's Lines, or
    every wrong field named at once."""
    errors, lines = [], []
    for ref, typed in form.quantities.items():
        text = typed.strip() or "0"
        quantity = int(text) if text.isdigit() and len(text) <= 3 else -1
        if not 0 <= quantity <= 100:
            errors.append(FieldError(quantity_field(ref), "a whole number from 0 to 100"))
        elif quantity:
            lines.append(Line(ref, quantity))
    if not errors and not lines:
        errors.append(FieldError("items", "choose how many of at least one item"))
    if not form.address.strip():
        errors.append(FieldError("address", "a street address in the city, as Mikonkatu 18"))
    if errors:
        raise ValidationFailed("the order has mistakes", errors)
    return lines


def _aliases(lines: list[Line], shown: set[str]) -> dict[str, str]:
    """The service's field names -> the form's: a line's item error beside that item's quantity (or
    above the menu, for an item no longer shown)."""
    per_line = {
        f"items[{i}].item": quantity_field(line.item) if line.item in shown else "items"
        for i, line in enumerate(lines)
    }
    return ALIASES | per_line


@router.post("/shop/{marketplace}/{market}/local-stores/{ref}")
def place(
    request: Request,
    marketplace: Marketplace,
    market: MarketPart,
    ref: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    item: MenuRefs = [],  # noqa: B006 - FastAPI copies a default
    quantity: Quantities = [],  # noqa: B006
    address: FormText = "",
    key: FormText = "",
) -> Response:
    auth.check_csrf(viewer, csrf)
    viewer.principal.require("buyer")
    form = OrderForm(dict(zip(item, quantity, strict=False)), address, _key(key))
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        store, menu = _store_in(session, shop, ref, viewer)
    lines: list[Line] = []
    try:
        if len(item) != len(quantity):  # a hand-made form: no line can be trusted to its item
            raise ValidationFailed("the order's items and quantities do not pair up", [])
        lines = parse_lines(form)
        drop = locate(address.strip(), None, "drop_off")
        with ctx.db.transaction() as session:
            claim = order_service.Claim(form.key, form.fingerprint(ref))
            order, _ = order_service.place_order_once(
                session, viewer.principal, ref, lines, drop, ctx.clock(), claim
            )
            placed = order.public_id
    except DomainError as refused:
        problem = FormProblem.of(refused, _aliases(lines, {i.public_id for i in menu}))
        return _form(request, shop, store, menu, viewer, form, problem, refused.status)
    return RedirectResponse(f"{shop.path}/deliveries/{placed}", status_code=303)


def _key(given: str) -> str:
    """The form's idempotency key, or a new one when a hand-made request left it out."""
    usable = 8 <= len(given) <= 64 and given.isascii() and given.isprintable()
    return given if usable else secrets.token_hex(16)
