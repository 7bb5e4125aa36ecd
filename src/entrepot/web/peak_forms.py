"""New flash sales and group buys from the console, through the same service calls as POST
/api/v1/flash-sales and POST /api/v1/group-buys: the same roles (a seller on its own SKUs, an operator
for a seller it names; buyers and carriers 403), the same body (the API's schema parses the form) and the
same refusals, shown beside the fields with the API's status, changing nothing.

The form offers only the seller's own SKUs and the markets they are priced in; a tampered choice is
refused by the service as the API refuses it. Prices are typed in the market's currency (major units,
exact: no rounding of money a person typed) and times in UTC, as the console shows every time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash.schemas import FlashSaleIn
from entrepot.campaigns.group_buys import service as group_buys
from entrepot.campaigns.group_buys.schemas import GroupBuyIn
from entrepot.campaigns.listing import seller_scope
from entrepot.catalog import service as catalog
from entrepot.identity.sessions import SignedIn
from entrepot.kernel.bounds import ID_LENGTH
from entrepot.kernel.errors import DomainError, FieldError, NotFound, ValidationFailed
from entrepot.kernel.money import amount_problem, exact_minor, max_minor, plain_major
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Ctx
from entrepot.platform.schemas import Code, IdQuery, Text
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem, field_errors
from entrepot.web.organisation import ALL_MARKETS
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Field = Annotated[str, Form(max_length=400)]  # the API's schema holds each to its own rule
SellerField = Annotated[Text, Form(max_length=ID_LENGTH)]  # looked up before any schema: checked here
MARKET_CODE = TypeAdapter(Code)  # the market is looked up (its currency) before the schema parses the rest
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what a datetime-local input holds


@dataclass(frozen=True)
class Kind:
    """What tells the two forms apart: the API's body, its price field, the form's own fields (beside
    sku, market and price) with their first values, and the page a new campaign is shown on."""

    name: str
    body: type[BaseModel]
    price_field: str
    price_label: str
    fields: dict[str, str]
    shown_at: str
    free_allowed: bool  # a team price may be 0 (a giveaway); a flash sale's may not


FLASH = Kind(
    "flash sale",
    FlashSaleIn,
    "sale_price_minor",
    "Sale price of one unit",
    {"stock": "", "per_buyer_limit": "1", "reservation_ttl_seconds": "600", "starts_at": "", "ends_at": ""},
    "/peak/flash",
    free_allowed=False,
)
GROUP_BUY = Kind(
    "group buy",
    GroupBuyIn,
    "team_price_minor",
    "Team price, what each member pays",
    {"team_size": "2", "team_window_seconds": "3600", "stock": "", "starts_at": "", "ends_at": ""},
    "/peak/group-buys",
    free_allowed=True,
)


@dataclass(frozen=True)
class MarketChoice:
    code: str
    currency: str
    label: str  # the code, its currency and its clock against UTC, so the times typed are not misread


@dataclass(frozen=True)
class Offer:
    """What the form offers: the seller's SKUs (public id -> label) and the markets they are priced in."""

    seller: str
    skus: dict[str, str]
    markets: list[MarketChoice]

    def market_choices(self) -> list[tuple[str, str]]:
        return [(m.code, m.label) for m in self.markets]


def _market_label(code: str, currency: str, time_zone: str, now: dt.datetime) -> str:
    offset = now.astimezone(ZoneInfo(time_zone)).strftime("%z")
    # the zone's name last: a phone's narrow list cuts the end of the line
    return f"{code} · {currency} · UTC{offset[:3]}:{offset[3:]} now ({time_zone})"


def _offer(session: Session, viewer: SignedIn, seller: str | None, now: dt.datetime) -> Offer | None:
    """The viewer's seller's SKUs and markets; None when an operator has not named a seller yet.
    Buyers and carriers: 403 (campaigns.listing.seller_scope, the campaigns' roles)."""
    own = seller_scope(viewer.principal)
    if own is None and not seller:
        return None
    found = catalog.get_seller(session, seller or "") if own is None else None
    seller_id = found.id if found is not None else own
    assert seller_id is not None
    skus = catalog.seller_skus(session, seller_id)
    labels = catalog.sku_labels(session, [s.id for s in skus])
    priced = {p.market for prices in catalog.sku_prices(session, labels).values() for p in prices}
    markets = [
        MarketChoice(m.code, m.currency, _market_label(m.code, m.currency, m.time_zone, now))
        for m, _ in organization.list_markets(session, None, None, ALL_MARKETS)
        if m.code in priced
    ]
    return Offer(
        found.public_id if found is not None else viewer.principal.seller_public_id or "",
        {s.public_id: f"{s.code} · {labels[s.id].title}" for s in skus},
        markets,
    )


def _first_values(kind: Kind, now: dt.datetime) -> dict[str, str]:
    """A new form's values: the next whole hour for an hour, in UTC, and the kind's defaults."""
    starts = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    times = {"starts_at": starts, "ends_at": starts + dt.timedelta(hours=1)}
    return (
        {"sku": "", "market": "", "price": ""}
        | kind.fields
        | {k: v.strftime(LOCAL_MINUTE) for k, v in times.items()}
    )


def _page(
    request: Request,
    ctx: AppContext,
    viewer: SignedIn,
    kind: Kind,
    seller: str | None,
    values: dict[str, str] | None = None,
    status: int = 200,
    problem: FormProblem | None = None,
) -> Response:
    """The form with the values as typed and the problem's errors beside them; for an operator who has
    not named a seller (or named none that exists), the form that names one."""
    now = ctx.clock()
    try:
        with ctx.db.transaction() as session:
            offer = _offer(session, viewer, seller, now)
    except NotFound as unknown:  # the seller an operator named: said beside its field
        offer, status = None, unknown.status
        problem = FormProblem(unknown.title, unknown.detail, {"seller": [unknown.detail]})
    return render(
        request,
        "peak_new.html",
        status,
        kind=kind,
        offer=offer,
        seller=seller or "",
        values=values or _first_values(kind, now),
        now=now,
        csrf=viewer.csrf_token,
        problem=problem or FormProblem(),
    )


def _as_utc(typed: str) -> str:
    """A datetime-local's value (no zone) read in UTC, as the form says; anything else as typed, for the
    API's schema to name the problem."""
    try:
        moment = dt.datetime.fromisoformat(typed)
    except ValueError:
        return typed
    return (moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment).isoformat()


def _price_minor(typed: str, currency: str, free_allowed: bool) -> tuple[str | None, list[FieldError]]:
    """The price typed in the market's currency, in minor units (as the API takes it), or its error in
    the units it was typed in."""
    try:
        amount = Decimal(typed)
        if not amount.is_finite():
            raise InvalidOperation
        minor = exact_minor(amount, currency)
    except (InvalidOperation, ValueError) as bad:
        message = str(bad) if isinstance(bad, ValueError) else f"an amount in {currency}, e.g. 9.90"
        return None, [FieldError("price", message)]
    if amount_problem(minor, currency, allow_zero=free_allowed) is not None:
        low = plain_major(0 if free_allowed else 1, currency)
        high = plain_major(max_minor(currency), currency)
        return None, [FieldError("price", f"{low} up to {high} {currency}, got {typed}")]
    return str(minor), []


def _a_code(market: str) -> bool:
    """Whether `market` may be looked up (a code's length, no control character); if not, the schema's
    parse names the problem beside the field."""
    try:
        MARKET_CODE.validate_python(market)
    except ValidationError:
        return False
    return True


def _body(session: Session, kind: Kind, values: dict[str, str]) -> Any:
    """The API's body from the form: blank fields left out (required ones are then named, defaulted ones
    take the API's default), the price in minor units of the market's currency, times in UTC. Every
    field's error at once, under the form's names. An unknown market is the API's 404."""
    typed = {k: v.strip() for k, v in values.items() if v.strip() and k != "price"}
    typed |= {k: _as_utc(typed[k]) for k in ("starts_at", "ends_at") if k in typed}
    price = values["price"].strip()
    errors: list[FieldError] = []
    if price and "market" in typed and _a_code(typed["market"]):
        currency = organization.get_market(session, typed["market"]).currency
        minor, errors = _price_minor(price, currency, kind.free_allowed)
        typed |= {kind.price_field: minor} if minor is not None else {}
    # a price typed but not converted (no amount, or no market to read it in) is said once, not also as
    # "required" under the API's name
    unconverted = bool(price) and kind.price_field not in typed
    try:
        body = kind.body.model_validate_strings(typed)
    except ValidationError as invalid:
        parsed = field_errors(kind.body, invalid)
        kept = [e for e in parsed if not (unconverted and e.field == kind.price_field)]
        errors += kept or parsed  # never none: a refused body is always said
    if errors:
        raise ValidationFailed(f"invalid {kind.name}", errors)
    return body


def _create(session: Session, kind: Kind, viewer: SignedIn, body: Any, now: dt.datetime) -> str:
    """The campaign, made by the service the API's route calls; its public id."""
    if kind is FLASH:
        return flash.create_sale(
            session, viewer.principal, flash.SaleSpec(**body.model_dump()), now
        ).public_id
    spec = group_buys.GroupBuySpec(**body.model_dump())
    return group_buys.create_group_buy(session, viewer.principal, spec, now).public_id


def _submit(
    request: Request, ctx: AppContext, viewer: SignedIn, kind: Kind, seller: str, values: dict[str, str]
) -> Response:
    """Create the campaign and show it; a refusal shows the form again, as typed, with the API's status."""
    seller_scope(viewer.principal)  # buyers and carriers: 403 before anything is read
    try:
        with ctx.db.transaction() as session:
            made = _create(session, kind, viewer, _body(session, kind, values), ctx.clock())
    except DomainError as problem:
        if problem.status == 403:
            raise  # not this viewer's to do: the error page, as for any other page
        found = FormProblem.of(problem, {kind.price_field: "price"}, {kind.price_field: "in minor units"})
        return _page(request, ctx, viewer, kind, seller, values, problem.status, found)
    return RedirectResponse(f"{kind.shown_at}/{made}?done=created", status_code=303)


@router.get("/peak/flash/new")
def new_flash_sale(request: Request, ctx: Ctx, viewer: Viewer, seller: IdQuery = None) -> Response:
    return _page(request, ctx, viewer, FLASH, seller)


@router.post("/peak/flash/new")
def create_flash_sale(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    seller: SellerField = "",
    sku: Field = "",
    market: Field = "",
    price: Field = "",
    stock: Field = "",
    per_buyer_limit: Field = "",
    reservation_ttl_seconds: Field = "",
    starts_at: Field = "",
    ends_at: Field = "",
) -> Response:
    auth.check_csrf(viewer, csrf)
    values = {
        "sku": sku,
        "market": market,
        "price": price,
        "stock": stock,
        "per_buyer_limit": per_buyer_limit,
        "reservation_ttl_seconds": reservation_ttl_seconds,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    return _submit(request, ctx, viewer, FLASH, seller, values)


@router.get("/peak/group-buys/new")
def new_group_buy(request: Request, ctx: Ctx, viewer: Viewer, seller: IdQuery = None) -> Response:
    return _page(request, ctx, viewer, GROUP_BUY, seller)


@router.post("/peak/group-buys/new")
def create_group_buy(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    seller: SellerField = "",
    sku: Field = "",
    market: Field = "",
    price: Field = "",
    team_size: Field = "",
    team_window_seconds: Field = "",
    stock: Field = "",
    starts_at: Field = "",
    ends_at: Field = "",
) -> Response:
    auth.check_csrf(viewer, csrf)
    values = {
        "sku": sku,
        "market": market,
        "price": price,
        "team_size": team_size,
        "team_window_seconds": team_window_seconds,
        "stock": stock,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    return _submit(request, ctx, viewer, GROUP_BUY, seller, values)
