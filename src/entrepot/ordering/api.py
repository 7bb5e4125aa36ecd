"""Routes of checkout and orders, and the payment provider's webhook."""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Request, Response

from entrepot.kernel.errors import DomainError
from entrepot.kernel.idempotency import request_fingerprint
from entrepot.ordering import checkout, placing, queries, service
from entrepot.ordering.context import OrderingContext, OrderingCtx
from entrepot.ordering.models import Order
from entrepot.ordering.payments import SIGNATURE_HEADER, WebhookDelivery, parse_event, verify
from entrepot.ordering.runtime import checkout_runtime
from entrepot.ordering.schemas import (
    Action,
    AmountsOut,
    BasketIn,
    DeliveryOptionOut,
    DeliveryOut,
    FxOut,
    OrderIn,
    OrderLineOut,
    OrderOut,
    ParcelOut,
    PayIn,
    PaymentOut,
    QuoteLineOut,
    QuoteOut,
    RefundIn,
    RefundOut,
)
from entrepot.ordering.shipping import DeliveryOption
from entrepot.platform import problems
from entrepot.platform.deps import (
    AppContext,
    BuyerCaller,
    Caller,
    Ctx,
    IdempotencyKey,
    Paging,
    next_cursor,
)
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import CodeQuery, IdPath, IdQuery, ListPage

router = APIRouter(tags=["orders"])


def basket_of(body: BasketIn | OrderIn) -> checkout.Basket:
    return checkout.Basket(body.market, body.currency, [(line.sku, line.quantity) for line in body.lines])


def quote_out(quoted: checkout.Quoted) -> QuoteOut:
    market, q = quoted.market, quoted.quote
    return QuoteOut(
        market=market.code,
        currency=q.currency,
        prices_include_tax=market.prices_include_tax,
        lines=[
            QuoteLineOut(
                sku=ql.line.sku,
                quantity=ql.line.quantity,
                unit_price_minor=ql.line.unit_price_minor,
                line_total_minor=ql.line_total.minor,
                tax_minor=ql.tax.minor,
                warehouse=ql.line.warehouse,
                cross_border=ql.cross_border,
            )
            for ql in q.lines
        ],
        parcels=[ParcelOut(**p) for p in q.parcels],
        subtotal_minor=q.subtotal.minor,
        shipping_minor=q.shipping.minor,
        tax_minor=q.tax.minor,
        total_minor=q.total.minor,
        delivery_options=[option_out(o) for o in quoted.options],
    )


def option_out(option: DeliveryOption) -> DeliveryOptionOut:
    return DeliveryOptionOut(
        id=option.id,
        service=option.service,
        answers=list(option.answers),
        fee_minor=option.fee_minor,
        promised_on=option.promised_on,
        transit_days=option.transit_days,
        co2e_g=option.co2e_g,
        co2e_version=option.co2e_version,
        source=option.source,
        note=option.note,
        default=option.default,
        greenest=option.greenest,
    )


def delivery_out(order: Order) -> DeliveryOut | None:
    if order.delivery_service is None:
        return None
    return DeliveryOut(
        service=order.delivery_service,
        objective=order.delivery_objective or "cheapest",
        promised_on=order.delivery_promised_on,
        source=order.delivery_source or "",
    )


def order_out(detail: queries.OrderDetail, now: dt.datetime) -> OrderOut:
    order = detail.order
    return OrderOut(
        id=order.public_id,
        status=order.status,
        market=detail.market_code,
        buyer=detail.buyer,
        seller=detail.seller,
        currency=order.currency,
        subtotal_minor=order.subtotal_minor,
        shipping_minor=order.shipping_minor,
        tax_minor=order.tax_minor,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        commission_minor=order.commission_minor,
        usd=AmountsOut(
            currency="USD", subtotal_minor=order.subtotal_usd_minor, total_minor=order.total_usd_minor
        ),
        cny=AmountsOut(
            currency="CNY", subtotal_minor=order.subtotal_cny_minor, total_minor=order.total_cny_minor
        ),
        fx=FxOut(
            rate_date=order.fx_rate_date,
            usd_per_unit=order.usd_rate,
            cny_per_unit=order.cny_rate,
            provisional=order.fx_provisional,
        ),
        order_date=order.order_date,
        cross_border=order.cross_border,
        delivery=delivery_out(order),
        cancel_reason=order.cancel_reason,
        reservation_expires_at=order.reservation_expires_at,
        created_at=order.created_at,
        next_actions=service.next_actions(order, now),
        lines=[OrderLineOut.model_validate(line) for line in detail.lines],
        payments=[
            PaymentOut(
                id=p.public_id,
                status=p.status,
                amount_minor=p.amount_minor,
                currency=p.currency,
                decline_reason=p.decline_reason,
            )
            for p in detail.payments
        ],
        refunds=[
            RefundOut(id=r.public_id, amount_minor=r.amount_minor, reason=r.reason, created_at=r.created_at)
            for r in detail.refunds
        ],
    )


@router.post("/checkout/quote", response_model=QuoteOut)
def quote(body: BasketIn, ctx: OrderingCtx, principal: BuyerCaller) -> QuoteOut:
    """Price a basket: line prices, tax of the market, and its delivery options (service level x
    cheapest or greenest, each with its fee, promised date and CO2e), priced with the default one."""
    with ctx.db.transaction() as session:
        quoted = checkout.quote(session, principal, basket_of(body), ctx.limits, ctx.shipping, ctx.clock())
        return quote_out(quoted)


# Served by ordering.fast.CheckoutFastPath before the router where the app installs it: this route
# documents it, and serves it where the middleware is not installed.
@router.post("/orders", status_code=201, response_model=OrderOut)
async def place_order(
    body: OrderIn,
    ctx: OrderingCtx,
    principal: BuyerCaller,
    response: Response,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey,
) -> OrderOut:
    """Place an order and reserve its stock until ENTREPOT_RESERVATION_TTL_SECONDS pass unpaid.

    Retrying with the same Idempotency-Key and body returns the same order (200, `Idempotent-Replayed:
    true`); the same key with another body is rejected (422). With `payment_method`, paying starts in
    the same transaction, as `POST /orders/{id}/pay` would. `delivery_option` picks one of the quote's
    options (the default when left out); one the basket does not have now is a 422 that changes nothing."""
    placed = await place(ctx, principal, body, idempotency_key)
    if placed.delivery is not None:
        background.add_task(deliver_in_process, ctx, placed.delivery)
    if placed.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return order_out(placed.detail, ctx.clock())


async def place(ctx: OrderingContext, principal: Principal, body: OrderIn, key: str) -> checkout.Placed:
    """The order of a checked request, placed in the worker's next batch of concurrent orders (one
    transaction for the batch): this route's work, and its fast path's (ordering.fast)."""
    fingerprint = request_fingerprint(body.model_dump(mode="json"))
    pay_now = checkout.PayNow(body.payment_method, ctx.payments) if body.payment_method else None
    request = placing.PlaceRequest(
        principal, basket_of(body), key, fingerprint, pay_now, body.delivery_option
    )
    return await checkout_runtime(ctx).place(request)


@router.get("/orders", response_model=ListPage[OrderOut])
def list_orders(
    ctx: Ctx,
    principal: Caller,
    paging: Paging,
    status: CodeQuery = None,
    market: CodeQuery = None,
    seller: IdQuery = None,
    buyer: IdQuery = None,
) -> ListPage[OrderOut]:
    """Newest first. Buyers see their own orders, sellers theirs, operators all."""
    filters = queries.OrderFilter(status=status, market=market, seller=seller, buyer=buyer)
    with ctx.db.transaction() as session:
        orders = queries.list_orders(session, principal, filters, paging.after, paging.limit)
        items = [order_out(detail, ctx.clock()) for detail in queries.order_details(session, orders)]
    return ListPage(items=items, next_cursor=next_cursor([o.id for o in orders], paging.limit))


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: IdPath, ctx: Ctx, principal: Caller) -> OrderOut:
    with ctx.db.transaction() as session:
        order = queries.get_order(session, order_id, principal)
        return order_out(queries.order_detail(session, order), ctx.clock())


@router.post("/orders/{order_id}/pay", status_code=202, response_model=PaymentOut)
def pay(
    order_id: IdPath, body: PayIn, ctx: OrderingCtx, principal: Caller, background: BackgroundTasks
) -> PaymentOut:
    """Start paying; the provider confirms asynchronously through the signed webhook."""
    with ctx.db.transaction() as session:
        payment, delivery = service.start_payment(
            session, principal, order_id, body.method, ctx.payments, ctx.clock()
        )
    background.add_task(deliver_in_process, ctx, delivery)
    return PaymentOut(
        id=payment.public_id,
        status=payment.status,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        decline_reason=None,
    )


async def deliver_in_process(ctx: OrderingContext, delivery: WebhookDelivery) -> bool:
    """The simulated provider's 'network': it posts its signed webhook to this process, through the same
    verification, and again with growing pauses until it is acknowledged. The retries die with the
    process; the payments they leave pending, reconciliation asks the provider about."""
    return await ctx.payments.deliver(delivery, functools.partial(post_in_process, ctx))


async def post_in_process(ctx: OrderingContext, body: bytes, signature: str) -> int:
    """The HTTP status POST /payments/webhook would answer this webhook with (an unexpected error
    raises, which the provider counts as no acknowledgement)."""
    try:
        await settle_verified(ctx, body, signature)
    except DomainError as problem:
        return problem.status
    return 200


async def settle_verified(ctx: OrderingContext, body: bytes, signature: str | None) -> str:
    """Verify a provider's signed event (with any of the secrets in force), then apply it in the
    worker's next batch of payment events (one transaction for the batch)."""
    now = ctx.clock()
    secrets, tolerance = ctx.settings.webhook_secrets(now), ctx.settings.webhook_tolerance_seconds
    verify(secrets, body, signature, time.time(), tolerance)
    return await checkout_runtime(ctx).settle(parse_event(body))


def receive(ctx: AppContext, body: bytes, signature: str | None) -> str:
    """A provider's signed event applied at once in a transaction of its own (no batch)."""
    now = ctx.clock()
    secrets, tolerance = ctx.settings.webhook_secrets(now), ctx.settings.webhook_tolerance_seconds
    return service.receive_webhook(ctx.db, secrets, tolerance, body, signature, now)


# Served by ordering.fast.CheckoutFastPath as POST /orders is.
@router.post("/payments/webhook", tags=["payments"], responses=problems.SIGNED)
async def payment_webhook(
    request: Request,
    ctx: OrderingCtx,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> dict[str, str]:
    """Provider events, signed `t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">`. No API key: the
    signature is the authentication. Repeated events are acknowledged and change nothing."""
    body = await request.body()
    return {"outcome": await settle_verified(ctx, body, signature)}


@router.post("/orders/{order_id}/refunds", status_code=201, response_model=RefundOut)
def refund(order_id: IdPath, body: RefundIn, ctx: Ctx, principal: Caller) -> RefundOut:
    """Refund part or all of what was paid; refunds never exceed the order total."""
    with ctx.db.transaction() as session:
        r = service.refund(session, principal, order_id, body.amount_minor, body.reason, ctx.clock())
        return RefundOut(
            id=r.public_id, amount_minor=r.amount_minor, reason=r.reason, created_at=r.created_at
        )


@router.post("/orders/{order_id}/{action}", response_model=OrderOut)
def act(order_id: IdPath, action: Action, ctx: Ctx, principal: Caller) -> OrderOut:
    """Move the order along its state machine; an impossible move is 409 and changes nothing."""
    with ctx.db.transaction() as session:
        order = service.transition(session, principal, order_id, action.replace("-", "_"), ctx.clock())
        return order_out(queries.order_detail(session, order), ctx.clock())
