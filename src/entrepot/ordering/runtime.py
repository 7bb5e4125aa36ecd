"""What each API worker keeps for checkout: the coalescers that group concurrent order placements into
batches, each placed in ONE transaction by `placing.place_orders` (group commit, as flash sales do),
and the payment provider's events into batches applied by `service.apply_payment_events`.

When it is quiet a request runs alone at once (no timer, no added delay); while a batch runs, the
requests that arrive wait and go together into the next one, so batches grow with the load. The same
(caller, Idempotency-Key) never shares a batch: a concurrent duplicate goes to the next one and finds
the first's claim there, committed (a replay) or withdrawn (placed anew).
"""

from __future__ import annotations

from entrepot.kernel.errors import DomainError
from entrepot.ordering import placing, service
from entrepot.ordering.checkout import Placed
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.payments import PaymentEvent
from entrepot.platform.coalescer import Coalescer

MAX_BATCH = 128  # orders per transaction: past this, a batch's locks are held longer than it saves


class CheckoutRuntime:
    """One per API worker (kept with the app's context)."""

    def __init__(self, ctx: OrderingContext) -> None:
        self.ctx = ctx
        self.placing: Coalescer[placing.PlaceRequest, placing.Outcome] = Coalescer(
            self.place_batch, key_of=lambda request: request.claim, max_batch=MAX_BATCH
        )
        # payment events, batched the same way; one payment's events never share a batch
        self.settling: Coalescer[PaymentEvent, str | DomainError] = Coalescer(
            self.settle_batch, key_of=lambda event: event.payment_id, max_batch=MAX_BATCH
        )

    async def place(self, request: placing.PlaceRequest) -> Placed:
        """The request's order, placed in the next batch; its problem raised."""
        outcome = await self.placing.submit(request)
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    async def settle(self, event: PaymentEvent) -> str:
        """A verified payment event applied in the next batch of events; its outcome, or its problem
        raised."""
        outcome = await self.settling.submit(event)
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    def settle_batch(self, events: list[PaymentEvent]) -> list[str | DomainError]:
        with self.ctx.db.transaction() as session:
            return service.apply_payment_events(session, events, self.ctx.clock())

    def place_batch(self, requests: list[placing.PlaceRequest]) -> list[placing.Outcome]:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            terms = placing.Placing(ctx.limits, ctx.fx, ctx.clock(), ctx.shipping)
            return placing.place_orders(session, requests, terms)


def checkout_runtime(ctx: OrderingContext) -> CheckoutRuntime:
    """The worker's checkout runtime, made on first use and kept with the context's other runtimes."""
    found: CheckoutRuntime | None = ctx.runtimes.get("checkout")
    if found is None:
        found = ctx.runtimes["checkout"] = CheckoutRuntime(ctx)
    return found
