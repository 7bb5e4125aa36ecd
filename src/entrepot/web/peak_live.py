"""A flash sale's live board (stock, reserved, sold and the waiting line, kept current by server-sent
events through web/live.py and static/live.js) and the livestream control room, where the session's
seller or an operator opens and closes drops after a confirmation, through the same service calls as
POST /api/v1/live-sessions/{id}/drops/{drop}/open|close: a refusal is shown in place with its status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from entrepot.campaigns.flash import queries as flash_queries
from entrepot.campaigns.flash.queries import Board
from entrepot.campaigns.livestream import service as livestream
from entrepot.catalog import service as catalog
from entrepot.kernel.errors import DomainError, NotFound
from entrepot.organization import service as organization
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import IdPath
from entrepot.web import auth, live
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import duration, render, words

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Action = Annotated[str, Path(pattern="^(open|close)$")]
DONE = {"open": "opened", "close": "closed"}
DoneQuery = Annotated[str | None, Query(pattern="^(opened|closed)$", description="what was just done")]
CreatedQuery = Annotated[
    str | None, Query(pattern="^created$", description="the page of a campaign just made")
]


def board_figures(board: Board, now: dt.datetime) -> live.Figures:
    """The board's figures as the page prints them: the page and its live feed show the same text."""
    left = int((board.ends_at - now).total_seconds())
    return {
        "stock": f"{board.stock:,}",
        "available": f"{board.available:,}",
        "reserved": f"{board.reserved:,}",
        "sold": f"{board.sold:,}",
        "sold_units": board.sold,  # for the gauge
        "waiting_units": f"{board.waiting_units:,}",
        "in_line": f"{board.in_line:,}",
        "phase": words(board.phase),
        "time_left": duration(left) if left > 0 and board.phase not in ("ended", "closed") else "-",
        "as_of": now.astimezone(dt.UTC).strftime("%H:%M:%S UTC"),
    }


@router.get("/peak/flash/{sale_id}")
def flash_board(
    request: Request, sale_id: IdPath, ctx: Ctx, viewer: Viewer, done: CreatedQuery = None
) -> Response:
    now = ctx.clock()
    with ctx.db.transaction() as session:
        sale = flash_queries.sale_to_run(session, viewer.principal, sale_id)
        figures = board_figures(flash_queries.board(session, sale.id, now), now)
        label = catalog.sku_labels(session, {sale.sku_id})[sale.sku_id]
    return render(request, "peak_flash.html", sale=sale, label=label, figures=figures, done=done)


@router.get("/peak/flash/{sale_id}/live")
async def flash_board_feed(request: Request, sale_id: IdPath, ctx: Ctx, viewer: Viewer) -> Response:
    """The board's figures as server-sent events (web/live.py): for whoever may open the board."""

    def find() -> int:
        with ctx.db.transaction() as session:
            return flash_queries.sale_to_run(session, viewer.principal, sale_id).id

    row_id = await run_in_threadpool(find)  # the page's 403/404 before any stream starts

    def read() -> live.Figures:
        now = ctx.clock()
        with ctx.db.transaction() as session:
            return board_figures(flash_queries.board(session, row_id, now), now)

    return live.live_response(live.figures_stream(request, read, live.session_check(request, ctx)))


def _drops_figures(drops: list[dict[str, Any]]) -> live.Figures:
    """Each drop's changing figures under `drop id.field`, for the control room's live cells."""
    figures: live.Figures = {}
    for d in drops:
        figures |= {
            f"{d['id']}.available": f"{d['available']:,}",
            f"{d['id']}.sold": f"{d['sold']:,}",
            f"{d['id']}.phase": words(d["phase"]),
        }
    return figures


@router.get("/peak/live/{ref}")
def control_room(request: Request, ref: IdPath, ctx: Ctx, viewer: Viewer, done: DoneQuery = None) -> Response:
    now = ctx.clock()
    with ctx.db.transaction() as session:
        live_session = livestream.get_session(session, ref, viewer.principal)
        drops = livestream.snapshot(session, live_session, now)
        currency = organization.get_market(session, live_session.market_ref).currency
        codes = _sku_codes(session, live_session.seller_id)
    return render(
        request,
        "peak_live.html",
        live_session=live_session,
        currency=currency,
        codes=codes,
        drops=drops,
        figures=_drops_figures(drops),
        done=done,
    )


@router.get("/peak/live/{ref}/live")
async def control_room_feed(request: Request, ref: IdPath, ctx: Ctx, viewer: Viewer) -> Response:
    """The drops' stock as server-sent events, for the session's seller or an operator."""

    def find() -> None:
        with ctx.db.transaction() as session:
            livestream.get_session(session, ref, viewer.principal)

    await run_in_threadpool(find)

    def read() -> live.Figures:
        with ctx.db.transaction() as session:
            live_session = livestream.get_session(session, ref)
            return _drops_figures(livestream.snapshot(session, live_session, ctx.clock()))

    return live.live_response(live.figures_stream(request, read, live.session_check(request, ctx)))


def _sku_codes(session: Session, seller_id: int) -> dict[str, str]:
    """The session's seller's SKU codes by public id: drops name their SKU by its public id."""
    return {sku.public_id: sku.code for sku in catalog.seller_skus(session, seller_id)}


def _drop_of(drops: list[dict[str, Any]], drop: str) -> dict[str, Any]:
    found = next((d for d in drops if d["id"] == drop), None)
    if found is None:
        raise NotFound(f"no drop {drop} in this session")  # as the service answers it
    return found


def _confirm_page(
    request: Request, ctx: Ctx, viewer: Viewer, ref: str, drop: str, action: str, problem: DomainError | None
) -> Response:
    """The confirmation form; after a refusal, the same form with the problem in place and its status."""
    with ctx.db.transaction() as session:
        live_session = livestream.get_session(session, ref, viewer.principal)
        shown = _drop_of(livestream.snapshot(session, live_session, ctx.clock()), drop)
        code = _sku_codes(session, live_session.seller_id).get(shown["sku"], shown["sku"])
    return render(
        request,
        "peak_drop_action.html",
        problem.status if problem else 200,
        live_session=live_session,
        drop=shown,
        code=code,
        action=action,
        csrf=viewer.csrf_token,
        problem=FormProblem.of(problem) if problem else FormProblem(),
    )


@router.get("/peak/live/{ref}/drops/{drop}/{action}")
def drop_action_form(
    request: Request, ref: IdPath, drop: IdPath, action: Action, ctx: Ctx, viewer: Viewer
) -> Response:
    return _confirm_page(request, ctx, viewer, ref, drop, action, None)


@router.post("/peak/live/{ref}/drops/{drop}/{action}")
def drop_action(
    request: Request,
    ref: IdPath,
    drop: IdPath,
    action: Action,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
) -> Response:
    """Open or close the drop, as the API's route does; a refusal (409 when the drop is not queued or
    not open) shows the confirmation again with the problem, changing nothing."""
    auth.check_csrf(viewer, csrf)
    change = livestream.open_drop if action == "open" else livestream.close_drop
    try:
        with ctx.db.transaction() as session:
            change(session, viewer.principal, ref, drop, ctx.clock())
    except DomainError as problem:
        if problem.status in (403, 404):
            raise  # not this viewer's session or drop: the error page, as for any other page
        return _confirm_page(request, ctx, viewer, ref, drop, action, problem)
    return RedirectResponse(f"/peak/live/{ref}?done={DONE[action]}", status_code=303)
