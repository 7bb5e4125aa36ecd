"""Group-buy payments carried out at the provider: the captures and releases a team's fate decided.

When a team fills (or fails), one transaction marks every member's payment captured (or released) and
writes a `group_payment.capture` (or `.release`) outbox event per member (see group_buy). The relay
hands each event to a handler here, which asks the provider to do it. The call leaves our database, so
it cannot roll back with it: it carries the event's id as the idempotency key, and the provider answers
a repeated key with its first answer and moves no money twice. An event is marked published only after
the provider said yes, so a crash between the two means one more, harmless, call with the same key; a
provider that says no raises, and the relay retries the event with backoff (then shows it as dead to an
operator). The handler also checks the event against the member's recorded state: a capture for a
payment the database released (or the reverse) is refused, never sent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.campaigns.group_buys.models import GroupMember
from entrepot.platform.outbox import Event, HandlerRegistry

CAPTURE = "group_payment.capture"
RELEASE = "group_payment.release"


class HeldPayments(Protocol):
    """The provider's side of authorised (held) payments."""

    def capture(self, payment_id: str, amount_minor: int, currency: str, idempotency_key: str) -> str:
        """Take the held amount; returns the provider's reference of the capture."""
        ...

    def release(self, payment_id: str, idempotency_key: str) -> str:
        """Let the hold go; returns the provider's reference of the release."""
        ...


class ProviderRefused(RuntimeError):
    """The provider will not do it (e.g. a capture of a released hold)."""


@dataclass
class SimulatedHolds:
    """The simulated provider's holds: each payment is captured or released at most once, and a repeated
    idempotency key gets the first answer. Calls are counted, so tests can see what was really done."""

    state: dict[str, str] = field(default_factory=dict)  # payment id -> captured | released
    answers: dict[str, str] = field(default_factory=dict)  # idempotency key -> first answer
    done: list[tuple[str, str]] = field(default_factory=list)  # (action, payment id), once each
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def capture(self, payment_id: str, amount_minor: int, currency: str, idempotency_key: str) -> str:
        if amount_minor <= 0 or len(currency) != 3:
            raise ProviderRefused(f"cannot capture {amount_minor} {currency}")
        return self._settle("captured", payment_id, idempotency_key)

    def release(self, payment_id: str, idempotency_key: str) -> str:
        return self._settle("released", payment_id, idempotency_key)

    def _settle(self, outcome: str, payment_id: str, key: str) -> str:
        with self._lock:
            if key in self.answers:
                return self.answers[key]
            if self.state.get(payment_id, outcome) != outcome:
                raise ProviderRefused(f"{payment_id} is already {self.state[payment_id]}")
            self.state[payment_id] = outcome
            self.done.append((outcome, payment_id))
            self.answers[key] = f"{outcome}:{payment_id}"
            return self.answers[key]


def _recorded(session: Session, payment_id: str, expected: str) -> GroupMember:
    member = session.scalar(select(GroupMember).where(GroupMember.payment_id == payment_id))
    if member is None or member.payment_status != expected:
        found = "no member" if member is None else member.payment_status
        raise ProviderRefused(f"event to make {payment_id} {expected}, but the record says {found}")
    return member


def register(registry: HandlerRegistry, provider: HeldPayments) -> None:
    def capture(session: Session, event: Event) -> None:
        _recorded(session, event.aggregate_id, "captured")
        payload = event.payload
        provider.capture(event.aggregate_id, int(payload["amount_minor"]), str(payload["currency"]), event.id)

    def release(session: Session, event: Event) -> None:
        _recorded(session, event.aggregate_id, "released")
        provider.release(event.aggregate_id, event.id)

    registry.register(CAPTURE, capture)
    registry.register(RELEASE, release)
