"""Moving an order along its state machine from the console (cancel, fulfil, ship, ...), each after a
confirmation page, through the service the API's `POST /orders/{id}/{action}` calls: the same roles
may ask (ordering.service.require_actor), the same impossible moves are refused (409)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from entrepot.kernel.errors import DomainError
from entrepot.ordering import queries, service
from entrepot.ordering.domain import next_status
from entrepot.ordering.schemas import Action
from entrepot.platform.deps import Ctx
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import IdPath
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
DoneQuery = Annotated[Action | None, Query(description="the move just made")]
# what each action does, said on its confirmation page
CONSEQUENCES = {
    "cancel": "A placed order's stock goes back on sale; a paid one is restocked and refunded in full.",
    "fulfil": "The seller has picked and packed the goods.",
    "ship": "The parcel has left the warehouse.",
    "deliver": "The parcel has reached the buyer.",
    "complete": "The buyer has accepted the order.",
    "request-return": "The buyer sends the goods back.",
    "receive-return": "The goods are back in the warehouse and on sale again.",
}


def offered(principal: Principal, actions: list[str]) -> list[str]:
    """The moves the order allows now (service.next_actions) that this role may ask for."""
    return [a for a in actions if a in CONSEQUENCES and _may(principal, a)]


def _may(principal: Principal, action: str) -> bool:
    try:
        service.require_actor(principal, action.replace("-", "_"))
    except DomainError:
        return False
    return True


@router.get("/orders/{order_id}/{action}")
def confirm(request: Request, order_id: IdPath, action: Action, ctx: Ctx, viewer: Viewer) -> Response:
    service.require_actor(viewer.principal, action.replace("-", "_"))
    with ctx.db.transaction() as session:
        order = queries.get_order(session, order_id, viewer.principal)
    next_status(action.replace("-", "_"), order.status)  # a move the order cannot make now: 409 here already
    return render(
        request,
        "order_action.html",
        order=order,
        action=action,
        consequence=CONSEQUENCES[action],
        csrf=viewer.csrf_token,
    )


@router.post("/orders/{order_id}/{action}")
def act(
    request: Request, order_id: IdPath, action: Action, ctx: Ctx, viewer: Viewer, csrf: CsrfField = ""
) -> Response:
    auth.check_csrf(viewer, csrf)
    with ctx.db.transaction() as session:
        service.transition(session, viewer.principal, order_id, action.replace("-", "_"), ctx.clock())
    return RedirectResponse(f"/orders/{order_id}?done={action}", status_code=303)
