"""Payment providers and signed webhooks.

A provider takes an authorisation request and answers later, asynchronously, by a webhook that we
verify with HMAC-SHA256 over "<timestamp>.<body>" (the scheme Stripe popularised), rejecting stale
timestamps to stop replays. Like a real provider it posts that webhook again, with growing pauses,
until the merchant acknowledges it with a 2xx (`deliver`), and it answers a status query about any
payment it authorised (`status`): a merchant that missed the webhook (the process it went to died) asks.

The simulated provider decides each outcome from a seeded hash of the payment id, so a decline rate of
0.03 declines about 3 % of payments, repeatably; a `decline_<reason>` method token forces a decline.
It keeps what it decided in a ledger, and answers status queries from it. Why a ledger rather than
deciding again at each query: the outcome depends on the method the buyer gave, which the merchant does
not keep, so a query by reference alone could not recompute it; and a decision recomputed from the
settings could contradict the webhook already sent if the decline rate changed between processes. The
application's ledger is a table of its own (`provider_ledger.TableLedger`), so the answer survives the
death of the process that took the payment.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from entrepot.kernel.bounds import ID_LENGTH, MAX_INT64, text_problem
from entrepot.kernel.errors import FieldError, Unauthenticated, ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SIGNATURE_HEADER = "Entrepot-Signature"
log = logging.getLogger("entrepot.payments")


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str
    order_id: str
    amount_minor: int
    currency: str
    method: str  # an opaque token from the client, e.g. "card_visa"; a "decline_<reason>" token forces it


@dataclass(frozen=True)
class WebhookDelivery:
    body: bytes
    signature: str


PaymentState = Literal["succeeded", "declined", "pending", "unknown"]


@dataclass(frozen=True)
class PaymentStatus:
    """A provider's answer about one payment. `unknown`: it never authorised this reference; `pending`:
    not decided yet (a real provider's 3-D Secure or bank transfer; the simulation decides at once).
    Amount, currency and order as the provider authorised them; none when unknown."""

    state: PaymentState
    reason: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class Authorisation:
    """What a provider keeps of each payment it was asked for: the request, and the decline reason it
    decided (None: the payment succeeded)."""

    request: PaymentRequest
    reason: str | None


class Ledger(Protocol):
    def record(self, entries: Sequence[Authorisation], session: Session | None) -> None:
        """Keep the entries; with the caller's `session`, in the caller's transaction."""
        ...

    def find(self, payment_ref: str) -> Authorisation | None: ...


class MemoryLedger:
    """A ledger that lives and dies with its process: for unit tests and for callers that never ask."""

    def __init__(self) -> None:
        self._entries: dict[str, Authorisation] = {}

    def record(self, entries: Sequence[Authorisation], session: Session | None) -> None:
        for entry in entries:
            self._entries[entry.request.payment_id] = entry

    def find(self, payment_ref: str) -> Authorisation | None:
        return self._entries.get(payment_ref)


@dataclass(frozen=True)
class Backoff:
    """When a provider posts an unacknowledged webhook again: `first_s` after the first post, each pause
    `factor` times the one before, never more than `longest_s`, `attempts` posts in all. Real providers
    go on for days; past the last post the merchant's reconciliation asks."""

    first_s: float = 0.5
    factor: float = 2.0
    longest_s: float = 30.0
    attempts: int = 10

    def pauses(self) -> list[float]:
        """The pause before each post after the first."""
        return [min(self.longest_s, self.first_s * self.factor**n) for n in range(self.attempts - 1)]


# The merchant's webhook endpoint as a provider sees it: (body, signature header) -> HTTP status.
Post = Callable[[bytes, str], Awaitable[int]]
Sleep = Callable[[float], Awaitable[None]]


class PaymentProvider(Protocol):
    name: str

    def authorize(self, request: PaymentRequest, session: Session | None = None) -> WebhookDelivery:
        """Start an authorisation; the returned delivery is what the provider will post back. `session`
        is the caller's transaction (the simulation keeps its ledger there; a real provider ignores it)."""
        ...

    def authorize_all(
        self, requests: Sequence[PaymentRequest], session: Session | None = None
    ) -> list[WebhookDelivery]:
        """`authorize` for a batch of payments (a batch of orders paid at placement), in order."""
        ...

    async def deliver(self, delivery: WebhookDelivery, post: Post) -> bool:
        """Post the webhook until it is acknowledged (True) or the provider gives up (False)."""
        ...

    def status(self, payment_ref: str) -> PaymentStatus:
        """What became of a payment; raises when the provider cannot answer now."""
        ...


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _signature_fields(header: str | None, now: float, tolerance_s: int) -> tuple[int, str]:
    """The signature header's timestamp and signature, refused when missing, malformed or stale."""
    if not header:
        raise Unauthenticated(f"missing {SIGNATURE_HEADER} header")
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        raise Unauthenticated(f"malformed {SIGNATURE_HEADER} header") from None
    if not given.isascii():
        raise Unauthenticated("webhook signature does not match")
    if abs(now - timestamp) > tolerance_s:
        raise Unauthenticated("webhook timestamp outside the tolerance window")
    return timestamp, given


# A decline's reason ends up in the order's cancel_reason ("payment_declined:<reason>", 64 characters):
# whatever a method token or a provider says, it is cut to identifier characters and this length, so
# applying a decline never fails on a column and never strands an order with its stock held.
DECLINE_REASON_MAX = 40
METHOD_MAX = len("decline_") + DECLINE_REASON_MAX  # so a forced decline's reason always fits as given
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")


def decline_reason(said: object) -> str:
    """The reason a decline is stored with: lower-case identifier characters, at most 40 of them."""
    cleaned = _NOT_IDENTIFIER.sub("_", str(said or "").lower()).strip("_")[:DECLINE_REASON_MAX]
    return cleaned or "declined"


def verify(
    secrets: str | Sequence[str], body: bytes, header: str | None, now: float, tolerance_s: int
) -> None:
    """Raise Unauthenticated unless the header carries a fresh signature of exactly this body, made with
    one of the secrets (two while a secret is being rotated: see Settings.webhook_secrets)."""
    keys = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    timestamp, given = _signature_fields(header, now, tolerance_s)
    expected = [sign(key, body, timestamp).split("v1=", 1)[1] for key in keys]
    # every candidate compared, so the time taken says nothing about which one matched
    if not any([hmac.compare_digest(candidate, given) for candidate in expected]):
        raise Unauthenticated("webhook signature does not match")


def parse_webhook(body: bytes) -> dict[str, Any]:
    """A verified webhook's event: `payment.succeeded` or `payment.failed` with the payment's id, amount
    and currency; anything else is refused with the field at fault."""
    try:
        event = json.loads(body)
    except ValueError:
        raise ValidationFailed("the webhook body is not JSON") from None
    if not isinstance(event, dict) or event.get("type") not in ("payment.succeeded", "payment.failed"):
        raise ValidationFailed(
            "unknown webhook event", [FieldError("type", "payment.succeeded or payment.failed")]
        )
    problems = [
        FieldError(name, f"required: {kind.__name__}")
        for name, kind in (("payment_id", str), ("amount_minor", int), ("currency", str))
        if not isinstance(event.get(name), kind) or isinstance(event.get(name), bool)
    ]
    if problems:
        raise ValidationFailed("incomplete webhook event", problems)
    out_of_bounds = _out_of_bounds(event)
    if out_of_bounds:
        raise ValidationFailed("webhook event out of bounds; nothing was applied", out_of_bounds)
    return event


@dataclass(frozen=True)
class PaymentEvent:
    """A verified provider event, as ordering applies it."""

    payment_id: str
    succeeded: bool
    amount_minor: int
    currency: str
    reason: str | None  # why it was declined; None when it succeeded


def parse_event(body: bytes) -> PaymentEvent:
    """A verified webhook's event (`parse_webhook`), with the decline reason normalised."""
    event = parse_webhook(body)
    succeeded = event["type"] == "payment.succeeded"
    reason = None if succeeded else decline_reason(event.get("reason"))
    return PaymentEvent(event["payment_id"], succeeded, event["amount_minor"], event["currency"], reason)


def _out_of_bounds(event: dict[str, Any]) -> list[FieldError]:
    """Fields no payment could have: what a database column would refuse halfway through the event."""
    problems = {
        "payment_id": text_problem(event["payment_id"], ID_LENGTH),
        "currency": text_problem(event["currency"], 3),
        "amount_minor": None if 0 <= event["amount_minor"] <= MAX_INT64 else f"from 0 to {MAX_INT64}",
    }
    return [FieldError(name, problem) for name, problem in problems.items() if problem]


def event_body(
    payment_id: str, order_id: str | None, amount_minor: int, currency: str, reason: str | None
) -> bytes:
    """The webhook's event for a payment decided: succeeded without a reason, failed with one."""
    event = {
        "type": "payment.failed" if reason else "payment.succeeded",
        "payment_id": payment_id,
        "order_id": order_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "reason": reason,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def status_event(payment_ref: str, answer: PaymentStatus) -> bytes | None:
    """The event a webhook would have carried for a decided payment; None while it is not decided."""
    if answer.state not in ("succeeded", "declined"):
        return None
    assert answer.amount_minor is not None and answer.currency is not None
    reason = (answer.reason or "declined") if answer.state == "declined" else None
    return event_body(payment_ref, answer.order_id, answer.amount_minor, answer.currency, reason)


async def post_until_acknowledged(
    body: bytes, signed: Callable[[bytes], str], post: Post, backoff: Backoff, sleep: Sleep
) -> bool:
    """Post `body` until the answer is a 2xx, pausing as `backoff` says between posts; each post is
    signed afresh (`signed`), since a receiver refuses a signature older than its tolerance. A post that
    raises (a connection refused, an error in the receiver) is a post not acknowledged."""
    for pause in [0.0, *backoff.pauses()]:
        if pause:
            await sleep(pause)
        try:
            status = await post(body, signed(body))
        except Exception:  # any failure to answer is no acknowledgement: try again later
            log.warning("webhook post failed", exc_info=True)
            continue
        if 200 <= status < 300:
            return True
    return False


class SimulatedProvider:
    name = "simulated"

    def __init__(
        self,
        secret: str,
        decline_rate: float,
        reasons: list[str],
        seed: str = "entrepot",
        ledger: Ledger | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._secret = secret
        self._decline_rate = decline_rate
        self._reasons = reasons or ["card_declined"]
        self._seed = seed
        self._ledger: Ledger = ledger if ledger is not None else MemoryLedger()
        self._backoff = backoff or Backoff()
        self._sleep = sleep

    def authorize(self, request: PaymentRequest, session: Session | None = None) -> WebhookDelivery:
        [delivery] = self.authorize_all([request], session)
        return delivery

    def authorize_all(
        self, requests: Sequence[PaymentRequest], session: Session | None = None
    ) -> list[WebhookDelivery]:
        decided = [Authorisation(request, self._decline_reason(request)) for request in requests]
        self._ledger.record(decided, session)
        deliveries = []
        for entry in decided:
            r = entry.request
            body = event_body(r.payment_id, r.order_id, r.amount_minor, r.currency, entry.reason)
            deliveries.append(WebhookDelivery(body, self._signed(body)))
        return deliveries

    async def deliver(self, delivery: WebhookDelivery, post: Post) -> bool:
        return await post_until_acknowledged(delivery.body, self._signed, post, self._backoff, self._sleep)

    def status(self, payment_ref: str) -> PaymentStatus:
        entry = self._ledger.find(payment_ref)
        if entry is None:
            return PaymentStatus("unknown")
        request = entry.request
        state: PaymentState = "declined" if entry.reason else "succeeded"
        return PaymentStatus(state, entry.reason, request.amount_minor, request.currency, request.order_id)

    def _signed(self, body: bytes) -> str:
        return sign(self._secret, body, int(time.time()))  # the receiver checks it against wall time

    def _decline_reason(self, request: PaymentRequest) -> str | None:
        if request.method.startswith("decline_"):
            return decline_reason(request.method.removeprefix("decline_") or "card_declined")
        draw = hashlib.sha256(f"{self._seed}:{request.payment_id}".encode()).digest()
        fraction = int.from_bytes(draw[:8], "big") / 2**64
        if fraction >= self._decline_rate:
            return None
        return self._reasons[int.from_bytes(draw[8:12], "big") % len(self._reasons)]
