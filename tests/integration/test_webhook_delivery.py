"""The delivery worker against a real receiver on 127.0.0.1 (ENTREPOT_WEBHOOKS_ALLOW_PRIVATE on), on
SQLite and PostgreSQL: signatures checked by this file's own reading of the Standard Webhooks spec, retries
on the backoff's schedule by an injected clock, the endpoint disabled with a notice, rotation's two
signatures, replays with the same webhook-id, and (PostgreSQL) workers racing that never send one
delivery twice at once."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.integrations import events as webhook_events
from entrepot.integrations import service
from entrepot.integrations.models import WebhookDelivery, WebhookSubscription
from entrepot.integrations.settings import WebhookSettings
from entrepot.integrations.worker import Worker
from entrepot.kernel.events import DomainEvent
from entrepot.platform.db import Database, OutboxEvent, record_event
from entrepot.platform.logs import bind_request_id, unbind_request_id
from entrepot.platform.outbox import Event, HandlerRegistry, relay_once
from entrepot.platform.principal import Principal
from tests.world import T0, Clock

OPERATOR = Principal(role="operator", key_id="test")
TYPE = "fx.rates_loaded"  # an operator's event: no owner to ask


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A plain HTTP server that keeps every request and answers `status` (changeable), after `delay`."""

    status: int = 200
    delay: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            key = f"{self.path} {self.headers.get('webhook-id')}"
            with receiver.lock:
                receiver.in_flight[key] = receiver.in_flight.get(key, 0) + 1
                if receiver.in_flight[key] > 1:
                    receiver.overlaps.append(key)
            time.sleep(receiver.delay)
            with receiver.lock:
                receiver.in_flight[key] -= 1
                receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            pass

    return Handle


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def spec_signatures(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The spec, read afresh: the secret is base64 after `whsec_`; the signed content is
    `{webhook-id}.{webhook-timestamp}.{body}`; HMAC-SHA256, base64, prefixed `v1,`; the header holds
    space-separated signatures of which one must match."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given) for given in headers["webhook-signature"].split(" "))


SETTINGS = WebhookSettings(
    allow_private=True,
    backoff_seconds=10,
    max_attempts=4,
    disable_after_seconds=60,
    disable_after_failures=3,
    concurrency=8,
)


def _subscribe(db: Database, url: str, *types: str) -> service.Made:
    with db.transaction() as session:
        spec = service.NewSubscription(url, types or (TYPE,))
        return service.create_subscription(session, OPERATOR, spec, True, T0)


def _events(db: Database, count: int, type_: str = TYPE, at: dt.datetime = T0) -> None:
    with db.transaction() as session:
        for i in range(count):
            record_event(session, DomainEvent(type_, f"agg_{i:04d}", {"i": i}), at)
    registry = HandlerRegistry()
    webhook_events.register(registry)
    while relay_once(db, registry, at + dt.timedelta(seconds=1)):
        pass


def _deliver(db: Database, clock: Clock, settings: WebhookSettings = SETTINGS) -> int:
    async def once() -> int:
        worker = Worker(db, settings, clock, rng=random.Random(7))
        try:
            return await worker.run_once()
        finally:
            await worker.close()

    return asyncio.run(once())


def _deliveries(db: Database) -> list[WebhookDelivery]:
    with db.transaction() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_deliveries_arrive_signed_in_order_and_are_logged(database: Database, receiver: Receiver) -> None:
    made = _subscribe(database, receiver.url())
    _events(database, 5)
    assert _deliver(database, Clock(T0)) == 5
    assert [json.loads(h.body)["data"]["i"] for h in receiver.hits] == [0, 1, 2, 3, 4]  # the events' order
    for hit in receiver.hits:
        assert spec_signatures(made.secret, hit.headers, hit.body)
        assert hit.headers["webhook-timestamp"] == str(int(T0.timestamp()))  # the injected clock's
        assert json.loads(hit.body)["type"] == TYPE
    rows = _deliveries(database)
    assert {(r.status, r.attempts, r.response_status, r.response_excerpt) for r in rows} == {
        ("delivered", 1, 200, "ok")
    }
    assert [r.message_id for r in rows] == [h.headers["webhook-id"] for h in receiver.hits]
    assert _deliver(database, Clock(T0)) == 0  # nothing left


def test_a_failing_endpoint_is_retried_on_the_backoff_then_failed_and_disabled(
    database: Database, receiver: Receiver
) -> None:
    receiver.status = 500
    made = _subscribe(database, receiver.url())
    _events(database, 2)
    clock = Clock(T0)
    assert _deliver(database, clock) == 1  # the first fails; the second waits with it, untried
    first, second = _deliveries(database)
    assert (first.attempts, first.response_status, first.status) == (1, 500, "pending")
    assert second.attempts == 0 and second.next_attempt_at == first.next_attempt_at
    assert first.next_attempt_at is not None
    assert (
        dt.timedelta(seconds=7.5) <= first.next_attempt_at - T0 <= dt.timedelta(seconds=12.5)
    )  # 10 s +- 25%
    assert _deliver(database, clock) == 0  # not due yet: nothing is sent
    waits = []
    while (row := _deliveries(database)[0]).status == "pending":
        assert row.next_attempt_at is not None
        waits.append((row.next_attempt_at - clock.now).total_seconds())
        clock.now = row.next_attempt_at
        _deliver(database, clock)
    assert [round(w / n) for w, n in zip(waits, (10, 20, 40), strict=True)] == [1, 1, 1]  # doubling, jittered
    assert (row.status, row.attempts) == ("failed", 4)
    with database.transaction() as session:
        sub = session.scalars(select(WebhookSubscription)).one()
        notices = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "webhook_subscription.disabled")
        )
        assert sub.status == "disabled" and "in a row" in (sub.disabled_reason or "")
        assert [n.aggregate_id for n in notices] == [made.subscription.public_id]


def _counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("entrepot_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def test_the_metrics_count_each_outcome_as_it_is_recorded(database: Database, receiver: Receiver) -> None:
    _subscribe(database, receiver.url())
    before = {o: _counted(o) for o in ("delivered", "retried", "deferred")}
    _events(database, 3)
    _deliver(database, Clock(T0))
    receiver.status = 500
    _events(database, 2, at=T0 + dt.timedelta(minutes=1))
    _deliver(database, Clock(T0 + dt.timedelta(minutes=1)))  # the first fails, the second waits untried
    assert {o: _counted(o) - before[o] for o in before} == {"delivered": 3, "retried": 1, "deferred": 1}


def test_an_endpoint_that_recovers_gets_everything_once(database: Database, receiver: Receiver) -> None:
    receiver.status = 503
    _subscribe(database, receiver.url())
    _events(database, 3)
    clock = Clock(T0)
    _deliver(database, clock)
    receiver.status = 200
    clock.advance(seconds=15)
    assert _deliver(database, clock) == 3
    assert {r.status for r in _deliveries(database)} == {"delivered"}
    delivered = [h.headers["webhook-id"] for h in receiver.hits[1:]]
    assert len(delivered) == len(set(delivered)) == 3


def test_several_requests_in_flight_deliver_each_once(database: Database, receiver: Receiver) -> None:
    _subscribe(database, receiver.url())
    _events(database, 9)
    parallel = WebhookSettings(allow_private=True, in_flight_per_endpoint=4)
    assert _deliver(database, Clock(T0), parallel) == 9
    ids = [h.headers["webhook-id"] for h in receiver.hits]
    assert len(ids) == len(set(ids)) == 9 and {r.status for r in _deliveries(database)} == {"delivered"}


def test_during_a_rotation_both_secrets_sign(database: Database, receiver: Receiver) -> None:
    made = _subscribe(database, receiver.url())
    with database.transaction() as session:
        rotated = service.rotate_secret(
            session, OPERATOR, made.subscription.public_id, dt.timedelta(hours=1), T0
        )
    _events(database, 1)
    _deliver(database, Clock(T0 + dt.timedelta(minutes=30)))
    _events(database, 1, at=T0 + dt.timedelta(hours=2))
    _deliver(database, Clock(T0 + dt.timedelta(hours=2)))
    during, after = receiver.hits
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert spec_signatures(made.secret, during.headers, during.body)
    assert spec_signatures(rotated.secret, during.headers, during.body)
    assert spec_signatures(rotated.secret, after.headers, after.body)
    assert not spec_signatures(made.secret, after.headers, after.body)


def test_replays_send_the_same_message_again(database: Database, receiver: Receiver) -> None:
    made = _subscribe(database, receiver.url())
    _events(database, 2)
    _deliver(database, Clock(T0))
    first = _deliveries(database)[0]
    with database.transaction() as session:
        service.replay_delivery(session, OPERATOR, first.public_id, T0)
        queued = service.replay_range(
            session, OPERATOR, made.subscription.public_id, T0, T0 + dt.timedelta(seconds=1), T0
        )
    assert queued == 2
    assert _deliver(database, Clock(T0)) == 3
    ids = [h.headers["webhook-id"] for h in receiver.hits]
    assert ids[2:] == [ids[0], ids[0], ids[1]]
    assert receiver.hits[2].body == receiver.hits[0].body


def test_without_the_setting_a_private_target_is_not_called(database: Database, receiver: Receiver) -> None:
    _subscribe(database, receiver.url())  # made while allowed
    _events(database, 1)
    _deliver(database, Clock(T0), WebhookSettings(allow_private=False))
    assert receiver.hits == []
    assert "loopback" in (_deliveries(database)[0].last_error or "")


def test_the_relay_queues_deliveries_in_batches_and_a_failing_batch_goes_one_by_one(
    database: Database, receiver: Receiver
) -> None:
    _subscribe(database, receiver.url())
    with database.transaction() as session:
        for i in range(3):
            record_event(session, DomainEvent(TYPE, f"agg_{i}", {"poison": i == 1}), T0)
    seen: list[list[str]] = []

    def picky(session: Session, events: list[Event]) -> None:
        seen.append([e.aggregate_id for e in events])
        if any(e.payload["poison"] for e in events):
            raise RuntimeError("poisoned")
        webhook_events.enqueue(session, events)

    registry = HandlerRegistry()
    registry.register_batch([TYPE], picky)
    assert relay_once(database, registry, T0) == 3  # the batch failed: each went on its own
    assert seen == [["agg_0", "agg_1", "agg_2"], ["agg_0"], ["agg_1"], ["agg_2"]]
    with database.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == TYPE).order_by(OutboxEvent.id)
        ).all()
        assert [(r.published_at is not None, r.attempts) for r in rows] == [(True, 1), (False, 1), (True, 1)]
        assert "poisoned" in (rows[1].last_error or "")
    assert sorted(d.message_id for d in _deliveries(database)) == sorted(
        [rows[0].public_id, rows[2].public_id]
    )
    seen.clear()
    assert relay_once(database, registry, T0) == 0  # the poisoned one waits for its retry


@pytest.mark.postgres
@pytest.mark.slow
def test_racing_workers_never_send_one_delivery_twice_at_once(
    pg_database: Database, receiver: Receiver
) -> None:
    receiver.delay = 0.002
    for n in range(6):
        _subscribe(pg_database, receiver.url(f"/s{n}"))
    _events(pg_database, 60)
    settings = WebhookSettings(allow_private=True, batch_per_endpoint=7, concurrency=3, poll_seconds=0.05)
    delivered_by: list[int] = []

    async def race() -> None:
        workers = [Worker(pg_database, settings, lambda: T0, name=f"w{i}") for i in range(4)]
        stop = asyncio.Event()
        runs = [asyncio.create_task(w.run(stop)) for w in workers]
        for _ in range(400):
            if len(receiver.hits) >= 360:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*runs)
        for w in workers:
            await w.close()
            delivered_by.append(w.totals.delivered)

    threads = [threading.Thread(target=asyncio.run, args=(race(),)) for _ in range(2)]  # two event loops
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = [f"{h.path} {h.headers['webhook-id']}" for h in receiver.hits]
    assert receiver.overlaps == []
    assert len(sent) == len(set(sent)) == 360
    assert {r.status for r in _deliveries(pg_database)} == {"delivered"}
    assert sum(delivered_by) == 360 and sum(1 for n in delivered_by if n) > 1  # the work was shared


def test_a_delivery_carries_the_request_id_of_its_event(database: Database, receiver: Receiver) -> None:
    made = _subscribe(database, receiver.url())
    token = bind_request_id("req-hook-0001")
    try:
        _events(database, 1)  # recorded while "answering" that request
    finally:
        unbind_request_id(token)
    _events(database, 1, at=T0 + dt.timedelta(seconds=1))  # recorded by no request
    _deliver(database, Clock(T0 + dt.timedelta(seconds=2)))
    assert [h.headers.get("entrepot-request-id") for h in receiver.hits] == ["req-hook-0001", None]
    assert [d.request_id for d in _deliveries(database)] == ["req-hook-0001", None]
    for hit in receiver.hits:  # outside what is signed: the spec's signature still verifies
        assert spec_signatures(made.secret, hit.headers, hit.body)
