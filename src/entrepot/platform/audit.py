"""The audit trail: who changed what, when, and what it was before and after.

One function records: `record(session, action, subject, before, after, at)`, called by a service where it
makes a change an operator or a seller asked for (a price, stock, a key, an org move, a refund, a target, a
factor table, a webhook subscription...). It writes in the caller's session, so the entry commits with the
change or not at all: a refused or failed change leaves no entry.

Who: the entry points say whom a request acts as (`acting_as`, in the API's key check and the console's
session check), held in a context variable as the request id is (platform.logs), so the services need no
extra parameter to say it. A change made with nobody bound (the CLI, a background job) is recorded as
`system`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from entrepot.kernel.clock import Clock, system_clock
from entrepot.platform.db import Base, BigId, UtcDateTime
from entrepot.platform.logs import current_request_id
from entrepot.platform.principal import Principal


@dataclass(frozen=True)
class Actor:
    role: str  # operator, seller, buyer, carrier, or system
    key: str  # the API key's public id (a console session acts as its key or its user's)
    seller: str | None = None


SYSTEM = Actor("system", "system")
# whom, and by which clock (the request's context's: a pinned or test clock dates the entries too)
_actor: contextvars.ContextVar[tuple[Actor, Clock] | None] = contextvars.ContextVar(
    "entrepot_audit_actor", default=None
)


def acting_as(principal: Principal, clock: Clock) -> None:
    """Whom the current request's changes are recorded as (set by the entry points' auth checks, which
    must be async dependencies: a sync one runs in a copy of the context that the route never sees)."""
    _actor.set((Actor(principal.role, principal.key_id, principal.seller_public_id), clock))


@contextmanager
def as_actor(actor: Actor, clock: Clock = system_clock) -> Iterator[None]:
    """Changes made inside the block are recorded as `actor` (a CLI command, a test)."""
    token = _actor.set((actor, clock))
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> tuple[Actor, Clock]:
    return _actor.get() or (SYSTEM, system_clock)


class AuditEntry(Base):
    """One change: who made it (role, key, seller), when, which request, what (`action` on `subject`),
    and the values before and after (JSON objects; null before a creation or after a removal)."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_key: Mapped[str] = mapped_column(String(40), index=True)
    actor_seller: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_audit_entries_at", "at"),)


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready: decimals, dates and enums as the text they print as (an audit shows, never computes)."""
    return None if values is None else json.loads(json.dumps(values, default=str))


def record(
    session: Session,
    action: str,
    subject: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: dt.datetime | None = None,
) -> None:
    """Record a change in the caller's transaction, as whoever the request acts as; at `at`, or by
    default at the request's clock's now (for services that are given no `now`)."""
    actor, clock = current_actor()
    session.add(
        AuditEntry(
            at=at or clock(),
            actor_role=actor.role,
            actor_key=actor.key,
            actor_seller=actor.seller,
            request_id=current_request_id(),
            action=action,
            subject=subject,
            before=_plain(before),
            after=_plain(after),
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # a key's public id, or `system`
    role: str | None = None
    seller: str | None = None
    action: str | None = None  # exact (`price.set`), or a family with a trailing dot (`price.`)
    subject: str | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


def entries_page(session: Session, where: AuditFilter, before_id: int | None, limit: int) -> list[AuditEntry]:
    """Newest first (what changed lately is what an operator asks), `before_id` the cursor: one
    statement whatever the filters."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if where.actor:
        query = query.where(AuditEntry.actor_key == where.actor)
    if where.role:
        query = query.where(AuditEntry.actor_role == where.role)
    if where.seller:
        query = query.where(AuditEntry.actor_seller == where.seller)
    if where.action:
        family = where.action.endswith(".")
        query = query.where(
            AuditEntry.action.startswith(where.action, autoescape=True)
            if family
            else AuditEntry.action == where.action
        )
    if where.subject:
        query = query.where(AuditEntry.subject == where.subject)
    if where.since:
        query = query.where(AuditEntry.at >= where.since)
    if where.until:
        query = query.where(AuditEntry.at < where.until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))
