"""Routes of flash sales: create and read a sale, take units, pay, and the flash payments webhook.

Taking units is `async`: the request waits in its worker's coalescer for the next batch transaction
(ordering.flash.take_batch) instead of holding a thread and a database connection of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError as PydanticValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from entrepot.api.deps import AppContext, Caller, Ctx, authenticated
from entrepot.api.problems import problem
from entrepot.kernel.errors import DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from entrepot.ordering import flash, flash_settle, group_buy
from entrepot.ordering.api import check_idempotency_key
from entrepot.ordering.coalescer import Coalescer
from entrepot.ordering.flash_rules import ENDED, NOT_OPEN, OVER_LIMIT, SOLD_OUT, WAITING
from entrepot.ordering.payments import SIGNATURE_HEADER, PaymentRequest, verify
from entrepot.ordering.peak_models import FlashOrder, FlashSale
from entrepot.ordering.peak_schemas import FlashOrderIn, FlashOrderOut, FlashPayIn, FlashSaleIn, FlashSaleOut

log = logging.getLogger("entrepot.flash")
TITLES = {
    NOT_OPEN: "Sale not open",
    ENDED: "Sale ended",
    OVER_LIMIT: "Over the per-buyer limit",
    SOLD_OUT: "Sold out",
}


class FlashRejected(DomainError):
    def __init__(self, code: str, detail: str, sale: str) -> None:
        super().__init__(detail, [], {"sale": sale}, code, 409, TITLES[code])


@dataclass(frozen=True)
class SaleMeta:
    """What the hot path needs of a sale and that never changes after it is created."""

    id: int
    public_id: str
    strategy: str
    currency: str


Item = flash.Ticket | flash_settle.PaymentEvent


def _item_key(item: Item) -> tuple[str, object]:
    """One buyer's requests, and one payment's events, never share a batch."""
    if isinstance(item, flash.Ticket):
        return ("buyer", item.buyer_id)
    return ("payment", item.payment_id)


class FlashRuntime:
    """One per API worker: the sales' coalescers, the payment events' coalescer, a cache of sale metadata."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.sales: dict[str, SaleMeta] = {}
        self.takers: dict[int, Coalescer[Item, Any]] = {}
        self.payments: Coalescer[flash_settle.PaymentEvent, str] = Coalescer(
            self.apply_events, key_of=lambda e: e.payment_id
        )

    async def meta(self, public_id: str) -> SaleMeta:
        if public_id not in self.sales:
            self.sales[public_id] = await run_in_threadpool(self._load_meta, public_id)
        return self.sales[public_id]

    def _load_meta(self, public_id: str) -> SaleMeta:
        with self.ctx.db.transaction() as session:
            sale = flash.get_sale(session, public_id)
            return SaleMeta(sale.id, sale.public_id, sale.strategy, sale.currency)

    def _sale_coalescer(self, meta: SaleMeta) -> Coalescer[Item, Any]:
        if meta.id not in self.takers:
            self.takers[meta.id] = Coalescer(lambda batch: self.sale_batch(meta.id, batch), _item_key)
        return self.takers[meta.id]

    async def take(self, meta: SaleMeta, ticket: flash.Ticket) -> flash.Taken:
        if meta.strategy == "row_lock":  # the naive reference: a transaction of its own per request
            return (await run_in_threadpool(self.sale_batch, meta.id, [ticket]))[0]  # type: ignore[no-any-return]
        return await self._sale_coalescer(meta).submit(ticket)  # type: ignore[no-any-return]

    def sale_batch(self, sale_id: int, items: list[Item]) -> list[Any]:
        """One transaction for a sale's queued payment events and requests: the events first, so units
        a declined payment gives back are already there for the requests behind them."""
        events = [i for i in items if isinstance(i, flash_settle.PaymentEvent)]
        tickets = [i for i in items if isinstance(i, flash.Ticket)]
        with self.ctx.db.transaction() as session:
            now = self.ctx.clock()
            outcomes = iter(flash_settle.apply_payment_events(session, events, now) if events else [])
            taken = iter(flash.take_batch(session, sale_id, tickets, now) if tickets else [])
        return [next(outcomes) if isinstance(i, flash_settle.PaymentEvent) else next(taken) for i in items]

    def apply_events(self, events: list[flash_settle.PaymentEvent]) -> list[str]:
        with self.ctx.db.transaction() as session:
            return flash_settle.apply_payment_events(session, events, self.ctx.clock())

    async def settle(self, event: flash_settle.PaymentEvent, meta: SaleMeta | None = None) -> str:
        """Apply a verified payment event: with its sale known (delivered in process), in the sale's next
        batch; from the webhook, in a batch of webhook events."""
        if meta is not None and meta.strategy == "row_lock":
            return (await run_in_threadpool(self.apply_events, [event]))[0]
        if meta is not None:
            return await self._sale_coalescer(meta).submit(event)  # type: ignore[no-any-return]
        return await self.payments.submit(event)

    async def pay_in_process(self, meta: SaleMeta, taken: flash.Taken, method: str) -> None:
        """The simulated provider's 'network': its signed event goes through the same verification."""
        assert taken.payment_id is not None and taken.order_id is not None
        request = PaymentRequest(taken.payment_id, taken.order_id, taken.amount_minor, meta.currency, method)
        delivery = self.ctx.payments.authorize(request)
        try:
            event = self.verified(delivery.body, delivery.signature)
            await self.settle(event, meta)
        except Exception:  # the order stays reserved and expires; the buyer was never charged twice
            log.exception("flash payment %s not applied", taken.payment_id)

    def verified(self, body: bytes, signature: str | None) -> flash_settle.PaymentEvent:
        settings = self.ctx.settings
        verify(settings.webhook_secret, body, signature, time.time(), settings.webhook_tolerance_seconds)
        return parse_event(body)


def parse_event(body: bytes) -> flash_settle.PaymentEvent:
    try:
        event: Any = json.loads(body)
    except ValueError:
        raise ValidationFailed("the webhook body is not JSON") from None
    if not isinstance(event, dict) or event.get("type") not in ("payment.succeeded", "payment.failed"):
        raise ValidationFailed(
            "unknown webhook event", [FieldError("type", "payment.succeeded or payment.failed")]
        )
    kinds = (("payment_id", str), ("amount_minor", int), ("currency", str))
    problems = [
        FieldError(name, f"required: {kind.__name__}")
        for name, kind in kinds
        if not isinstance(event.get(name), kind) or isinstance(event.get(name), bool)
    ]
    if problems:
        raise ValidationFailed("incomplete webhook event", problems)
    succeeded = event["type"] == "payment.succeeded"
    reason = None if succeeded else str(event.get("reason") or "declined")
    return flash_settle.PaymentEvent(
        event["payment_id"], succeeded, event["amount_minor"], event["currency"], reason
    )


def runtime(request: Request) -> FlashRuntime:
    state = request.app.state
    if not hasattr(state, "flash"):
        state.flash = FlashRuntime(state.ctx)
    rt: FlashRuntime = state.flash
    return rt


def sweep_once(ctx: AppContext) -> int:
    """Flash reservations that ran out, group teams past their deadline, ended campaigns closed."""
    with ctx.db.transaction() as session:
        changed = flash_settle.sweep(session, ctx.clock())
    with ctx.db.transaction() as session:
        changed += group_buy.fail_overdue_teams(session, ctx.clock())
        changed += group_buy.close_ended(session, ctx.clock())
    return changed


async def _sweeper(ctx: AppContext) -> None:
    while True:
        await asyncio.sleep(ctx.settings.sweeper_interval_seconds)
        try:
            await run_in_threadpool(sweep_once, ctx)
        except Exception:  # keep sweeping: one failed round must not stop expiry for good
            log.exception("flash sweeper round failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: AppContext = app.state.ctx
    task = asyncio.create_task(_sweeper(ctx)) if ctx.settings.run_sweeper else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(tags=["flash sales"], lifespan=lifespan)


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


def order_out(order: FlashOrder | flash.Taken, sale: str, currency: str) -> FlashOrderOut:
    if isinstance(order, flash.Taken):
        status = order.status or ""
        payment_status = "pending" if order.payment_id and not order.replayed else None
        return FlashOrderOut(
            id=order.order_id or "",
            sale=sale,
            status=status,
            quantity=order.quantity,
            amount_minor=order.amount_minor,
            currency=currency,
            expires_at=order.expires_at,
            payment_id=order.payment_id,
            payment_status=payment_status,
        )
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
def get_sale(sale_id: str, ctx: Ctx, _: Caller) -> FlashSaleOut:
    with ctx.db.transaction() as session:
        return sale_out(flash.get_sale(session, sale_id), ctx.clock())


@router.post(
    "/flash-sales/{sale_id}/orders",
    status_code=201,
    response_model=FlashOrderOut,
    responses={202: {"description": "every unit is held unpaid: you wait in line for one to come back"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": FlashOrderIn.model_json_schema()}},
        },
        "parameters": [
            {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"}},
        ],
    },
)
async def take_units(sale_id: str, request: Request) -> Response:
    """Take units at the sale price, first come first served. 201 reserved (pay before `expires_at`),
    202 waiting, 409 `sale-not-open`, `sale-ended`, `over-buyer-limit` or `sold-out`. A retry with the
    same Idempotency-Key returns the same order (200, `Idempotent-Replayed: true`).

    The hottest route reads its headers and body itself: FastAPI's dependency resolution and response
    validation cost about as much CPU as everything else a request does here (measured with cProfile)."""
    rt = runtime(request)
    headers = request.headers
    principal = await authenticated(rt.ctx, headers.get("authorization"), headers.get("x-api-key"))
    if principal.role != "buyer" or principal.buyer_id is None:
        raise Forbidden("this needs a buyer key")
    key = check_idempotency_key(headers.get("idempotency-key"))
    body = _order_body(await request.body())
    meta = await rt.meta(sale_id)
    ticket = flash.Ticket(principal.buyer_id, body.quantity, key, body.payment_method is not None)
    taken = await rt.take(meta, ticket)
    if taken.order_id is None:  # answered, not raised: most requests of a rush end here, cheaply
        rejected = FlashRejected(taken.decision.outcome, taken.decision.detail, meta.public_id)
        return problem(
            409, rejected.code, rejected.title, rejected.detail, request.url.path, None, rejected.extra
        )
    status, extra, task = 201, {}, None
    if taken.replayed:
        if taken.quantity != body.quantity:
            raise ValidationFailed(
                "this Idempotency-Key was used for another request",
                [FieldError("Idempotency-Key", f"used for {taken.quantity} unit(s)")],
            )
        status, extra = 200, {"Idempotent-Replayed": "true"}
    elif taken.status == WAITING:
        status = 202
    elif taken.payment_id and body.payment_method:
        task = BackgroundTask(rt.pay_in_process, meta, taken, body.payment_method)
    out = order_out(taken, meta.public_id, meta.currency)
    return Response(out.model_dump_json(), status, extra, "application/json", task)


def _order_body(raw: bytes) -> FlashOrderIn:
    try:
        return FlashOrderIn.model_validate_json(raw or b"{}")
    except PydanticValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "bad JSON"}]
            ) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


@router.get("/flash-orders/{order_id}", response_model=FlashOrderOut)
def get_flash_order(order_id: str, ctx: Ctx, principal: Caller) -> FlashOrderOut:
    with ctx.db.transaction() as session:
        order = flash_settle.get_flash_order(session, principal, order_id)
        sale = session.get(FlashSale, order.sale_id)
        assert sale is not None
        return order_out(order, sale.public_id, sale.currency)


@router.post("/flash-orders/{order_id}/pay", status_code=202, response_model=FlashOrderOut)
async def pay(
    order_id: str, body: FlashPayIn, ctx: Ctx, principal: Caller, request: Request
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


@router.post("/flash-sales/payments/webhook", tags=["payments"])
async def flash_payment_webhook(
    request: Request, signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None
) -> dict[str, str]:
    """Provider events for flash orders, signed like `/payments/webhook`; repeats change nothing."""
    rt = runtime(request)
    event = rt.verified(await request.body(), signature)
    outcome = await rt.settle(event)
    if outcome == "unknown":
        raise NotFound(f"no flash payment {event.payment_id}")
    if outcome == "mismatch":
        raise ValidationFailed(
            "the event's amount or currency is not the payment's; nothing was applied",
            [FieldError("amount_minor", "does not match the payment")],
        )
    return {"outcome": outcome}
