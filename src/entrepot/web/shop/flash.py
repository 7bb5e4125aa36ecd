"""A flash sale in a shop: its price and a live counter of the units left and sold, the phase and the
time left, kept current by server-sent events (web/live.py's stream, static/live.js in the page) from
the same figures the console's live board reads (campaigns.flash.queries.board), formatted the
market's way. Taking units is the API's fast path (POST /api/v1/flash-sales/{id}/orders)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from entrepot.campaigns.flash import queries as flash_queries
from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash.models import FlashSale
from entrepot.catalog import service as catalog
from entrepot.kernel.errors import not_found
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import IdPath
from entrepot.web import live
from entrepot.web.auth import Viewer
from entrepot.web.locale import MarketFormat
from entrepot.web.shop import words
from entrepot.web.shop.common import (
    MarketPart,
    Marketplace,
    Shop,
    ShopRoute,
    current_cart,
    items_in,
    open_shop,
    render_shop,
)

router = APIRouter(route_class=ShopRoute, include_in_schema=False)


def _sale_in(session: Session, shop: Shop, sale_id: str) -> FlashSale:
    """The sale, when it sells in this shop's market (another market's is not found here)."""
    sale = flash.get_sale(session, sale_id)
    if sale.market_ref != shop.market.code:
        raise not_found("flash sale", sale_id)
    return sale


def counter(board: flash_queries.Board, fmt: MarketFormat, now: dt.datetime) -> live.Figures:
    """What the buyer's counter shows, as the page prints it: the page and its feed say the same."""
    said = fmt.translations().gettext
    left = int((board.ends_at - now).total_seconds())
    running = left > 0 and board.phase not in ("ended", "closed", "sold_out")
    return {
        "available": fmt.number(board.available),
        "sold": fmt.number(board.sold),
        "sold_units": board.sold,  # the gauge's value
        "phase": said(words.FLASH_PHASE.get(board.phase, board.phase)),
        "time_left": fmt.duration(left) if running else "-",
        "as_of": fmt.moment(now),
    }


@router.get("/shop/{marketplace}/{market}/flash-sales/{sale_id}")
def flash_sale(
    request: Request, marketplace: Marketplace, market: MarketPart, sale_id: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    now = ctx.clock()
    with ctx.db.transaction() as session:
        shop = open_shop(session, marketplace, market)
        sale = _sale_in(session, shop, sale_id)
        figures = counter(flash_queries.board(session, sale.id, now), shop.format, now)
        label = catalog.sku_labels(session, {sale.sku_id})[sale.sku_id]
        count = items_in(session, current_cart(session, request, viewer))
    return render_shop(
        request, "shop_flash.html", shop, cart_count=count, sale=sale, label=label, figures=figures
    )


@router.get("/shop/{marketplace}/{market}/flash-sales/{sale_id}/live")
async def flash_sale_feed(
    request: Request, marketplace: Marketplace, market: MarketPart, sale_id: IdPath, ctx: Ctx, viewer: Viewer
) -> Response:
    """The counter's figures as server-sent events, for whoever may open the page."""

    def find() -> tuple[Shop, int]:
        with ctx.db.transaction() as session:
            shop = open_shop(session, marketplace, market)
            return shop, _sale_in(session, shop, sale_id).id

    shop, row_id = await run_in_threadpool(find)  # the page's 404 before any stream starts

    def read() -> live.Figures:
        now = ctx.clock()
        with ctx.db.transaction() as session:
            return counter(flash_queries.board(session, row_id, now), shop.format, now)

    return live.live_response(live.figures_stream(request, read, live.session_check(request, ctx)))
