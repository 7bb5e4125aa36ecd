"""`entrepot bench webhooks`: events at a steady rate through the outbox, the relay and the delivery
workers to receivers on loopback, every signature verified on arrival.

Processes, so that no part measures another's Python: the receivers (one event loop, a port each), the
producer with the relay (writes `order.placed` events, and every 20th an `order.paid`, and relays them:
the relay's handler queues the deliveries), and `workers` delivery workers. Receivers: `healthy` ones
that answer at once (subscribed to order.placed), one that fails with 500 for `flaky_seconds` and then
recovers (order.placed: its backlog is retried and drained), and one that takes `slow_ms` per request
(order.paid only: an endpoint is sent one message at a time, in order, so a slow one gets a trickle).

Measured: delivered (distinct webhook-ids answered 2xx), per_s (those over the time from the first event
to the last delivery), p99_lag_ms (event time to arrival, healthy receivers only; the event's time is
taken as its transaction starts, so the lag counts its write and commit too), duplicates (a webhook-id
arriving again at a receiver that had answered 2xx: at least once allows them; each one carries the same
webhook-id, as counted), lost (deliveries owed and never answered 2xx), retried (attempts after the first,
from the delivery log). The last line printed is the summary.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import func, select

from entrepot.integrations import events as webhook_events
from entrepot.integrations import service
from entrepot.integrations.models import WebhookDelivery
from entrepot.integrations.receiver import Received, receiver_app
from entrepot.integrations.settings import WebhookSettings
from entrepot.integrations.worker import Worker, pending_count
from entrepot.kernel.clock import system_clock
from entrepot.platform.db import Database, OutboxEvent, record_events
from entrepot.platform.outbox import HandlerRegistry, relay_once
from entrepot.platform.principal import Principal
from entrepot.schema import upgrade
from entrepot.simulation.bench_checkout import _fresh_database as fresh_postgres_database

PAID_EVERY = 20


@dataclass(frozen=True)
class Plan:
    rate: float  # events per second
    seconds: float
    healthy: int
    slow_ms: float
    flaky_seconds: float
    workers: int
    in_flight: int = 1  # requests in flight per endpoint (1: in order)

    @property
    def events(self) -> int:
        return int(self.rate * self.seconds)


@dataclass
class Tally:
    """What one receiver saw."""

    kind: str
    ok: set[str] = field(default_factory=set)
    duplicates: int = 0
    refused: int = 0  # bad signatures (should be none)
    lags_ms: list[float] = field(default_factory=list)
    last_at: float = 0.0  # the last 2xx's arrival (time.time())
    first_at: float | None = None  # the first request's arrival: the failing receiver fails from then


def run(console: Console, plan: Plan, database_url: str | None) -> None:
    url, drop = _database(database_url)
    try:
        _measure(console, plan, url)
    finally:
        drop()


def _database(server_url: str | None) -> tuple[str, Callable[[], None]]:
    if server_url and server_url.startswith("postgresql"):
        url, drop = fresh_postgres_database(server_url)
    else:
        folder = tempfile.TemporaryDirectory(prefix="entrepot-bench-webhooks-")
        url, drop = f"sqlite:///{Path(folder.name) / 'bench.db'}", folder.cleanup
    upgrade(url)
    return url, drop


def _measure(console: Console, plan: Plan, url: str) -> None:
    kinds = ["healthy"] * plan.healthy + ["flaky", "slow"]
    ctx = mp.get_context("spawn")
    ports_in, ports_out = ctx.Pipe()
    tallies_in, tallies_out = ctx.Pipe()
    stop_receivers, stop_workers, ready = ctx.Event(), ctx.Event(), ctx.Queue()
    receivers = ctx.Process(target=_receivers, args=(kinds, plan, ports_out, tallies_out, stop_receivers))
    receivers.start()
    ports: list[int] = ports_in.recv()
    ports_in.send(_subscribe(url, kinds, ports))  # the receivers check every signature with it
    console.print(
        f"receivers on ports {ports}; {plan.events} events at {plan.rate:g}/s; {plan.workers} workers, "
        f"{plan.in_flight} request(s) in flight per endpoint"
    )
    workers = [
        ctx.Process(target=_work, args=(url, stop_workers, ready, i, plan.in_flight))
        for i in range(plan.workers)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:  # started and imported (seconds on a busy machine): the clock starts after
        ready.get(timeout=300)
    began = time.time()
    _produce_and_relay(url, plan)
    owed = _drain(console, url, deadline=time.monotonic() + 120 + plan.flaky_seconds)
    stop_workers.set()
    for worker in workers:
        worker.join(timeout=60)
    stop_receivers.set()
    tallies: list[Tally] = tallies_in.recv()
    receivers.join(timeout=30)
    _report(console, plan, url, tallies, began, owed)


def _subscribe(url: str, kinds: list[str], ports: list[int]) -> str:
    """One operator subscription per receiver; all share one secret, so the receivers can check it."""
    db = Database(url)
    operator = Principal(role="operator", key_id="bench")
    secret = ""
    with db.transaction() as session:
        for kind, port in zip(kinds, ports, strict=True):
            types = ["order.paid"] if kind == "slow" else ["order.placed"]
            spec = service.NewSubscription(f"http://127.0.0.1:{port}/{kind}", types, kind)
            made = service.create_subscription(session, operator, spec, True, system_clock())
            secret = secret or made.secret
            made.subscription.secret = secret
    db.dispose()
    return secret


# --- the receivers' process ------------------------------------------------------------------------


def _receivers(
    kinds: list[str], plan: Plan, ports_out: Connection, tallies_out: Connection, stop: MpEvent
) -> None:
    asyncio.run(_serve(kinds, plan, ports_out, tallies_out, stop))


async def _serve(
    kinds: list[str], plan: Plan, ports_out: Connection, tallies_out: Connection, stop: MpEvent
) -> None:
    from aiohttp import web

    secret_box: list[str] = []
    tallies = [Tally(kind) for kind in kinds]
    runners = []
    ports = []
    for tally in tallies:
        app = receiver_app(secret_box, _answer(tally, plan))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    ports_out.send(ports)
    secret_box.append(ports_out.recv())
    while not stop.is_set():
        await asyncio.sleep(0.2)
    tallies_out.send(tallies)
    for runner in runners:
        await runner.cleanup()


def _answer(tally: Tally, plan: Plan) -> Callable[[Received], Any]:
    async def answer(received: Received) -> int:
        if not received.verified:
            tally.refused += 1
            return 401
        if tally.kind == "slow":
            await asyncio.sleep(plan.slow_ms / 1000)
        tally.first_at = tally.first_at or received.at
        if tally.kind == "flaky" and received.at - tally.first_at < plan.flaky_seconds:
            return 500
        if received.webhook_id in tally.ok:
            tally.duplicates += 1
        tally.ok.add(received.webhook_id)
        event_time = dt.datetime.fromisoformat(json.loads(received.body)["timestamp"]).timestamp()
        tally.lags_ms.append((received.at - event_time) * 1000)
        tally.last_at = max(tally.last_at, received.at)
        return 204

    return answer


# --- the producer and relay, the workers -----------------------------------------------------------


def _produce_and_relay(url: str, plan: Plan) -> None:
    """Write the events at the plan's rate (one transaction every 20 ms) while a relay thread keeps up."""
    db = Database(url, pool_size=8)
    done = threading.Event()
    relays = [threading.Thread(target=_relay, args=(db, done)) for _ in range(1)]
    for relay in relays:
        relay.start()
    start, written = time.monotonic(), 0
    while written < plan.events:
        due = min(plan.events, int((time.monotonic() - start) * plan.rate) + 1)
        if due > written:
            _write(db, written, due)
            written = due
        time.sleep(0.02)
    done.set()
    for relay in relays:
        relay.join()
    db.dispose()


def _write(db: Database, first: int, last: int) -> None:
    now = system_clock()
    placed = [(f"ord_bench{i:08d}", {"n": i}) for i in range(first, last)]
    paid = [(ref, data) for ref, data in placed if data["n"] % PAID_EVERY == 0]
    with db.transaction() as session:
        record_events(session, "order.placed", placed, now)
        if paid:
            record_events(session, "order.paid", paid, now)


def _relay(db: Database, done: threading.Event) -> None:
    registry = HandlerRegistry()
    webhook_events.register(registry)
    while True:
        taken = relay_once(db, registry, system_clock(), batch=200)
        if not taken:
            if done.is_set():
                return
            time.sleep(0.025)


def _work(url: str, stop: MpEvent, ready: Any, index: int, in_flight: int) -> None:
    settings = WebhookSettings(
        allow_private=True,
        poll_seconds=0.1,
        backoff_seconds=0.5,
        backoff_max_seconds=4.0,
        max_attempts=30,
        in_flight_per_endpoint=in_flight,
    )

    async def run() -> None:
        worker = Worker(
            Database(url, pool_size=4), settings, system_clock, name=f"bench-{index}-{os.getpid()}"
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(worker.run(stopping))
        ready.put(index)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        stopping.set()
        await task
        await worker.close()

    asyncio.run(run())


def _drain(console: Console, url: str, deadline: float) -> int:
    """Wait until no delivery is pending (or the deadline); the deliveries still owed then."""
    db = Database(url)
    try:
        while True:
            with db.transaction() as session:
                pending = pending_count(session)
            if pending == 0 or time.monotonic() > deadline:
                return pending
            time.sleep(0.1)
    finally:
        db.dispose()


def _pct(ordered: list[float], q: float) -> float:
    return ordered[int(q * (len(ordered) - 1))] if ordered else float("nan")


def _report(console: Console, plan: Plan, url: str, tallies: list[Tally], began: float, owed: int) -> None:
    db = Database(url)
    with db.transaction() as session:
        retried = int(
            session.scalar(select(func.sum(WebhookDelivery.attempts - 1)).where(WebhookDelivery.attempts > 1))
            or 0
        )
        expected = int(session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)
        relayed = session.execute(select(OutboxEvent.occurred_at, OutboxEvent.published_at)).all()
    db.dispose()
    delivered = sum(len(t.ok) for t in tallies)
    paid = len(range(0, plan.events, PAID_EVERY))
    owed_by_plan = plan.events * (plan.healthy + 1) + paid
    lost = owed_by_plan - delivered
    last = max((t.last_at for t in tallies), default=began)
    healthy = sorted(lag for t in tallies if t.kind == "healthy" for lag in t.lags_ms)
    p99 = _pct(healthy, 0.99)
    for t in tallies:
        console.print(f"  {t.kind}: {len(t.ok)} delivered, {t.duplicates} duplicates, {t.refused} refused")
    console.print(
        f"  deliveries queued {expected}, still pending at the end {owed}; load1 {os.getloadavg()[0]:.2f}"
    )
    # the lag's first part apart: from the event to its deliveries queued by the relay (the rest is the
    # workers' and the receivers'), to tell a relay that falls behind from workers that do
    queued = sorted((done - at).total_seconds() * 1000 for at, done in relayed if done is not None)
    console.print(
        f"  relay lag (event to deliveries queued): p50 {_pct(queued, 0.5):.0f} ms, "
        f"p99 {_pct(queued, 0.99):.0f} ms"
    )
    console.print(
        f"webhooks delivered={delivered} per_s={delivered / max(last - began, 1e-9):.0f} "
        f"p99_lag_ms={p99:.0f} "
        f"duplicates={sum(t.duplicates for t in tallies)} lost={lost} retried={retried}",
        soft_wrap=True,
    )
