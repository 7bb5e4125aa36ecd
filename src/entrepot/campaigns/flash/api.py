"""Routes of flash sales: create and read a sale, take units, pay, and the flash payments webhook.

Taking units is `async`: the request waits in its worker's coalescer for the next batch transaction
(campaigns.flash.batch) instead of holding a thread and a database connection of its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash import settlement as flash_settle
from entrepot.campaigns.flash.fast import answer_take
from entrepot.campaigns.flash.models import FlashOrder, FlashSale
from entrepot.campaigns.flash.runtime import runtime
from entrepot.campaigns.flash.schemas import (
    FlashOrderIn,
    FlashOrderOut,
    FlashPayIn,
    FlashSaleIn,
    FlashSaleOut,
)
from entrepot.kernel.errors import FieldError, NotFound, ValidationFailed
from entrepot.ordering.context import OrderingCtx
from entrepot.ordering.payments import SIGNATURE_HEADER
from entrepot.platform import problems
from entrepot.platform.deps import IDEMPOTENCY_KEY_SCHEMA, Caller, Ctx
from entrepot.platform.schemas import IdPath

router = APIRouter(tags=["flash sales"])


def sale_out(sale: FlashSale, now: Any) -> FlashSaleOut:
    counters = flash.counters_of(sale)
    return FlashSaleOut(
        id=sale.public_id,
        sku=sale.sku_ref,
        market=sale.market_ref,
        currency=sale.currency,
        sale_price_minor=sale.sale_price_minor,
        stock=sale.stock,
        available=counters.available,
        reserved=sale.reserved,
        sold=sale.sold,
        waiting=sale.waiting,
        per_buyer_limit=sale.per_buyer_limit,
        phase="closed" if sale.closed_at else counters.phase(now),
        starts_at=sale.starts_at,
        ends_at=sale.ends_at,
        closed_at=sale.closed_at,
        strategy=sale.strategy,
    )


def order_out(order: FlashOrder, sale: str, currency: str) -> FlashOrderOut:
    return FlashOrderOut(
        id=order.public_id,
        sale=sale,
        status=order.status,
        quantity=order.quantity,
        amount_minor=order.amount_minor,
        currency=currency,
        expires_at=order.expires_at,
        payment_id=order.payment_id,
        payment_status=order.payment_status,
    )


@router.post("/flash-sales", status_code=201, response_model=FlashSaleOut)
def create_sale(body: FlashSaleIn, ctx: Ctx, principal: Caller) -> FlashSaleOut:
    """Set units of a SKU aside from a warehouse for a sale at `sale_price_minor` within a time window."""
    spec = flash.SaleSpec(**body.model_dump())
    with ctx.db.transaction() as session:
        sale = flash.create_sale(session, principal, spec, ctx.clock())
        return sale_out(sale, ctx.clock())


@router.get("/flash-sales/{sale_id}", response_model=FlashSaleOut)
def get_sale(sale_id: IdPath, ctx: Ctx, _: Caller) -> FlashSaleOut:
    with ctx.db.transaction() as session:
        return sale_out(flash.get_sale(session, sale_id), ctx.clock())


@router.post(
    "/flash-sales/{sale_id}/orders",
    status_code=201,
    response_model=FlashOrderOut,
    responses={
        202: {"description": "every unit is held unpaid: you wait in line for one to come back"},
        # answered by the fast path, which no dependency describes: its key, body and media type
        **{status: {} for status in (400, 401, 403, 413, 415)},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": FlashOrderIn.model_json_schema()}},
        },
        "parameters": [
            {"name": "Idempotency-Key", "in": "header", "required": True, "schema": IDEMPOTENCY_KEY_SCHEMA},
            {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"}},
        ],
    },
)
async def take_units(sale_id: IdPath, request: Request) -> Response:
    """Take units at the sale price, first come first served. 201 reserved (pay before `expires_at`),
    202 waiting, 409 `sale-not-open`, `sale-ended`, `over-buyer-limit` or `sold-out`. A retry with the
    same Idempotency-Key returns the same order (200, `Idempotent-Replayed: true`).

    Served by `fast.FlashFastPath` before the router where the app installs it (see campaigns.flash.fast)."""
    answer = await answer_take(
        runtime(request), sale_id, request.headers, await request.body(), request.url.path
    )
    task = BackgroundTask(answer.after) if answer.after is not None else None
    return Response(answer.body, answer.status, answer.headers, answer.media_type, task)


@router.get("/flash-orders/{order_id}", response_model=FlashOrderOut)
def get_flash_order(order_id: IdPath, ctx: Ctx, principal: Caller) -> FlashOrderOut:
    with ctx.db.transaction() as session:
        order = flash_settle.get_flash_order(session, principal, order_id)
        sale = session.get(FlashSale, order.sale_id)
        assert sale is not None
        return order_out(order, sale.public_id, sale.currency)


@router.post("/flash-orders/{order_id}/pay", status_code=202, response_model=FlashOrderOut)
async def pay(
    order_id: IdPath, body: FlashPayIn, ctx: OrderingCtx, principal: Caller, request: Request
) -> FlashOrderOut:
    """Pay for a reserved order without a payment in flight (one promoted from the waiting line)."""

    def start() -> tuple[FlashOrderOut, Any]:
        with ctx.db.transaction() as session:
            delivery = flash_settle.start_payment(
                session, principal, order_id, body.method, ctx.payments, ctx.clock()
            )
            order = flash_settle.get_flash_order(session, principal, order_id)
            sale = session.get(FlashSale, order.sale_id)
            assert sale is not None
            return order_out(order, sale.public_id, sale.currency), delivery

    out, delivery = await run_in_threadpool(start)
    rt = runtime(request)
    await rt.settle(rt.verified(delivery.body, delivery.signature))
    return out


@router.post("/flash-sales/payments/webhook", tags=["payments"], responses=problems.SIGNED)
async def flash_payment_webhook(
    request: Request, signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None
) -> dict[str, str]:
    """Provider events for flash orders, signed like `/payments/webhook`; repeats change nothing."""
    rt = runtime(request)
    body = await request.body()
    event = rt.verified(body, signature)
    outcome = await rt.settle(event)
    if outcome == "unknown":
        raise NotFound(f"no flash payment {event.payment_id}")
    if outcome == "mismatch":
        raise ValidationFailed(
            "the event's amount or currency is not the payment's; nothing was applied",
            [FieldError("amount_minor", "does not match the payment")],
        )
    return {"outcome": outcome}
