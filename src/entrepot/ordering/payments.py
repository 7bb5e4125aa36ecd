"""Payment providers and signed webhooks.

A provider takes an authorisation request and answers later, asynchronously, by a webhook that we
verify with HMAC-SHA256 over "<timestamp>.<body>" (the scheme Stripe popularised), rejecting stale
timestamps to stop replays. The simulated provider decides each outcome from a seeded hash of the
payment id, so a decline rate of 0.03 declines about 3 % of payments, repeatably.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from entrepot.kernel.errors import FieldError, Unauthenticated, ValidationFailed

SIGNATURE_HEADER = "Entrepot-Signature"


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


class PaymentProvider(Protocol):
    name: str

    def authorize(self, request: PaymentRequest) -> WebhookDelivery:
        """Start an authorisation; the returned delivery is what the provider will post back."""
        ...


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str | None, now: float, tolerance_s: int) -> None:
    """Raise Unauthenticated unless the header carries a fresh, valid signature of exactly this body."""
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
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
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
    return event


class SimulatedProvider:
    name = "simulated"

    def __init__(self, secret: str, decline_rate: float, reasons: list[str], seed: str = "entrepot") -> None:
        self._secret = secret
        self._decline_rate = decline_rate
        self._reasons = reasons or ["card_declined"]
        self._seed = seed

    def authorize(self, request: PaymentRequest) -> WebhookDelivery:
        reason = self._decline_reason(request)
        event = {
            "type": "payment.failed" if reason else "payment.succeeded",
            "payment_id": request.payment_id,
            "order_id": request.order_id,
            "amount_minor": request.amount_minor,
            "currency": request.currency,
            "reason": reason,
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        return WebhookDelivery(body, sign(self._secret, body, int(time.time())))

    def _decline_reason(self, request: PaymentRequest) -> str | None:
        if request.method.startswith("decline_"):
            return request.method.removeprefix("decline_") or "card_declined"
        draw = hashlib.sha256(f"{self._seed}:{request.payment_id}".encode()).digest()
        fraction = int.from_bytes(draw[:8], "big") / 2**64
        if fraction >= self._decline_rate:
            return None
        return self._reasons[int.from_bytes(draw[8:12], "big") % len(self._reasons)]
