"""Inventory: stock lines by warehouse, what is running low, and the reservations holding stock, each
with filters by warehouse and market and cursor pages. Operators see every SKU's stock; a seller only
its own SKUs'; buyers and carriers get 403, as GET /api/v1/skus/{id}/stock answers them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.catalog import service as catalog
from entrepot.inventory import queries, service
from entrepot.inventory.queries import LOW_STOCK_UNITS, StockFilter
from entrepot.kernel.bounds import MAX_INT64
from entrepot.kernel.pagination import decode_cursor
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Ctx, next_cursor
from entrepot.platform.schemas import CodeQuery
from entrepot.web.auth import Viewer
from entrepot.web.orders import PAGE_SIZE, CursorQuery
from entrepot.web.organisation import ALL_MARKETS
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ALL_WAREHOUSES = 10_000  # the group's warehouses fit in a list to choose from
AtMostQuery = Annotated[int, Query(ge=0, le=MAX_INT64, description="units available at most")]
VIEWS = (
    ("/inventory", "Stock"),
    ("/inventory/low", "Low stock"),
    ("/inventory/reservations", "Reservations"),
)


@dataclass
class Asked:
    """What the page was asked for: the filters as typed (kept in the form and the next page's link)
    and the cursor."""

    warehouse: str
    market: str
    cursor: str | None
    at_most: int | None = None

    def params(self) -> dict[str, Any]:
        shown = {"warehouse": self.warehouse, "market": self.market, "at_most": self.at_most}
        return {name: value for name, value in shown.items() if value not in ("", None)}


def _asked(warehouse: CodeQuery = None, market: CodeQuery = None, cursor: CursorQuery = None) -> Asked:
    return Asked(warehouse or "", market or "", cursor)


AskedFor = Annotated[Asked, Depends(_asked)]


@router.get("/inventory")
def stock_page(request: Request, ctx: Ctx, viewer: Viewer, asked: AskedFor) -> Response:
    return _lines(request, ctx, viewer, asked)


@router.get("/inventory/low")
def low_stock_page(
    request: Request, ctx: Ctx, viewer: Viewer, asked: AskedFor, at_most: AtMostQuery = LOW_STOCK_UNITS
) -> Response:
    asked.at_most = at_most
    return _lines(request, ctx, viewer, asked)


def _lines(request: Request, ctx: AppContext, viewer: Viewer, asked: Asked) -> Response:
    scope = catalog.seller_scope(viewer.principal)
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        where = _filter(session, scope, asked)
        lines = queries.stock_lines(session, where, decode_cursor(asked.cursor), limit)
        labels = catalog.sku_labels(session, {line.sku_id for line in lines})
        choices = _choices(session)
    return render(
        request,
        "inventory.html",
        view="/inventory/low" if asked.at_most is not None else "/inventory",
        views=VIEWS,
        asked=asked,
        lines=lines,
        labels=labels,
        next_cursor=next_cursor([line.row_id for line in lines], limit),
        low_units=LOW_STOCK_UNITS if asked.at_most is None else asked.at_most,
        **choices,
    )


@router.get("/inventory/reservations")
def reservations_page(request: Request, ctx: Ctx, viewer: Viewer, asked: AskedFor) -> Response:
    scope = catalog.seller_scope(viewer.principal)
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        where = _filter(session, scope, asked)
        held = queries.active_reservations(session, where, decode_cursor(asked.cursor), limit)
        labels = catalog.sku_labels(session, {h.sku_id for h in held})
        choices = _choices(session)
    return render(
        request,
        "reservations.html",
        view="/inventory/reservations",
        views=VIEWS,
        asked=asked,
        held=held,
        labels=labels,
        next_cursor=next_cursor([h.row_id for h in held], limit),
        **choices,
    )


def _filter(session: Session, seller_id: int | None, asked: Asked) -> StockFilter:
    """The page's filter; an unknown market is a 404, as the API's market routes answer it."""
    market_id = organization.get_market(session, asked.market).id if asked.market else None
    return StockFilter(seller_id, asked.warehouse or None, market_id, asked.at_most)


def _choices(session: Session) -> dict[str, Any]:
    """The warehouses and markets the filters offer."""
    warehouses = service.list_warehouses(session, None, None, ALL_WAREHOUSES)
    markets = organization.list_markets(session, None, None, ALL_MARKETS)
    return {"warehouses": [w.code for w in warehouses], "markets": [m.code for m, _ in markets]}
