"""The demo's relay: the outbox's events handed to the app's handlers as the weeks go by, many events to
a transaction, so the served demo starts with no backlog and every reaction (shipments planned on
`order.paid`, emissions on `shipment.planned`, orders following their parcels) already happened.

The outbox relay (entrepot.platform.outbox) gives each handled event a transaction of its own, which
for the demo's tens of thousands of events costs more than the reactions. Here an event's handlers
run in a savepoint of a transaction shared with its neighbours, and the mark that says it is done is
written in that same transaction: the handlers' writes and the mark still commit together or not at
all, as the relay's bookkeeping asks. An event whose handlers fail is left as it was (pending, its
attempts untouched) for the served relay, which retries it with its own backoff and dead letter.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from entrepot.platform.db import Database, OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry, in_state

log = logging.getLogger("entrepot.simulation")

ROUND = 2000  # events a transaction takes


def drain(db: Database, registry: HandlerRegistry, now: dt.datetime, left: set[int]) -> int:
    """Relay every pending event, with the events their handlers write, until none is left but those in
    `left` (events whose handlers failed in this demo: added to as they fail). Returns how many were
    published."""
    published = 0
    while True:
        with db.transaction() as session:
            done = _round(session, registry, now, left)
        if done is None:
            return published
        published += done


def _round(session: Session, registry: HandlerRegistry, now: dt.datetime, left: set[int]) -> int | None:
    """One transaction's worth of events, oldest first; None when none is waiting."""
    query = select(OutboxEvent).where(in_state("pending"))
    if left:
        query = query.where(OutboxEvent.id.not_in(left))
    # SKIP LOCKED: an event a served app's relay holds (PostgreSQL) is that relay's, as between relays
    rows = list(
        session.scalars(query.order_by(OutboxEvent.id).limit(ROUND).with_for_update(skip_locked=True))
    )
    if not rows:
        return None
    handled = [row for row in rows if _handled(session, registry, row, left)]
    # the batch handlers (webhook deliveries queued) take the round's events at once; they only write
    # rows, and one that fails is a fault of the demo's: it rolls the round back and stops the demo
    registry.run_batch(session, [_event_of(row) for row in handled])
    done = [row.id for row in handled]
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(done))
        .values(published_at=now, next_attempt_at=None, attempts=OutboxEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return len(done)


def _handled(session: Session, registry: HandlerRegistry, row: OutboxEvent, left: set[int]) -> bool:
    """Run the event's own handlers (not the batch handlers) in a savepoint; False (and the event left
    for the served relay) when one fails."""
    handlers = registry.handlers_for(row.type)
    if not handlers:
        return True
    event = _event_of(row)
    try:
        with session.begin_nested():
            for handler in handlers:
                handler(session, event)
    except Exception:
        log.warning("demo relay: event %s (%s) left for the served relay", row.id, row.type, exc_info=True)
        left.add(row.id)
        return False
    return True


def _event_of(row: OutboxEvent) -> Event:
    return Event(row.public_id, row.type, row.aggregate_id, dict(row.payload), row.occurred_at)
