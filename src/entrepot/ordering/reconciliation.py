"""Reconciliation: which payments to ask the provider about, and what its answer means.

Why: a webhook can be lost. The simulated provider's goes to the process that took the payment, and
dies with it; a real provider's retries can run out. Each round (in `entrepot sweep` and the API's
background jobs) asks about every payment still pending once it has waited longer than a webhook takes
(`PATIENCE`), or once its order's reservation runs out before the round after next; expiry asks about
those already overdue before it cancels anything (`service.expire_overdue`). The provider is asked
outside any transaction (it may be a remote call); its answer becomes the event its webhook would have
carried, applied by the webhook's own code (`service.reconcile_payments`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from entrepot.ordering.models import Order, Payment
from entrepot.ordering.payments import PaymentProvider, event_body, status_event

log = logging.getLogger("entrepot.reconciliation")

# Longer than a webhook takes when all is well: past it a pending payment is worth a question.
PATIENCE = dt.timedelta(seconds=30)
UNKNOWN = "unknown_to_provider"  # the decline reason of a payment the provider never authorised


@dataclass(frozen=True)
class Due:
    """Pending payments opened at or before `opened_by`, or whose order's reservation runs out at or
    before `expiring_by`, are asked about. `now` decides which are overdue."""

    now: dt.datetime
    expiring_by: dt.datetime
    opened_by: dt.datetime | None = None

    @classmethod
    def ahead(cls, now: dt.datetime, round_interval: dt.timedelta) -> Due:
        """Before expiry: whatever would expire by the round after next, and whatever waited too long."""
        return cls(now, now + 2 * round_interval, now - PATIENCE)

    @classmethod
    def overdue(cls, now: dt.datetime) -> Due:
        return cls(now, now)


@dataclass(frozen=True)
class Pending:
    payment_ref: str
    amount_minor: int
    currency: str
    expires_at: dt.datetime


@dataclass
class Reconciled:
    """What a round did: `asked` payments; settled as paid, declined (stock released), or refunded (the
    order was cancelled meanwhile); `left` pending for the next round (undecided, or no answer)."""

    asked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    left: int = 0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def __str__(self) -> str:
        settled = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        return f"{self.asked} pending payments asked about ({settled or 'none settled'}; {self.left} left)"


def pending_payments(session: Session, due: Due, batch: int) -> list[Pending]:
    """The pending payments due a question, those whose reservation runs out first first."""
    asked_for = [Order.reservation_expires_at <= due.expiring_by]
    if due.opened_by is not None:
        asked_for.append(Payment.created_at <= due.opened_by)
    rows = session.execute(
        select(Payment.public_id, Payment.amount_minor, Payment.currency, Order.reservation_expires_at)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.status == "pending", or_(*asked_for))
        .order_by(Order.reservation_expires_at, Payment.id)
        .limit(batch)
    ).all()
    return [Pending(*row) for row in rows]


def settlement(provider: PaymentProvider, payment: Pending, now: dt.datetime) -> bytes | None:
    """The event that settles `payment` as its webhook would, or None to leave it pending: the provider
    has not decided, cannot answer now, or (before the reservation runs out) has not heard of it. A
    payment the provider never authorised cannot have succeeded: once overdue it fails."""
    try:
        answer = provider.status(payment.payment_ref)
    except Exception:  # no answer is no news: never settle, never cancel on it
        log.warning("the provider could not say what became of %s", payment.payment_ref, exc_info=True)
        return None
    if answer.state == "unknown" and payment.expires_at <= now:
        return event_body(payment.payment_ref, None, payment.amount_minor, payment.currency, UNKNOWN)
    return status_event(payment.payment_ref, answer)
