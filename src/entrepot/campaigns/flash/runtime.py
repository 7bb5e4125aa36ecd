"""What each API worker keeps for flash sales: the sales' coalescers, the payment events' coalescer, the
sales' fixed metadata, and the sales it has seen sold out for good.

A sale is sold out for good once every unit is paid (`sold == stock`): paid units never go back to the
sale, so no unit can come back and no new flash order can be recorded for it. The worker learns this
from a batch's locked read of the committed row, and in the same transaction reads which buyers have an
order in the sale. From then on a request from any other buyer is refused here, without a database
round trip, with the very decision `flash_rules.admit` gives under the lock (sold out, or over the
limit, or the sale ended); a buyer who has an order still goes to the database, so a retry with their
Idempotency-Key gets their order back. The `row_lock` reference sale never uses this shortcut.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from entrepot.campaigns.flash import batch as flash_batch
from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash import settlement as flash_settle
from entrepot.campaigns.flash.coalescer import Coalescer
from entrepot.campaigns.flash.rules import (
    ADMITTED,
    ENDED,
    NOT_OPEN,
    OVER_LIMIT,
    SOLD_OUT,
    Ask,
    Decision,
    SaleCounters,
    admit,
)
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.payments import PaymentRequest, decline_reason, parse_webhook, verify

log = logging.getLogger("entrepot.flash")
TITLES = {
    NOT_OPEN: "Sale not open",
    ENDED: "Sale ended",
    OVER_LIMIT: "Over the per-buyer limit",
    SOLD_OUT: "Sold out",
}


@dataclass(frozen=True)
class SaleMeta:
    """What the hot path needs of a sale and that never changes after it is created."""

    id: int
    public_id: str
    strategy: str
    currency: str


@dataclass(frozen=True)
class SoldOutForGood:
    """A batched sale whose units are all paid: its counters then, and the buyers who have an order."""

    counters: SaleCounters
    buyers_with_orders: frozenset[int]
    # the refusal of a newcomer depends only on the quantity and where `now` falls in the window
    refusals: dict[tuple[int, int], Decision] = field(default_factory=dict)

    def refusal(self, buyer_id: int, quantity: int, now: dt.datetime) -> Decision:
        window = (now >= self.counters.starts_at) + (now >= self.counters.ends_at)
        key = (quantity, window)
        if key not in self.refusals:
            [decision], _, _ = admit(self.counters, [Ask(buyer_id, quantity)], {}, now)
            assert decision.outcome not in ADMITTED, "a sale sold out for good admitted a request"
            self.refusals[key] = decision
        return self.refusals[key]


Item = flash.Ticket | flash_settle.PaymentEvent


def _item_key(item: Item) -> tuple[str, object]:
    """One buyer's requests, and one payment's events, never share a batch."""
    if isinstance(item, flash.Ticket):
        return ("buyer", item.buyer_id)
    return ("payment", item.payment_id)


class FlashRuntime:
    """One per API worker (kept on the app's state)."""

    def __init__(self, ctx: OrderingContext) -> None:
        self.ctx = ctx
        self.sales: dict[str, SaleMeta] = {}
        self.loading: dict[str, asyncio.Future[SaleMeta]] = {}
        self.sold_out: dict[int, SoldOutForGood] = {}
        self.takers: dict[int, Coalescer[Item, Any]] = {}
        self.payments: Coalescer[flash_settle.PaymentEvent, str] = Coalescer(
            self.apply_events, key_of=lambda e: e.payment_id
        )

    async def meta(self, public_id: str) -> SaleMeta:
        """The sale's fixed metadata, loaded once per worker. The first wave of a rush asks for it all
        at once: one load serves every request that arrives while it runs. (With a load per request,
        the bench's first wave of 128 requests per server queued 128 loads on the thread pool and the
        connection pool, and none of those 256 buyers had an answer in under 290 ms.) A failed load
        (no such sale) is not kept."""
        known = self.sales.get(public_id)
        if known is not None:
            return known
        loading = self.loading.get(public_id)
        if loading is None:
            loading = asyncio.ensure_future(run_in_threadpool(self._load_meta, public_id))
            self.loading[public_id] = loading
            loading.add_done_callback(lambda done: self._loaded(public_id, done))
        # shielded: a client that goes away cancels its own wait, not the load the others wait for
        return await asyncio.shield(loading)

    def _loaded(self, public_id: str, done: asyncio.Future[SaleMeta]) -> None:
        del self.loading[public_id]
        if not done.cancelled() and done.exception() is None:
            self.sales[public_id] = done.result()

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
        refused = self.certain_refusal(meta, ticket)
        if refused is not None:
            return refused
        return await self._sale_coalescer(meta).submit(ticket)  # type: ignore[no-any-return]

    def certain_refusal(self, meta: SaleMeta, ticket: flash.Ticket) -> flash.Taken | None:
        """The refusal of a request to a sale sold out for good, from a buyer with no order in it."""
        final = self.sold_out.get(meta.id)
        if final is None or ticket.buyer_id in final.buyers_with_orders:
            return None
        return flash.Taken(final.refusal(ticket.buyer_id, ticket.quantity, self.ctx.clock()))

    def sale_batch(self, sale_id: int, items: list[Item]) -> list[Any]:
        """One transaction for a sale's queued payment events and requests (see flash_batch)."""
        events = [i for i in items if isinstance(i, flash_settle.PaymentEvent)]
        tickets = [i for i in items if isinstance(i, flash.Ticket)]
        try:
            batch = self._run_batch(sale_id, events, tickets, read_ahead=True)
        except flash_batch.StaleRead as stale:  # rolled back: an order moved between read and lock
            log.info("flash sale %s: batch run again under the lock (%s)", sale_id, stale)
            batch = self._run_batch(sale_id, events, tickets, read_ahead=False)
        outcomes = iter(batch.outcomes)
        taken_in_order = iter(batch.taken)
        return [
            next(outcomes) if isinstance(i, flash_settle.PaymentEvent) else next(taken_in_order)
            for i in items
        ]

    def _run_batch(
        self,
        sale_id: int,
        events: list[flash_settle.PaymentEvent],
        tickets: list[flash.Ticket],
        read_ahead: bool,
    ) -> flash_batch.SaleBatch:
        with self.ctx.db.transaction() as session:
            batch = flash_batch.run(session, sale_id, events, tickets, self.ctx.clock(), read_ahead)
            final = self._sold_out_for_good(session, sale_id, batch)
        if final is not None:  # only once committed: a batch that fails to commit proves nothing
            self.sold_out.setdefault(sale_id, final)
        return batch

    def _sold_out_for_good(
        self, session: Session, sale_id: int, batch: flash_batch.SaleBatch
    ) -> SoldOutForGood | None:
        """What the worker may refuse newcomers with from now on, if this batch leaves every unit of a
        batched sale paid; read under the sale row's lock, where every order the sale will ever have is
        already written."""
        counters = batch.counters
        if batch.strategy != "batched" or counters.sold < counters.stock or sale_id in self.sold_out:
            return None
        return SoldOutForGood(counters, flash.buyers_with_orders(session, sale_id))

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
        secrets = settings.webhook_secrets(self.ctx.clock())
        verify(secrets, body, signature, time.time(), settings.webhook_tolerance_seconds)
        return parse_event(body)


def parse_event(body: bytes) -> flash_settle.PaymentEvent:
    event = parse_webhook(body)
    succeeded = event["type"] == "payment.succeeded"
    reason = None if succeeded else decline_reason(event.get("reason"))
    return flash_settle.PaymentEvent(
        event["payment_id"], succeeded, event["amount_minor"], event["currency"], reason
    )


def runtime_of(state: Any) -> FlashRuntime:
    """The worker's runtime, made on first use from the app's context."""
    runtimes = state.ctx.runtimes
    rt: FlashRuntime | None = runtimes.get("flash")
    if rt is None:
        rt = runtimes["flash"] = FlashRuntime(state.ctx)
    return rt


def runtime(request: Request) -> FlashRuntime:
    return runtime_of(request.app.state)
