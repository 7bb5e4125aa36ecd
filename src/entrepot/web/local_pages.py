"""Local services in the console (issue 22): the operators' board of stores, couriers and on-demand
orders with the live city map, and a dispatch round run from the page; a seller sees its own stores and
their orders, and keeps each store's menu (adds an item, changes its name, price, description or whether
it is on sale, archives it; another seller's store: 404). The figures are read through the
local_services context's own functions, so a page shows what the API would answer the same principal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.money import amount_problem, exact_minor, max_minor, plain_major
from entrepot.local_services import (
    courier_service,
    menu_service,
    order_service,
    round_service,
    store_service,
    tracking,
)
from entrepot.local_services.models import Courier, LocalStore, OnDemandOrder
from entrepot.local_services.ondemand_schemas import MenuItemIn, MenuItemPatch
from entrepot.platform.deps import Ctx
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import IdPath
from entrepot.web import auth, forms, live
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import Body, FormProblem
from entrepot.web.maps import Map, Point
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import clock, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
IN_FLIGHT = ("placed", "assigned", "picked_up")
LISTED = 500  # a city's board: more than a screen, bounded all the same
POINT_GROUPS = ("store", "courier", "drop_off")
RoundFigure = Annotated[int | None, Query(ge=0, le=1_000_000)]
MenuText = Annotated[str, Form(max_length=600)]  # the schema's limits are checked after, by field
DoneQuery = Annotated[Literal["added", "changed", "archived"] | None, Query()]
MENU_ALIASES = {"price_minor": "price"}  # the service's field names -> the menu forms'


@dataclass(frozen=True)
class OrderRow:
    ref: str
    store: str
    state: str
    promised_at: dt.datetime
    eta_at: dt.datetime
    late_s: int  # how far the ETA is past the promise (negative: ahead of it)
    trip: str | None
    time_zone: str  # its store's: the times are shown on the city's clocks


@dataclass(frozen=True)
class CourierRow:
    ref: str
    name: str
    mode: str
    capacity: int
    shift: str
    on_shift: bool
    position: str
    trip: str | None


def order_rows(
    orders: list[tuple[OnDemandOrder, str, str | None]], stores: dict[str, LocalStore]
) -> list[OrderRow]:
    """Orders (with their store's and trip's ids) late ones first, the latest first, then by promise."""
    rows = [
        OrderRow(
            order.public_id,
            stores[store].name if store in stores else store,
            order.state,
            order.promised_at,
            order.eta_at,
            int((order.eta_at - order.promised_at).total_seconds()),
            trip,
            stores[store].time_zone if store in stores else "UTC",
        )
        for order, store, trip in orders
    ]
    return sorted(rows, key=lambda r: (r.late_s <= 0, -r.late_s if r.late_s > 0 else 0, r.promised_at))


def courier_rows(
    couriers: list[Courier], trips: dict[int, str], now: dt.datetime, zone: str
) -> list[CourierRow]:
    return [
        CourierRow(
            c.public_id,
            c.name,
            c.mode,
            c.capacity,
            _shift(c, zone),
            c.shift_starts_at <= now < c.shift_ends_at,
            f"{c.lat:.5f}, {c.lon:.5f} at {clock(c.position_at, zone, '%H:%M:%S')}"
            if c.lat is not None and c.position_at
            else "not known",
            trips.get(c.id),
        )
        for c in couriers
    ]


def _shift(courier: Courier, zone: str) -> str:
    """`10:00-18:00 EET`: the shift on the city's clocks."""
    starts, ends = (t.astimezone(ZoneInfo(zone)) for t in (courier.shift_starts_at, courier.shift_ends_at))
    return f"{starts:%H:%M}-{ends:%H:%M %Z}"


def points(stores: list[LocalStore], couriers: list[Courier], orders: list[OnDemandOrder]) -> list[Point]:
    """Stores, couriers where they last said they were, and the doors of the orders in flight."""
    found = [Point(s.public_id, s.name, s.lat, s.lon, "store", s.kind) for s in stores]
    found += [
        Point(c.public_id, c.name, c.lat, c.lon, "courier", c.mode)
        for c in couriers
        if c.lat is not None and c.lon is not None
    ]
    found += [Point(o.public_id, o.address, o.lat, o.lon, "drop_off", o.state) for o in orders]
    return found


def city_map(map_id: str, title: str, found: list[Point]) -> Map:
    groups = [g for g in POINT_GROUPS if any(p.group == g for p in found)]
    return Map(map_id, title, found, point_groups=groups, point_heading="Place", detail_heading="Detail")


@dataclass(frozen=True)
class Board:
    stores: list[LocalStore]
    couriers: list[CourierRow]
    orders: list[OrderRow]
    map: Map
    time_zone: str  # the city's, as its stores keep it (UTC when none, or stores in several zones)


def board(session: Session, principal: Principal, now: dt.datetime) -> Board:
    """What the principal's board shows: an operator everything, a seller its own stores and orders."""
    stores = store_service.list_stores(session, principal, None, LISTED)
    couriers: list[Courier] = []
    if principal.is_operator:
        couriers = courier_service.list_couriers(session, principal, None, LISTED)
    flying = [
        found
        for state in IN_FLIGHT
        for found in order_service.list_orders(session, principal, None, LISTED, state)
    ]
    trips = tracking.current_trips(session, [c.id for c in couriers])
    found = points(stores, couriers, [order for order, _, _ in flying])
    zones = {s.time_zone for s in stores}
    zone = zones.pop() if len(zones) == 1 else "UTC"
    return Board(
        stores,
        courier_rows(couriers, trips, now, zone),
        order_rows(flying, {s.public_id: s for s in stores}),
        city_map("city", "Stores, couriers and orders in flight", found),
        zone,
    )


def figures(b: Board) -> live.Figures:
    """The board's live figures: the counts the page prints and the map's places."""
    late = sum(1 for o in b.orders if o.late_s > 0)
    return {
        "in_flight": str(len(b.orders)),
        "late": str(late),
        "points": b.map.spec()["points"],
    }


@router.get("/local")
def local_page(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    offered: RoundFigure = None,
    assigned: RoundFigure = None,
    released: RoundFigure = None,
    waiting: RoundFigure = None,
) -> Response:
    viewer.principal.require("operator", "seller")
    now = ctx.clock()
    with ctx.db.transaction() as session:
        b = board(session, viewer.principal, now)
    ran = None
    if offered is not None and viewer.principal.is_operator:
        ran = round_service.RoundResult(offered, assigned or 0, released or 0, waiting or 0)
    return render(
        request,
        "local.html",
        board=b,
        figures=figures(b),
        ran=ran,
        csrf=viewer.csrf_token,
        as_of=f"{now:%H:%M:%S} UTC",
    )


@router.get("/local/live")
def local_live(request: Request, ctx: Ctx, viewer: Viewer) -> Response:
    """The board's counts and map places as server-sent events (web/live.py)."""
    viewer.principal.require("operator", "seller")

    def read() -> live.Figures:
        now = ctx.clock()
        with ctx.db.transaction() as session:
            got = figures(board(session, viewer.principal, now))
        return got | {"as_of": f"{now:%H:%M:%S} UTC"}

    return live.live_response(live.figures_stream(request, read, live.session_check(request, ctx)))


@router.post("/local/dispatch-rounds")
def run_round(ctx: Ctx, viewer: Viewer, csrf: CsrfField = "") -> Response:
    """One dispatch round now (as POST /api/v1/local/dispatch-rounds); its outcome shown on the board."""
    viewer.principal.require("operator")
    auth.check_csrf(viewer, csrf)
    with ctx.db.transaction() as session:
        done = round_service.dispatch_round(session, ctx.clock())
    query = f"offered={done.trips_offered}&assigned={done.orders_assigned}&released={done.released}"
    return RedirectResponse(f"/local?{query}&waiting={done.waiting}", status_code=303)


@dataclass(frozen=True)
class MenuForm:
    """A refused menu form, shown again as typed with its problems: `item` is the item's id, or "new" for
    the form that adds one."""

    item: str
    values: dict[str, str]
    problem: FormProblem


@router.get("/local/stores/{ref}")
def store_page(request: Request, ref: IdPath, ctx: Ctx, viewer: Viewer, done: DoneQuery = None) -> Response:
    """A store, its menu (with the forms that change it) and its orders: an operator any store, a seller
    its own (another's: 404)."""
    return _store_page(request, ref, ctx, viewer, done=done)


def _store_page(
    request: Request,
    ref: str,
    ctx: Ctx,
    viewer: SignedIn,
    failed: MenuForm | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    viewer.principal.require("operator", "seller")
    with ctx.db.transaction() as session:
        store = store_service.own_store(session, viewer.principal, ref)
        _, menu = menu_service.menu(session, viewer.principal, ref)
        orders = store_service.store_orders(session, store, LISTED)
    flying = [o for o in orders if o.state in IN_FLIGHT]
    m = city_map("store", f"{store.name} and its orders in flight", points([store], [], flying))
    return render(
        request,
        "local_store.html",
        status,
        store=store,
        menu=menu,
        prices={i.public_id: plain_major(i.price_minor, store.currency) for i in menu},
        failed=failed,
        done=done,
        csrf=viewer.csrf_token,
        orders=orders,
        map=m,
        hours=_hours(store),
    )


def price_minor_of(typed: str, currency: str) -> int:
    """A price typed in the currency's major units (12.50), exact, above zero and at most the largest
    price; refused in the units typed, beside the price field."""
    try:
        minor = exact_minor(Decimal(typed.strip()), currency)
    except (InvalidOperation, ValueError):
        minor = 0
    if amount_problem(minor, currency) is not None:
        most = plain_major(max_minor(currency), currency)
        raise ValidationFailed(
            "invalid price", [FieldError("price", f"a price above 0 up to {most} {currency}, as 12.50")]
        )
    return minor


def menu_body(model: type[Body], typed: dict[str, str], currency: str) -> Body:
    """The API's body from a menu form: the price read in the currency's major units, the rest by the
    body's own rules; every wrong field named at once, once (the form's words before the schema's)."""
    errors: list[FieldError] = []
    minor = 1
    try:
        minor = price_minor_of(typed["price"], currency)
    except ValidationFailed as bad:
        errors += bad.field_errors
    name, description = typed["name"].strip(), typed["description"].strip()
    if not 1 <= len(name) <= 200:
        errors.append(FieldError("name", "a name for the item, at most 200 characters"))
    if len(description) > 500:
        errors.append(FieldError("description", "at most 500 characters"))
    values = {
        "name": name if 1 <= len(name) <= 200 else "-",
        "price_minor": minor,
        "description": description[:500],
    }
    try:
        body = forms.parse(model, "invalid menu item", values)
    except ValidationFailed as bad:
        errors += bad.field_errors
    if errors:
        raise ValidationFailed("the menu item has mistakes", errors)
    return body


def _menu_refused(request: Request, ref: str, ctx: Ctx, viewer: SignedIn, form: MenuForm) -> Response:
    return _store_page(request, ref, ctx, viewer, form, 422)


def _menu_done(ref: str, what: str) -> Response:
    """Back to the store (a reload does not send the form again), saying what was done."""
    return RedirectResponse(f"/local/stores/{ref}?{urlencode({'done': what})}#menu", status_code=303)


@router.post("/local/stores/{ref}/menu")
def add_menu_item(
    request: Request,
    ref: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    name: MenuText = "",
    price: MenuText = "",
    description: MenuText = "",
) -> Response:
    """Add an item to the store's menu, as POST /api/v1/local/stores/{ref}/menu does."""
    auth.check_csrf(viewer, csrf)
    values = {"name": name, "price": price, "description": description}
    try:
        with ctx.db.transaction() as session:
            store = store_service.own_store(session, viewer.principal, ref)
            body = menu_body(MenuItemIn, values, store.currency)
            spec = menu_service.ItemSpec(body.name, body.price_minor, body.description)
            menu_service.add_item(session, viewer.principal, ref, spec, ctx.clock())
    except ValidationFailed as refused:
        problem = FormProblem.of(refused, MENU_ALIASES)
        return _menu_refused(request, ref, ctx, viewer, MenuForm("new", values, problem))
    return _menu_done(ref, "added")


@router.post("/local/stores/{ref}/menu/{item}")
def change_menu_item(
    request: Request,
    ref: IdPath,
    item: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    name: MenuText = "",
    price: MenuText = "",
    description: MenuText = "",
    available: MenuText = "",
) -> Response:
    """Change an item's name, price, description and whether it is on sale (an unticked box: sold out),
    as PATCH /api/v1/local/stores/{ref}/menu/{item} does."""
    auth.check_csrf(viewer, csrf)
    values = {"name": name, "price": price, "description": description, "available": available}
    try:
        with ctx.db.transaction() as session:
            store = store_service.own_store(session, viewer.principal, ref)
            patch = menu_body(MenuItemPatch, values, store.currency)
            change = menu_service.ItemChange(
                patch.name, patch.price_minor, patch.description, available == "on"
            )
            menu_service.change_item(session, viewer.principal, ref, item, change, ctx.clock())
    except ValidationFailed as refused:
        problem = FormProblem.of(refused, MENU_ALIASES)
        return _menu_refused(request, ref, ctx, viewer, MenuForm(item, values, problem))
    return _menu_done(ref, "changed")


@router.post("/local/stores/{ref}/menu/{item}/archive")
def archive_menu_item(ref: IdPath, item: IdPath, ctx: Ctx, viewer: Viewer, csrf: CsrfField = "") -> Response:
    """Take an item off the menu for good (past orders keep naming it), as DELETE on the API's item."""
    auth.check_csrf(viewer, csrf)
    with ctx.db.transaction() as session:
        menu_service.archive_item(session, viewer.principal, ref, item, ctx.clock())
    return _menu_done(ref, "archived")


def _hours(store: LocalStore) -> str:
    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return f"{hhmm(store.opens_minute)}-{hhmm(store.closes_minute)} ({store.time_zone})"
