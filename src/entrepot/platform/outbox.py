"""The outbox relay: hands each event recorded in `outbox_events` to the handlers of its type.

Bookkeeping, and why: all the handlers of one event run in ONE transaction, together with the claim of
the event and the mark that says it is done. Either every handler's writes and the mark commit, or none of
them do and the whole event is tried again later, every handler again. That keeps "no reaction lost, none
doubled" with three columns on the event instead of a second table of (event, handler) rows to keep in
step. The price: the handlers of one event share its fate, so a failing handler holds back its siblings'
reactions to that event (never other events) until it succeeds or the event is dead. When one event type
gathers several independent handlers owned by different contexts, that is the time to move to one row per
(event, handler).

What handlers can rely on, and must do:
- A handler is `(session, event) -> None`. It writes only through `session` and never commits or rolls
  back: the relay owns the transaction. Work outside the database (an HTTP call) cannot be rolled back;
  make it idempotent, keyed on `event.id`.
- Events are taken oldest first, but a failing event waits for its retry while newer ones go on, and
  several relays run side by side, so handlers must not depend on the order between events.
- An event with no handler is simply marked published, many in one statement at the start of each
  round. "Published" means: handled by the handlers registered when the relay took it; a handler
  registered later does not see older events.
- On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`, so relays (one per API worker, plus the CLI) share
  the queue and never take the same event twice; SQLite serialises writers (BEGIN IMMEDIATE in db.py).
- A batch handler, `(session, events) -> None` (`register_batch`), is for a reaction that wants every
  event of many types and only writes rows (integrations queues webhook deliveries). Events whose types
  have no per-event handler are given to it many at once, in the transaction that marks them published,
  as unhandled events are; a type with a per-event handler, and every event of a batch that failed, goes
  the one-by-one way with the batch handler among its handlers (retried, then dead, as any). Why: one
  transaction per event for every order.placed cost the relay ten times its speed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from entrepot.platform.db import Database, OutboxEvent

log = logging.getLogger("entrepot.platform.outbox")

EventState = Literal["pending", "published", "dead"]
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Event:
    """What a handler is given: the event as recorded, not its row (the bookkeeping is the relay's)."""

    id: str
    type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: dt.datetime
    request_id: str | None = None  # the request whose transaction recorded it, if one did


Handler = Callable[[Session, Event], None]
BatchHandler = Callable[[Session, list[Event]], None]


class HandlerBrokeTransaction(RuntimeError):
    """A handler committed, rolled back, closed or emptied the relay's session: its bookkeeping is lost."""


class HandlerRegistry:
    """Handlers per event type, run in the order they were registered."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._batch: dict[str, list[BatchHandler]] = {}

    def register_batch(self, event_types: list[str], handler: BatchHandler) -> None:
        for event_type in event_types:
            self._batch.setdefault(event_type, []).append(handler)

    def batch_types(self) -> list[str]:
        """The types only batch handlers want: relayed many at once."""
        return sorted(t for t in self._batch if t not in self.event_types())

    def run_batch(self, session: Session, events: list[Event]) -> None:
        for event_type, handlers in self._batch.items():
            of_type = [e for e in events if e.type == event_type]
            for handler in handlers if of_type else ():
                handler(session, of_type)

    def every_handler_for(self, event_type: str) -> tuple[Handler, ...]:
        """Its handlers, and its batch handlers given the one event."""
        batch = [partial(_one_of_batch, handler) for handler in self._batch.get(event_type, ())]
        return (*self.handlers_for(event_type), *batch)

    def register(self, event_type: str, handler: Handler) -> None:
        handlers = self._handlers.setdefault(event_type, [])
        if handler in handlers:  # registered twice, it would react twice to every event
            raise ValueError(f"{_name(handler)} already handles {event_type}")
        handlers.append(handler)

    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        return tuple(self._handlers.get(event_type, ()))

    def event_types(self) -> list[str]:
        return sorted(t for t, handlers in self._handlers.items() if handlers)


def _one_of_batch(handler: BatchHandler, session: Session, event: Event) -> None:
    handler(session, [event])


@dataclass(frozen=True)
class RetryPolicy:
    """How soon a failed event is tried again (exponential backoff, capped) and when to give up."""

    max_attempts: int = 10
    backoff_seconds: float = 5.0
    backoff_max_seconds: float = 1800.0

    def __post_init__(self) -> None:
        # a zero wait would let one relay round retry a failing event again and again
        if self.max_attempts < 1 or self.backoff_seconds <= 0 or self.backoff_max_seconds <= 0:
            raise ValueError("max_attempts must be at least 1 and the backoff positive")

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the `attempts`-th failed try: base, 2 x base, 4 x base ... up to the cap."""
        exponent = min(max(attempts - 1, 0), 60)  # the cap wins long before; keeps the float finite
        return dt.timedelta(seconds=min(self.backoff_seconds * 2.0**exponent, self.backoff_max_seconds))


def relay_once(
    db: Database,
    registry: HandlerRegistry,
    now: dt.datetime,
    batch: int = 100,
    policy: RetryPolicy | None = None,
) -> int:
    """Take up to `batch` due events, oldest first, one transaction each; return how many were taken.

    Each event taken is either published or has its failure recorded (retried later, or dead once it has
    used its attempts): never left half-done.
    """
    policy = policy or RetryPolicy()
    taken, batch_types = _publish_unhandled(db, registry, now, batch), registry.batch_types()
    relayed = _relay_batch(db, registry, now, batch - taken) if taken < batch and batch_types else 0
    taken += relayed or 0
    # events only batch handlers want go one by one when their batch failed, else they wait for the next
    skip = batch_types if relayed is not None else []
    while taken < batch and _relay_next(db, registry, now, policy, skip):
        taken += 1
    return taken


def _publish_unhandled(db: Database, registry: HandlerRegistry, now: dt.datetime, limit: int) -> int:
    """Mark up to `limit` due events that no handler wants published, oldest first, in one statement:
    most events (order.placed, shipment.delivered ...) have no handler, and a transaction each made a
    backlog of them (a demo's 60,000) cost minutes. Rows another relay holds are skipped."""
    handled = registry.event_types() + registry.batch_types()
    wanted = select(OutboxEvent.id).where(in_state("pending"), _due(now), OutboxEvent.type.not_in(handled))
    wanted = wanted.order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)
    with db.transaction() as session:
        published = session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(wanted.scalar_subquery()))
            .values(published_at=now, next_attempt_at=None, attempts=OutboxEvent.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return int(published.rowcount)  # type: ignore[attr-defined]


def _relay_batch(db: Database, registry: HandlerRegistry, now: dt.datetime, limit: int) -> int | None:
    """Up to `limit` due events that only batch handlers want, marked published and handed to their
    handlers in one transaction (a failing handler rolls the marks back with its own writes); None if
    that fails: none is taken (they go one by one, with their own retries: see the module's note). The
    events are claimed and marked in one statement, read back as the handlers are given them."""
    wanted = (
        select(OutboxEvent.id)
        .where(in_state("pending"), _due(now), OutboxEvent.type.in_(registry.batch_types()))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    try:
        with db.transaction() as session:
            rows = session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(wanted.scalar_subquery()))
                .values(published_at=now, next_attempt_at=None, attempts=OutboxEvent.attempts + 1)
                .returning(OutboxEvent.id, *_EVENT_COLUMNS)
                .execution_options(synchronize_session=False)
            ).all()
            # oldest first, as recorded (RETURNING promises no order)
            registry.run_batch(session, [_event_of(row[1:]) for row in sorted(rows, key=lambda row: row[0])])
            return len(rows)
    except Exception:
        log.warning("outbox: a batch of events failed; they go one by one", exc_info=True)
        return None


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(OutboxEvent.next_attempt_at.is_(None), OutboxEvent.next_attempt_at <= now)


def in_state(state: EventState) -> ColumnElement[bool]:
    if state == "published":
        return OutboxEvent.published_at.is_not(None)
    if state == "dead":
        return OutboxEvent.dead_at.is_not(None)
    return and_(OutboxEvent.published_at.is_(None), OutboxEvent.dead_at.is_(None))


def state_of(row: OutboxEvent) -> EventState:
    if row.published_at is not None:
        return "published"
    return "dead" if row.dead_at is not None else "pending"


def _claim(
    session: Session, now: dt.datetime, event_id: int | None = None, skip: list[str] | None = None
) -> OutboxEvent | None:
    """The oldest due event not of the `skip` types (or the given one if still due), locked until this
    transaction ends."""
    query = select(OutboxEvent).where(in_state("pending"), _due(now))
    if skip:
        query = query.where(OutboxEvent.type.not_in(skip))
    if event_id is not None:
        query = query.where(OutboxEvent.id == event_id)
    # SKIP LOCKED: an event another relay holds is that relay's; SQLite renders no FOR UPDATE at all.
    return session.scalars(query.order_by(OutboxEvent.id).limit(1).with_for_update(skip_locked=True)).first()


def _relay_next(
    db: Database, registry: HandlerRegistry, now: dt.datetime, policy: RetryPolicy, skip: list[str]
) -> bool:
    """Claim the oldest due event not of the `skip` types and handle it in one transaction; False when
    none is due."""
    claimed: int | None = None
    try:
        with db.transaction() as session:
            row = _claim(session, now, skip=skip)
            if row is None:
                return False
            claimed = row.id
            _handle(session, registry, row, now, policy)
    except Exception as exc:
        if claimed is None:
            raise  # the database itself failed: nothing was taken, the caller's next round retries
        log.warning("outbox: the transaction of event %d failed", claimed, exc_info=True)
        # The transaction broke after the handlers ran (a failed commit, a handler that ended it). Charge
        # the event anyway, or being the oldest it would come back first every round and hold the queue.
        error = str(exc) if isinstance(exc, HandlerBrokeTransaction) else _describe("commit", exc)
        _record_failure_in_new_transaction(db, claimed, error, now, policy)
    return True


def _handle(
    session: Session, registry: HandlerRegistry, row: OutboxEvent, now: dt.datetime, policy: RetryPolicy
) -> None:
    handlers = registry.every_handler_for(row.type)
    transaction = session.get_transaction()
    error = _run_handlers(session, handlers, _event_of_row(row))
    if session.get_transaction() is not transaction or row not in session:
        # The marks below would go nowhere and the event would come back at once, again and again.
        names = ", ".join(_name(h) for h in handlers)
        raise HandlerBrokeTransaction(f"{names}: ended the relay's transaction, which only the relay may end")
    row.attempts += 1
    if error is None:
        row.published_at = now
        row.next_attempt_at = None
    else:
        _record_failed_attempt(row, error, now, policy)


def _run_handlers(session: Session, handlers: tuple[Handler, ...], event: Event) -> str | None:
    """All handlers in one savepoint: on a failure none of their writes stay. Returns the error, if any."""
    current: Handler | None = None
    try:
        with session.begin_nested():
            for current in handlers:
                current(session, event)
                session.flush()  # so a constraint a handler breaks is blamed on that handler
    except Exception as exc:
        where = _name(current) if current is not None else "relay"
        log.warning("outbox: %s failed on %s %s", where, event.type, event.id, exc_info=True)
        return _describe(where, exc)
    return None


def _record_failed_attempt(row: OutboxEvent, error: str, now: dt.datetime, policy: RetryPolicy) -> None:
    """Record a failed try: retry after the backoff, or mark it dead (kept, and listed) when out of tries."""
    row.last_error = error
    if row.attempts >= policy.max_attempts:
        row.dead_at = now
        row.next_attempt_at = None
        log.error("outbox: %s %s is dead after %d attempts: %s", row.type, row.public_id, row.attempts, error)
    else:
        row.next_attempt_at = now + policy.delay(row.attempts)


def _record_failure_in_new_transaction(
    db: Database, event_id: int, error: str, now: dt.datetime, policy: RetryPolicy
) -> None:
    with db.transaction() as session:
        row = _claim(session, now, event_id)
        if row is None:  # another relay took it, or recorded its failure, in between: it is in hand
            return
        row.attempts += 1
        _record_failed_attempt(row, error, now, policy)


# An Event's fields, in order, as the outbox's columns (read back by a batch's UPDATE ... RETURNING)
_EVENT_COLUMNS = (
    OutboxEvent.public_id,
    OutboxEvent.type,
    OutboxEvent.aggregate_id,
    OutboxEvent.payload,
    OutboxEvent.occurred_at,
    OutboxEvent.request_id,
)


def _event_of(values: Sequence[Any]) -> Event:
    """The event from its fields in `_EVENT_COLUMNS`' order (a row read back, or a row's attributes);
    its payload a copy, so that a handler changing it changes no row."""
    public_id, type_, aggregate_id, payload, occurred_at, request_id = values
    return Event(public_id, type_, aggregate_id, dict(payload), occurred_at, request_id)


def _event_of_row(row: OutboxEvent) -> Event:
    return _event_of([getattr(row, column.key) for column in _EVENT_COLUMNS])


def _describe(where: str, exc: BaseException) -> str:
    return f"{where}: {type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


def _name(handler: Callable[..., Any]) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"


def list_events_page(
    session: Session,
    type_: str | None,
    aggregate_id: str | None,
    state: EventState | None,
    after: int | None,
    limit: int,
) -> list[OutboxEvent]:
    """A page of the outbox's events, oldest first, narrowed by type, aggregate and state when given."""
    query = select(OutboxEvent).order_by(OutboxEvent.id).limit(limit)
    if type_:
        query = query.where(OutboxEvent.type == type_)
    if aggregate_id:
        query = query.where(OutboxEvent.aggregate_id == aggregate_id)
    if state:
        query = query.where(in_state(state))
    if after is not None:
        query = query.where(OutboxEvent.id > after)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Backlog:
    """How far behind the relay is: events waiting (due or retrying), the oldest one's time, and the
    dead ones an operator must look at."""

    pending: int
    oldest_pending_at: dt.datetime | None
    dead: int

    def lag(self, now: dt.datetime) -> dt.timedelta:
        """How long the oldest waiting event has waited: zero when none waits."""
        if self.oldest_pending_at is None:
            return dt.timedelta(0)
        return max(now - self.oldest_pending_at, dt.timedelta(0))


def backlog(session: Session) -> Backlog:
    """Two statements: the pending ones through the relay's partial index, the dead ones counted."""
    pending, oldest = session.execute(
        select(func.count(OutboxEvent.id), func.min(OutboxEvent.occurred_at)).where(in_state("pending"))
    ).one()
    dead = session.scalar(select(func.count(OutboxEvent.id)).where(in_state("dead"))) or 0
    return Backlog(int(pending), oldest, int(dead))  # min() keeps the column's type: aware UTC
