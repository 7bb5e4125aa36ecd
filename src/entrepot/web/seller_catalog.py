"""A product's page and what a seller (or an operator for it) changes there: a SKU's price in each
market of the seller's marketplaces (catalog.service.set_price, as PUT /api/v1/skus/{id}/prices/{market})
and its units on hand in a warehouse (inventory.service.set_on_hand, as PUT
/api/v1/skus/{id}/stock/{warehouse}). The same roles may ask as the API's routes: a buyer 403, another
seller's product or SKU 404. A refusal shows the product page again with the problem beside the form
that was sent, with the status the API answers; nothing is changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import price_to_minor
from entrepot.catalog.models import Product
from entrepot.catalog.schemas import PriceIn
from entrepot.inventory import queries as stock
from entrepot.inventory import service as inventory
from entrepot.inventory.schemas import StockIn
from entrepot.kernel.bounds import CODE_LENGTH, ID_LENGTH
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed, not_found
from entrepot.kernel.money import plain_major
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Ctx
from entrepot.platform.schemas import IdPath, Text
from entrepot.web import auth, forms
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ALL_MARKETS = 10_000  # the group's markets and warehouses fit in a page's lists
ALL_WAREHOUSES = 10_000
# the hidden fields hold as the API's path parameters do (a Text: printable, bounded), so nothing typed
# into a tampered form (a NUL byte, say) reaches a lookup: a 422 page, as a bad path is the API's 422
IdField = Annotated[Text, Form(max_length=ID_LENGTH)]
CodeField = Annotated[Text, Form(max_length=CODE_LENGTH)]
AmountField = Annotated[str, Form(max_length=40)]
DoneQuery = Annotated[Literal["price", "stock"] | None, Query(description="what was just set, to say so")]


@dataclass(frozen=True)
class PriceRow:
    """A market the SKU may be priced in: its price there now (None: not on sale there)."""

    market: str
    currency: str
    amount_minor: int | None

    @property
    def typed(self) -> str:
        """The price as the form takes it back: '19.90', '1000' for VND, no grouping."""
        return "" if self.amount_minor is None else plain_major(self.amount_minor, self.currency)


@dataclass
class Failed:
    """A refused form, as typed, and why: what it would have set (`price` or `stock`), of which SKU
    (public id), at which market or warehouse, and the input the page's summary links to."""

    what: str
    sku: str
    at: str
    values: dict[str, str]
    problem: FormProblem = field(default_factory=FormProblem)
    field: str = ""

    @property
    def form(self) -> str:
        """The form's key in the page: `price:<sku>:<market>` (a form per market) or `stock:<sku>`."""
        return f"price:{self.sku}:{self.at}" if self.what == "price" else f"stock:{self.sku}"


@dataclass(frozen=True)
class Done:
    """What the page says was just set: a price (`at` a market) or stock (`at` a warehouse)."""

    what: str
    sku: str
    at: str


def product_page(
    request: Request,
    ctx: AppContext,
    viewer: Viewer,
    product_id: str,
    status: int = 200,
    failed: Failed | None = None,
    done: Done | None = None,
) -> Response:
    """The product with its SKUs, their prices per market and stock per warehouse, and the forms that
    set them (a refused one with its problem and the values as typed)."""
    scope = catalog.seller_scope(viewer.principal)
    with ctx.db.transaction() as session:
        product, seller = catalog.get_product(session, product_id, scope)
        skus = catalog.product_skus(session, [product.id])[product.id]
        prices = catalog.sku_prices(session, [s.id for s in skus])
        levels = stock.stock_by_sku(session, [s.id for s in skus])
        markets = _sellers_markets(session, product)
        warehouses = [w.code for w in inventory.list_warehouses(session, None, None, ALL_WAREHOUSES)]
    price_rows = {sku.id: _price_rows(markets, prices[sku.id]) for sku in skus}
    codes = {sku.public_id: sku.code for sku in skus}
    return render(
        request,
        "product.html",
        status,
        product=product,
        seller=seller,
        skus=skus,
        prices=prices,
        price_rows=price_rows,
        levels=levels,
        warehouses=warehouses,
        csrf=viewer.csrf_token,
        failed=failed,
        done=done if done and done.sku in codes else None,
        sku_codes=codes,
    )


def _sellers_markets(session: Session, product: Product) -> dict[str, str]:
    """market code -> currency, for the markets of the marketplaces the product's seller sells on: where
    set_price lets it price (it still checks; this only chooses which forms to offer)."""
    units = catalog.seller_marketplace_ids(session, product.seller_id)
    found = organization.list_markets(session, None, None, ALL_MARKETS)
    return {market.code: market.currency for market, _ in found if market.business_unit_id in units}


def _price_rows(markets: dict[str, str], prices: list[catalog.MarketPrice]) -> list[PriceRow]:
    """A row per market priced or priceable, by market code."""
    rows = {p.market: PriceRow(p.market, p.currency, p.amount_minor) for p in prices}
    for code, currency in markets.items():
        rows.setdefault(code, PriceRow(code, currency, None))
    return [rows[code] for code in sorted(rows)]


@router.post("/products/{product_id}/prices")
def set_price(
    request: Request,
    product_id: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    sku: IdField = "",
    market: CodeField = "",
    amount: AmountField = "",
) -> Response:
    """The SKU's price in the market, from an amount in the market currency's major units (exact: no
    rounding of money a person typed), through the API's service and its rules."""
    auth.check_csrf(viewer, csrf)
    scope = catalog.seller_scope(viewer.principal)
    values = {"amount": amount}
    try:
        with ctx.db.transaction() as session:
            found = _product_sku(session, product_id, sku, scope)
            currency = organization.get_market(session, market).currency  # unknown market: 404, as the API
            body = _price_body(amount, currency)
            catalog.set_price(session, found, market, body.amount_minor, body.currency)
    except DomainError as problem:
        if problem.status in (403, 404):
            raise
        aliases = {"amount_minor": "amount", "currency": "amount", "market": "amount"}
        why = _in_place(problem, aliases, "amount")
        failed = Failed("price", sku, market, values, why, f"price-{sku}-{market}")
        return product_page(request, ctx, viewer, product_id, problem.status, failed)
    return _done(product_id, "price", sku, market)


def _price_body(amount: str, currency: str) -> PriceIn:
    """The API's price body (PriceIn) from the form's amount in major units, read as a catalog CSV's
    price is (catalog.domain.price_to_minor: positive, at most the largest price, exact)."""
    try:
        minor = price_to_minor(amount, currency)
    except ValueError as bad:
        raise ValidationFailed("invalid price", [FieldError("amount", str(bad))]) from None
    return forms.parse(PriceIn, "invalid price", {"amount_minor": minor, "currency": currency})


@router.post("/products/{product_id}/stock")
def set_stock(
    request: Request,
    product_id: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    sku: IdField = "",
    warehouse: CodeField = "",
    on_hand: AmountField = "",
) -> Response:
    """The units counted on hand of the SKU in the warehouse; never below what open orders reserved."""
    auth.check_csrf(viewer, csrf)
    scope = catalog.seller_scope(viewer.principal)
    values = {"warehouse": warehouse, "on_hand": on_hand}
    try:
        with ctx.db.transaction() as session:
            found = _product_sku(session, product_id, sku, scope)
            place = inventory.get_warehouse(session, warehouse)  # unknown: 404, as the API
            body = forms.parse(StockIn, "invalid stock", {"on_hand": _whole_number(on_hand)})
            inventory.set_on_hand(session, found, place, body.on_hand)
    except DomainError as problem:
        if problem.status in (403, 404):
            raise
        why = _in_place(problem, {}, "on_hand")
        field = f"stock-{sku}-warehouse" if why.errors_of("warehouse") else f"stock-{sku}-on-hand"
        failed = Failed("stock", sku, warehouse, values, why, field)
        return product_page(request, ctx, viewer, product_id, problem.status, failed)
    return _done(product_id, "stock", sku, warehouse)


def _whole_number(typed: str) -> int:
    try:
        return int(typed.strip())
    except ValueError:
        raise ValidationFailed(
            "invalid stock", [FieldError("on_hand", "a whole number of units, e.g. 120")]
        ) from None


def _product_sku(session: Session, product_id: str, sku_id: str, scope: int | None) -> catalog.SkuView:
    """The product's SKU as the principal may see it: another seller's product or SKU, or a SKU of
    another product, is not found (404), as the API's SKU routes answer."""
    product, _ = catalog.get_product(session, product_id, scope)
    sku = catalog.get_sku(session, sku_id, scope)
    if sku.product_id != product.id:
        raise not_found("SKU", sku_id)
    return sku


def _in_place(problem: DomainError, aliases: dict[str, str], main: str) -> FormProblem:
    """The problem's field errors under the form's field names; a refusal without one (409: below what
    is reserved) is said beside the form's main field, so the person sees it where they typed."""
    found = FormProblem.of(problem, aliases)
    if not found.fields:
        found.fields[main] = [problem.detail]
    return found


def _done(product_id: str, what: str, sku: str, at: str) -> Response:
    """Back to the product (a reload does not send the form again), saying what was set."""
    query = urlencode({"done": what, "sku": sku, "at": at})
    return RedirectResponse(f"/products/{product_id}?{query}", status_code=303)


def done_of(what: str | None, sku: str | None, at: str | None) -> Done | None:
    return Done(what, sku, at) if what and sku and at else None
