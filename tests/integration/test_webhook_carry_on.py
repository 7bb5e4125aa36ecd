"""An endpoint with a backlog stays with the worker that holds it (integrations.worker.carry_on): the
transaction recording a clean batch reads the next one and renews the lease, so the endpoint's messages go
out batch after batch, in order, from one claim; a failure, a stop, or a lease another worker has taken
ends the run and leaves the rest as it was. On SQLite and PostgreSQL, against a real receiver on
127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

from sqlalchemy import select, update

from entrepot.integrations.models import WebhookDelivery, WebhookSubscription
from entrepot.integrations.settings import WebhookSettings
from entrepot.integrations.worker import Claim, Outcome, Worker, carry_on, claim, record
from entrepot.platform.db import Database
from tests.integration import test_webhook_delivery as delivery
from tests.integration.test_webhook_delivery import Receiver, _deliveries, _events, _subscribe
from tests.world import T0, Clock

receiver = delivery.receiver  # the fixture: a plain HTTP server on 127.0.0.1 that keeps every request

SMALL_BATCHES = WebhookSettings(allow_private=True, batch_per_endpoint=3, backoff_seconds=10)


def _claim(db: Database, worker: str) -> list[Claim]:
    with db.transaction() as session:
        return claim(session, worker, T0, SMALL_BATCHES, endpoints=4)


def _send(db: Database, held: Claim, going_on: Callable[[], bool], name: str = "w1") -> int:
    async def go() -> int:
        worker = Worker(db, SMALL_BATCHES, Clock(T0), rng=random.Random(7), name=name)
        try:
            return await worker._send_and_record(held, going_on)
        finally:
            await worker.close()

    return asyncio.run(go())


def _lease(db: Database) -> tuple[str | None, object]:
    with db.transaction() as session:
        sub = session.scalars(select(WebhookSubscription)).one()
        return sub.leased_by, sub.lease_until


def test_a_backlog_goes_out_in_order_batch_after_batch_from_one_claim(
    database: Database, receiver: Receiver
) -> None:
    _subscribe(database, receiver.url())
    _events(database, 10)
    [held] = _claim(database, "w1")
    assert len(held.deliveries) == 3  # one batch claimed ...
    assert _send(database, held, lambda: True) == 10  # ... and the rest read batch after batch
    assert [json.loads(h.body)["data"]["i"] for h in receiver.hits] == list(range(10))
    assert {(r.status, r.attempts) for r in _deliveries(database)} == {("delivered", 1)}
    assert _lease(database) == (None, None)  # given back once nothing more was due


def test_when_the_worker_stops_the_endpoint_is_given_back_after_its_batch(
    database: Database, receiver: Receiver
) -> None:
    _subscribe(database, receiver.url())
    _events(database, 10)
    [held] = _claim(database, "w1")
    assert _send(database, held, lambda: False) == 3
    assert [r.status for r in _deliveries(database)] == ["delivered"] * 3 + ["pending"] * 7
    assert _lease(database) == (None, None)


def test_a_failure_ends_the_run_of_batches(database: Database, receiver: Receiver) -> None:
    receiver.status = 500
    _subscribe(database, receiver.url())
    _events(database, 7)
    [held] = _claim(database, "w1")
    assert _send(database, held, lambda: True) == 1  # the first fails; its batch waits with it
    rows = _deliveries(database)
    assert [r.attempts for r in rows] == [1, 0, 0, 0, 0, 0, 0] and len(receiver.hits) == 1
    assert rows[1].next_attempt_at == rows[0].next_attempt_at is not None  # its batch waits with it
    assert rows[3].next_attempt_at is None  # never read: due as before
    assert _lease(database) == (None, None)


def test_a_lease_another_worker_took_is_left_alone(database: Database) -> None:
    """This worker's lease ran out and another claimed the endpoint before this one recorded its batch:
    the batch is recorded, but the next is not read and the other's lease stands."""
    _subscribe(database, "http://127.0.0.1:9/never-called")
    _events(database, 6)
    [held] = _claim(database, "w1")
    with database.transaction() as session:
        session.execute(update(WebhookSubscription).values(leased_by="w2"))
    sent = [Outcome(item.delivery_id, True, 204, 1, "") for item in held.deliveries]
    with database.transaction() as session:
        record(session, "w1", held, sent, T0, SMALL_BATCHES, random.Random(7), keep_lease=True)
        assert carry_on(session, "w1", held, T0, SMALL_BATCHES) is None
    assert _lease(database)[0] == "w2"
    with database.transaction() as session:
        statuses = session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)).all()
    assert statuses == ["delivered"] * 3 + ["pending"] * 3
