"""The outbox relay, on SQLite and PostgreSQL: each event handled once with its handlers' writes committed
together with its mark, failures rolled back and retried after a capped backoff until dead, and (on
PostgreSQL) relays racing in parallel threads never taking the same event twice.

Handlers here react by recording an event of their own (`test.reacted`, payload `source`): a write in
the relay's transaction that the tests can count. Time is driven through `now`; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from entrepot.api.app import create_app
from entrepot.cli.main import app as cli
from entrepot.kernel.events import DomainEvent
from entrepot.platform.db import Database, OutboxEvent, record_event
from entrepot.platform.outbox import Event, Handler, HandlerRegistry, RetryPolicy, in_state, relay_once
from entrepot.platform.settings import get_settings
from tests.api.helpers import API, assert_problem, collect
from tests.world import T0, World

PING = "test.ping"
REACTED = "test.reacted"
# Waits of 10 s, 20 s, then the 25 s cap; the fourth failure is the last.
POLICY = RetryPolicy(max_attempts=4, backoff_seconds=10, backoff_max_seconds=25)


def _record(db: Database, count: int, type_: str = PING) -> None:
    with db.transaction() as session:
        for i in range(count):
            record_event(session, DomainEvent(type_, f"agg_{i:04d}", {"i": i}), T0)


def _react(session: Session, event: Event) -> None:
    record_event(session, DomainEvent(REACTED, event.aggregate_id, {"source": event.id}), T0)


def _registry(event_type: str, *handlers: Handler) -> HandlerRegistry:
    registry = HandlerRegistry()
    for handler in handlers:
        registry.register(event_type, handler)
    return registry


def _rows(db: Database, type_: str = PING) -> list[OutboxEvent]:
    with db.transaction() as session:
        return list(
            session.scalars(select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.id))
        )


def _reacted_to(db: Database) -> list[str]:
    """The source event of every reaction committed, sorted: a lost or doubled reaction shows here."""
    return sorted(row.payload["source"] for row in _rows(db, REACTED))


def _pending(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(in_state("pending"))) or 0


def _fails(session: Session, event: Event) -> None:
    _react(session, event)  # a write that must not survive the failure
    raise RuntimeError("carrier API down")


def test_each_event_is_handled_once_and_its_reaction_commits_with_the_mark(database: Database) -> None:
    _record(database, 5)
    calls: Counter[str] = Counter()

    def handler(session: Session, event: Event) -> None:
        calls[event.id] += 1
        _react(session, event)

    registry = _registry(PING, handler)
    # the five pings, then the five reactions they wrote (which have no handler)
    assert relay_once(database, registry, T0, policy=POLICY) == 10
    assert relay_once(database, registry, T0 + dt.timedelta(days=1), policy=POLICY) == 0
    pings = _rows(database)
    assert calls == Counter({p.public_id: 1 for p in pings})
    assert _reacted_to(database) == sorted(p.public_id for p in pings)
    for ping in pings:
        assert (ping.published_at, ping.attempts, ping.last_error, ping.dead_at) == (T0, 1, None, None)
    assert _pending(database) == 0


def test_events_without_a_handler_are_published_oldest_first_a_batch_at_a_time(database: Database) -> None:
    _record(database, 3, "test.unheard")
    assert relay_once(database, HandlerRegistry(), T0, batch=2) == 2
    assert [e.published_at is not None for e in _rows(database, "test.unheard")] == [True, True, False]
    assert relay_once(database, HandlerRegistry(), T0, batch=2) == 1
    assert all(e.published_at == T0 and e.attempts == 1 for e in _rows(database, "test.unheard"))


def test_events_no_handler_wants_are_published_together_and_handled_ones_each_in_turn(
    database: Database,
) -> None:
    _record(database, 40, "test.unheard")
    _record(database, 2)
    statements: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa_event.listen(database.engine, "before_cursor_execute", note)
    try:
        assert (
            relay_once(database, _registry(PING, _react), T0, batch=100) == 44
        )  # 40 + 2 pings + 2 reactions
    finally:
        sa_event.remove(database.engine, "before_cursor_execute", note)
    assert all(e.published_at == T0 and e.attempts == 1 for e in _rows(database, "test.unheard"))
    assert _reacted_to(database) == sorted(p.public_id for p in _rows(database))
    # One statement for the 40 unheard events; the reactions, recorded during the round, go one by one.
    marks = [s for s in statements if s.lstrip().upper().startswith("UPDATE OUTBOX_EVENTS")]
    assert len(marks) == 1 + 4


def test_a_failing_handler_is_rolled_back_recorded_and_retried_after_the_backoff(database: Database) -> None:
    _record(database, 2)
    failures_left = {"agg_0000": 1}

    def flaky(session: Session, event: Event) -> None:
        _react(session, event)
        if failures_left.get(event.aggregate_id, 0) > 0:
            failures_left[event.aggregate_id] -= 1
            raise RuntimeError("carrier API down")

    registry = _registry(PING, flaky)
    assert relay_once(database, registry, T0, policy=POLICY) == 3  # two pings, one reaction
    first, second = _rows(database)
    assert (first.published_at, first.dead_at, first.attempts) == (None, None, 1)
    assert first.next_attempt_at == T0 + dt.timedelta(seconds=10)
    assert first.last_error is not None
    assert "flaky" in first.last_error and "RuntimeError: carrier API down" in first.last_error
    assert second.published_at == T0, "a failing event must not hold the queue"
    assert _reacted_to(database) == [second.public_id], "the failed try's write is rolled back"

    assert relay_once(database, registry, T0 + dt.timedelta(seconds=9), policy=POLICY) == 0
    assert relay_once(database, registry, T0 + dt.timedelta(seconds=10), policy=POLICY) == 2
    first = _rows(database)[0]
    assert (first.published_at, first.attempts) == (T0 + dt.timedelta(seconds=10), 2)
    assert first.next_attempt_at is None
    assert _reacted_to(database) == sorted([first.public_id, second.public_id])


def test_an_event_that_keeps_failing_backs_off_up_to_the_cap_then_is_dead(database: Database) -> None:
    _record(database, 1)
    registry = _registry(PING, _fails)
    now, waits = T0, []
    for attempt in range(1, POLICY.max_attempts + 1):
        assert relay_once(database, registry, now, policy=POLICY) == 1
        (event,) = _rows(database)
        assert event.attempts == attempt
        if event.next_attempt_at is not None:
            waits.append((event.next_attempt_at - now).total_seconds())
            now = event.next_attempt_at
    assert waits == [10, 20, 25]
    assert (event.dead_at, event.published_at, event.next_attempt_at) == (now, None, None)
    assert event.last_error is not None and "carrier API down" in event.last_error
    assert relay_once(database, registry, now + dt.timedelta(days=365), policy=POLICY) == 0
    assert _reacted_to(database) == []
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(in_state("dead"))) == 1


def test_the_handlers_of_an_event_commit_together_or_not_at_all(database: Database) -> None:
    _record(database, 1)
    calls: list[str] = []

    def second(session: Session, event: Event) -> None:
        calls.append("second")
        if len(calls) == 1:
            raise RuntimeError("not yet")

    registry = _registry(PING, _react, second)
    relay_once(database, registry, T0, policy=POLICY)
    assert _reacted_to(database) == [], "the first handler's write went with the second's failure"
    relay_once(database, registry, T0 + dt.timedelta(seconds=10), policy=POLICY)
    assert _reacted_to(database) == [e.public_id for e in _rows(database)]
    assert calls == ["second", "second"]


def test_a_handler_that_ends_the_transaction_is_charged_and_the_queue_goes_on(database: Database) -> None:
    _record(database, 2)

    def rude(session: Session, event: Event) -> None:
        _react(session, event)
        if event.aggregate_id == "agg_0000":
            session.rollback()  # only the relay may end its transaction

    assert relay_once(database, _registry(PING, rude), T0, policy=POLICY) == 3
    first, second = _rows(database)
    assert (first.published_at, first.attempts, first.next_attempt_at) == (
        None,
        1,
        T0 + dt.timedelta(seconds=10),
    )
    assert first.last_error is not None and "rude" in first.last_error
    assert second.published_at == T0
    assert _reacted_to(database) == [second.public_id]


def test_a_handler_is_registered_once_per_type() -> None:
    registry = _registry(PING, _react)
    with pytest.raises(ValueError, match="already handles"):
        registry.register(PING, _react)
    registry.register(REACTED, _react)
    assert registry.handlers_for(PING) == registry.handlers_for(REACTED) == (_react,)
    assert registry.handlers_for("nobody.cares") == ()


def test_operators_list_events_by_state_with_attempts_and_error(world: World) -> None:
    failing = RetryPolicy(max_attempts=1)
    relay_once(world.db, _registry("seller.created", _fails), T0, batch=1000, policy=failing)
    _record(world.db, 1)  # recorded after the relay ran: pending
    client = world.client()

    dead = collect(client, world, "/events", state="dead")
    assert [e["aggregate_id"] for e in dead] == [world.ids["seller_a"], world.ids["seller_b"]]
    for event in dead:
        assert (event["state"], event["attempts"], event["published_at"]) == ("dead", 1, None)
        assert "carrier API down" in event["last_error"] and event["dead_at"] == "2025-11-11T03:00:00Z"
    pending = collect(client, world, "/events", state="pending")
    assert [(e["type"], e["state"], e["attempts"], e["last_error"]) for e in pending] == [
        (PING, "pending", 0, None)
    ]
    published = collect(client, world, "/events", state="published")
    assert published and {e["state"] for e in published} == {"published"}
    assert len(published) + 3 == len(collect(client, world, "/events"))
    response = client.get(f"{API}/events", params={"state": "stuck"}, headers=world.auth("operator"))
    assert_problem(response, 422, "validation-failed")


def test_the_api_relays_in_the_background_with_the_registry_it_was_given(world: World) -> None:
    sellers: list[str] = []
    registry = _registry("seller.created", lambda _session, event: sellers.append(event.aggregate_id))
    app = create_app(world.settings(run_relay=True, relay_interval_seconds=0.05), world.db, registry)
    app.state.ctx.clock = world.clock
    with TestClient(app):
        for _ in range(600):  # wait for the background task; the test asserts no timing
            if _pending(world.db) == 0:
                break
            time.sleep(0.05)
    assert _pending(world.db) == 0
    assert sorted(sellers) == sorted([world.ids["seller_a"], world.ids["seller_b"]])


def test_the_cli_relays_what_is_due_and_says_how_many(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(database, 3)
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", database.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["events", "relay", "--once"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "3 events handled" in result.output
    assert _pending(database) == 0


@pytest.mark.postgres
def test_two_relays_racing_on_postgresql_handle_each_event_exactly_once(pg_database: Database) -> None:
    _record(pg_database, 200)
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(session: Session, event: Event) -> None:
        with lock:
            calls[event.id] += 1
        _react(session, event)

    registry = _registry(PING, handler)
    start = threading.Barrier(2)
    taken = [0, 0]
    errors: list[BaseException] = []

    def relay(i: int) -> None:
        try:
            start.wait()
            while n := relay_once(pg_database, registry, T0, batch=10):
                taken[i] += n
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=relay, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    pings = _rows(pg_database)
    assert calls == Counter({p.public_id: 1 for p in pings})
    assert len(calls) == 200
    assert _reacted_to(pg_database) == sorted(p.public_id for p in pings)
    assert sum(taken) == 400  # each ping and each reaction taken by exactly one relay
    assert all(p.published_at == T0 and p.attempts == 1 for p in pings)
    assert _pending(pg_database) == 0


@pytest.mark.postgres
def test_an_event_another_relay_holds_is_skipped_not_waited_for(pg_database: Database) -> None:
    _record(pg_database, 3)
    # A relay that waited for the lock would hit this timeout and fail instead of hanging the test.
    url = make_url(pg_database.url).update_query_dict({"options": "-c lock_timeout=10000"})
    relay_db = Database(url.render_as_string(hide_password=False))
    try:
        with pg_database.engine.connect() as other, other.begin():
            held = other.execute(text("SELECT id FROM outbox_events ORDER BY id LIMIT 1 FOR UPDATE")).scalar()
            assert relay_once(relay_db, HandlerRegistry(), T0) == 2
            assert [e.id for e in _rows(pg_database) if e.published_at is None] == [held]
        assert relay_once(relay_db, HandlerRegistry(), T0) == 1
    finally:
        relay_db.dispose()
    assert _pending(pg_database) == 0
