"""Routes of on-demand orders: a buyer places one at an open store (promised a time from the current
state) and follows it live; the courier of its trip picks it up and hands it over with a proof; its
buyer or an operator cancels it before pick-up. An order is seen by its buyer, its store's seller, the
courier carrying it and operators; for anyone else there is no such order (404)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from entrepot.kernel.idempotency import request_fingerprint
from entrepot.local_services import order_service, tracking
from entrepot.local_services.delivery import Line
from entrepot.local_services.models import OnDemandOrder
from entrepot.local_services.ondemand_schemas import CancelIn, ItemOut, OrderIn, OrderOut, ProofIn
from entrepot.local_services.store_api import place_of
from entrepot.platform.deps import Caller, Ctx, OptionalIdempotencyKey, Paging, next_cursor
from entrepot.platform.schemas import IdPath, ListPage

router = APIRouter(tags=["local services"])

NOT_YOURS: dict[str, object] = {"description": "no such order, or not one this key may see"}
MOVE_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "a key whose role may not do this"},
    404: NOT_YOURS,
    409: {"description": "the order (or its trip) is not in a state that allows it"},
}


def order_out(session: Session, order: OnDemandOrder) -> OrderOut:
    return order_row_out(
        order, order_service.store_ref(session, order), order_service.trip_ref(session, order)
    )


def order_row_out(order: OnDemandOrder, store: str, trip: str | None) -> OrderOut:
    return OrderOut(
        id=order.public_id,
        store=store,
        state=order.state,  # type: ignore[arg-type]  # the table's check holds it to the five states
        items=[ItemOut.model_validate(item) for item in order.items],
        total_minor=order.total_minor,
        delivery_fee_minor=order.delivery_fee_minor,
        payable_minor=order.total_minor + order.delivery_fee_minor,
        currency=order.currency,
        address=order.address,
        lat=order.lat,
        lon=order.lon,
        placed_at=order.placed_at,
        ready_at=order.ready_at,
        eta_at=order.eta_at,
        eta_spread_s=order.spread_s,
        promised_at=order.promised_at,
        trip=trip,
        picked_up_at=order.picked_up_at,
        delivered_at=order.delivered_at,
        cancelled_at=order.cancelled_at,
    )


@router.post(
    "/local/orders",
    status_code=201,
    response_model=OrderOut,
    responses={
        200: {
            "model": OrderOut,
            "description": "a retry with the same Idempotency-Key and body: the first order",
        },
        403: {"description": "not a buyer's key"},
        422: {
            "description": "an unknown store, the store closed at this time, an address not on the map or a "
            "point off it, more items than a courier carries, an item not on the store's menu (unknown, "
            "another store's, archived) or not available now (`items[i].item`), a total out of range, "
            "an Idempotency-Key used before with another body"
        },
    },
)
def place_order(
    body: OrderIn,
    ctx: Ctx,
    principal: Caller,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,  # type: ignore[assignment]  # see its definition
) -> OrderOut:
    """Order from a store to a door of the city's map: refused when the store is closed. The answer
    promises a delivery time (`promised_at`, which 19 orders in 20 beat) quoted from the current state:
    the kitchen's time or the nearest free courier's ride if longer, the backlog of orders waiting for
    couriers, the ride to the door; `eta_at` and `eta_spread_s` are the expected time and its spread. It
    also fixes the price: the goods (`total_minor`: each item at the store's menu price now, copied onto
    the order with its name, so a later change of the menu leaves the order as it was), the delivery fee
    by the route's length (`delivery_fee_minor`) and what the buyer pays (`payable_minor`), in the
    store's currency.

    With an Idempotency-Key, a retry of the same body is answered 200 with the first order (nothing new is
    written), another body with that key 422, and requests with one key at once make one order."""
    principal.require("buyer")
    lines = [Line(i.item, i.quantity) for i in body.items]
    drop = place_of(body.drop_off, "drop_off")
    with ctx.db.transaction() as session:
        if idempotency_key is None:
            order = order_service.place_order(session, principal, body.store, lines, drop, ctx.clock())
        else:
            claim = order_service.Claim(idempotency_key, request_fingerprint(body.model_dump(mode="json")))
            order, replayed = order_service.place_order_once(
                session, principal, body.store, lines, drop, ctx.clock(), claim
            )
            response.status_code = 200 if replayed else 201
        return order_out(session, order)


@router.get("/local/orders", response_model=ListPage[OrderOut])
def list_orders(
    ctx: Ctx,
    principal: Caller,
    paging: Paging,
    state: Annotated[
        Literal["placed", "assigned", "picked_up", "delivered", "cancelled"] | None, Query()
    ] = None,
) -> ListPage[OrderOut]:
    """The orders this key may see (a buyer its own, a seller its stores', a courier those it carries,
    operators all), oldest first."""
    with ctx.db.transaction() as session:
        found = order_service.list_orders(session, principal, paging.after, paging.limit, state)
        return ListPage(
            items=[order_row_out(*row) for row in found],
            next_cursor=next_cursor([order.id for order, _, _ in found], paging.limit),
        )


@router.get("/local/orders/{ref}", response_model=OrderOut, responses={404: NOT_YOURS})
def get_order(ref: IdPath, ctx: Ctx, principal: Caller) -> OrderOut:
    with ctx.db.transaction() as session:
        return order_out(session, order_service.get_order(session, principal, ref))


@router.post("/local/orders/{ref}/cancel", response_model=OrderOut, responses=MOVE_ERRORS)
def cancel_order(ref: IdPath, body: CancelIn, ctx: Ctx, principal: Caller) -> OrderOut:
    """Its buyer or an operator cancels an order not yet picked up (409 after)."""
    with ctx.db.transaction() as session:
        order = order_service.cancel_order(session, principal, ref, body.reason, ctx.clock())
        return order_out(session, order)


@router.post("/local/orders/{ref}/pickup", response_model=OrderOut, responses=MOVE_ERRORS)
def pick_up(ref: IdPath, ctx: Ctx, principal: Caller) -> OrderOut:
    """The courier carrying it has it in the bag (its trip accepted first)."""
    with ctx.db.transaction() as session:
        return order_out(session, order_service.pick_up(session, principal, ref, ctx.clock()))


@router.post(
    "/local/orders/{ref}/delivery",
    response_model=OrderOut,
    responses={**MOVE_ERRORS, 422: {"description": "a proof's point off the map"}},
)
def deliver(ref: IdPath, body: ProofIn, ctx: Ctx, principal: Caller) -> OrderOut:
    """The courier handed it over, with a proof: the code the buyer read out, or a photo's or a
    signature's reference, and where."""
    point = (body.point.lat, body.point.lon) if body.point is not None else None
    proof = order_service.Proof(body.kind, body.reference, point)
    with ctx.db.transaction() as session:
        return order_out(session, order_service.deliver(session, principal, ref, proof, ctx.clock()))


@router.get(
    "/local/orders/{ref}/tracking",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "`event: status` with JSON data"},
        403: {"description": "a seller's or carrier's key"},
        404: NOT_YOURS,
    },
)
async def track(ref: IdPath, request: Request, ctx: Ctx, principal: Caller) -> StreamingResponse:
    """Server-sent events: the order's state, ETA and its courier's last position, sent at once and
    whenever they change (read every second); the stream ends once the order is delivered or cancelled.
    For its buyer and operators."""
    principal.require("buyer", "operator")
    await run_in_threadpool(tracking.read_status, ctx, principal, ref)  # a 404 problem, not an empty stream
    return StreamingResponse(
        tracking.stream(request, ctx, principal, ref),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
