"""A buyer's on-demand deliveries in a shop (issue 22): the list of its own orders from the shop's local
stores, and one order's page with its state, the promised time, the live ETA with its spread and the city
map (the store, the door, the courier where it last said it was), kept current by server-sent events.
Orders are read through the buyer's eyes (order_service.get_order): another buyer's order is a 404, as
in the API; an order from a store in another market is not this shop's (404 too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from entrepot.kernel.errors import not_found
from entrepot.local_services import order_service, store_service, tracking
from entrepot.local_services.models import LocalStore, OnDemandOrder
from entrepot.platform.deps import AppContext, Ctx
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import IdPath
from entrepot.web import live
from entrepot.web.auth import Viewer
from entrepot.web.locale import MarketFormat
from entrepot.web.maps import Map, Point
from entrepot.web.shop.common import MarketPart, Marketplace, Shop, ShopRoute, open_shop, render_shop

router = APIRouter(route_class=ShopRoute, include_in_schema=False)
LISTED = 200
POINT_GROUPS = ("store", "drop_off", "courier")


def _store_of(session: Session, order: OnDemandOrder) -> LocalStore:
    return store_service.get_store(session, order_service.store_ref(session, order))


def _own_order(
    session: Session, principal: Principal, shop: Shop, ref: str
) -> tuple[OnDemandOrder, LocalStore]:
    """The buyer's order from one of this shop's stores, or 404 (a buyer's other market is not here)."""
    order = order_service.get_order(session, principal, ref)
    store = _store_of(session, order)
    if store.market != shop.market.code:
        raise not_found("order", ref)
    return order, store


def places(status: dict[str, Any], fixed: list[Point]) -> list[Point]:
    """The store and the door, and the courier where it last said it was (once a courier has the order)."""
    courier = status["courier"]
    if courier is None:
        return list(fixed)
    return [*fixed, Point("courier", "Courier", courier["lat"], courier["lon"], "courier", "last position")]


def track_map(status: dict[str, Any], fixed: list[Point]) -> Map:
    return Map(
        "track",
        "Your delivery on the map",
        places(status, fixed),
        point_groups=POINT_GROUPS,
        detail_heading="Detail",
    )


def status_figures(status: dict[str, Any], fixed: list[Point], fmt: MarketFormat) -> live.Figures:
    """The page's live figures from tracking.read_status: state, ETA, spread and the map's places."""

    def moment(text: str) -> str:
        return fmt.moment(dt.datetime.fromisoformat(text))

    courier = status["courier"]
    spec = track_map(status, fixed).spec()
    return {
        "state": str(status["state"]).replace("_", " "),
        "eta": moment(status["eta_at"]),
        "spread": fmt.duration(60 * max(1, round(int(status["eta_spread_s"]) / 60))),  # whole minutes
        "promised": moment(status["promised_at"]),
        "courier": f"{courier['lat']:.5f}, {courier['lon']:.5f}" if courier else "-",
        "points": spec["points"],
    }


def fixed_points(order: OnDemandOrder, store: LocalStore) -> list[Point]:
    return [
        Point(store.public_id, store.name, store.lat, store.lon, "store", store.address),
        Point(order.public_id, order.address, order.lat, order.lon, "drop_off", "your door"),
    ]


@router.get("/shop/{marketplace}/{market}/deliveries")
def my_deliveries(
    request: Request, marketplace: Marketplace, market: MarketPart, ctx: Ctx, viewer: Viewer
) -> Response:
    viewer.principal.require("buyer")
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        mine = order_service.list_orders(session, viewer.principal, None, LISTED)
        stores = {s.public_id: s for s in store_service.list_stores(session, viewer.principal, None, LISTED)}
    rows = [
        (order, stores[store])
        for order, store, _ in reversed(mine)
        if store in stores and stores[store].market == shop.market.code
    ]
    return render_shop(request, "shop_local_orders.html", shop, rows=rows)


def _read(ctx: AppContext, principal: Principal, shop: Shop, ref: str) -> tuple[OnDemandOrder, LocalStore]:
    with ctx.db.transaction() as session:
        return _own_order(session, principal, shop, ref)


@router.get("/shop/{marketplace}/{market}/deliveries/{ref}")
def delivery_page(
    request: Request, marketplace: Marketplace, market: MarketPart, ref: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    viewer.principal.require("buyer")
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        order, store = _own_order(session, viewer.principal, shop, ref)
    fixed = fixed_points(order, store)
    status = tracking.read_status(ctx, viewer.principal, ref)
    figures = status_figures(status, fixed, shop.format)
    return render_shop(
        request,
        "shop_local_order.html",
        shop,
        order=order,
        store=store,
        figures=figures,
        map=track_map(status, fixed),
    )


@router.get("/shop/{marketplace}/{market}/deliveries/{ref}/live")
async def delivery_live(
    request: Request, marketplace: Marketplace, market: MarketPart, ref: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    """The order's live figures (web/live.py): its 403/404 answered before any stream starts."""
    viewer.principal.require("buyer")

    def opened() -> tuple[Shop, OnDemandOrder, LocalStore]:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            return (shop, *_own_order(session, viewer.principal, shop, ref))

    shop, order, store = await run_in_threadpool(opened)
    fixed = fixed_points(order, store)

    def read() -> live.Figures:
        return status_figures(tracking.read_status(ctx, viewer.principal, ref), fixed, shop.format)

    return live.live_response(live.figures_stream(request, read, live.session_check(request, ctx)))
