"""`entrepot bench checkout`: order placement and payment over HTTP against PostgreSQL.

A fresh database on the given server is seeded with one market, many SKUs and one buyer per client;
the API runs in its own worker processes; concurrent clients on loopback (`lean_http`, on uvloop: the
load generator shares the cores it measures) place an order (a basket of 1 to 3 distinct SKUs drawn
from all of them, one unit each) and pay for it, for a fixed time. Paid orders are counted in the
database afterwards, once every webhook has landed, and every SKU's sales (summed over the lines of
paid orders) are checked against its stock (oversold).

With `kill_worker`, the first API worker is killed (SIGKILL) half-way through the load and not restarted.
A client whose answer is lost sends the same request with the same Idempotency-Key again, to a worker
still alive (as a load balancer would route it), until it is answered. Afterwards `lost` counts the
acknowledged orders the database does not hold and `doubled` the orders no key claims (both must be 0);
the payments whose webhooks died with the worker are settled by the survivor's reconciliation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from entrepot.bootstrap import build_context
from entrepot.catalog import service as catalog
from entrepot.catalog.domain import ProductSpec, SkuSpec
from entrepot.identity import service as identity
from entrepot.inventory import service as inventory
from entrepot.inventory.models import Stock
from entrepot.ordering import checkout, placing
from entrepot.ordering import service as ordering
from entrepot.ordering.models import IdempotencyKey, Order, OrderLine, Payment
from entrepot.ordering.payments import parse_event
from entrepot.ordering.shipping import FlatZoneRates
from entrepot.organization import service as organization
from entrepot.organization.domain import MarketSpec
from entrepot.platform.db import Database
from entrepot.platform.principal import Principal
from entrepot.platform.settings import Settings
from entrepot.schema import upgrade
from entrepot.simulation.demo import seed_organisation
from entrepot.simulation.lean_http import Connection, HttpError
from entrepot.simulation.lean_http import run as run_clients

STOCK_PER_SKU = 1_000_000
RETRIES = 20  # a client's tries of one order when its answers are lost (a killed worker)
ANSWER_TIMEOUT_S = 60.0  # a server that hangs fails the order (an error) rather than the bench
# The batch sql_per_checkout is counted over: about what each of the 2 servers' coalescers gathers from
# 64 clients (32 each)
COUNTED_BATCH = 32
BASKET_SIZES = (1, 2, 3)  # SKUs an order holds, drawn uniformly (issue 18: baskets of 1-3 SKUs)


@dataclass
class Load:
    """What the clients saw: latencies of answered orders, errors, requests, and with a kill, the order
    each acknowledged answer carried and how many requests were sent again."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    requests: int = 0
    retried: int = 0
    acknowledged: list[str] = field(default_factory=list)


@dataclass
class Seeded:
    skus: list[str]
    buyer_keys: list[str]
    buyers: list[Principal]


def run(
    console: Console,
    server_url: str,
    duration: float,
    concurrency: int,
    workers: int,
    sku_count: int,
    kill_worker: bool = False,
) -> None:
    url, drop = _fresh_database(server_url)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        db = Database(url)
        seeded = _seed(db, sku_count, concurrency)
        sql_single, sql_per_checkout = _count_statements(db, seeded, COUNTED_BATCH)
        ports = [_free_port() for _ in range(workers)]
        servers = [_start_api(url, port, workers, concurrency) for port in ports]
        for port in ports:
            _wait_ready(port)
        console.print(
            f"load: {concurrency} clients, {workers} API workers, {sku_count} SKUs, {duration:.0f} s"
        )
        baseline = run_clients(_http_baseline(ports, concurrency, min(duration, 5.0)))
        victim = servers[0] if kill_worker else None
        cpu_before, client_cpu_before = _cpu_seconds(servers), time.process_time()
        load = run_clients(_load(ports, seeded, duration, concurrency, victim))
        cpu = _cpu_seconds(servers) - cpu_before
        client_cpu = time.process_time() - client_cpu_before  # the load generator's, on the same cores
        latencies, errors, requests = load.latencies, load.errors, load.requests
        # the webhooks a killed worker took with it wait for the survivor's reconciliation (30 s and more)
        _wait_settled(db, 180 if kill_worker else 60)
        paid, oversold = _outcome(db)
        paid -= 1 + COUNTED_BATCH  # the orders _count_statements placed and paid are not the load's
        rate = paid / duration
        checkout_ms = sorted(latencies)
        p50 = statistics.median(checkout_ms) if checkout_ms else 0.0
        p99 = checkout_ms[int(len(checkout_ms) * 0.99) - 1] if checkout_ms else 0.0
        console.print(
            f"{paid} paid orders in {duration:.0f} s; {requests} HTTP requests; {errors} errors;"
            f" {sql_single} SQL statements per checkout alone (place and pay, then the webhook),"
            f" {sql_per_checkout:.1f} per checkout in a batch of {COUNTED_BATCH}"
        )
        print(
            f"checkout orders_per_s={rate:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f}"
            f" errors={errors}"
            f" oversold={oversold} sql_per_checkout={sql_per_checkout:.1f} sql_single={sql_single}"
            f" clients={concurrency} workers={workers} http_baseline_rps={baseline:.0f}"
            f" baseline_ratio={rate / baseline if baseline else 0:.3f}"
            f" server_cpu_ms_per_order={1000 * cpu / paid if paid else 0:.2f}"
            f" client_cpu_ms_per_order={1000 * client_cpu / paid if paid else 0:.2f}"
            + (_kill_outcome(db, load) if kill_worker else ""),
            flush=True,
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        drop()


def _fresh_database(server_url: str) -> tuple[str, Callable[[], None]]:
    name = f"entrepot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def _seed(db: Database, sku_count: int, buyers: int) -> Seeded:
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as s:
        seed_organisation(s, now - dt.timedelta(days=1))
        spec = MarketSpec("SG", "SGD", "en_SG", "Asia/Singapore", Decimal("0.09"))
        organization.create_market(s, "lazada", spec, True, 199, 399, now)
        warehouses = [
            inventory.create_warehouse(s, "sg-tuas", "Tuas", "SG", 1.32, 103.65, now),
            inventory.create_warehouse(s, "sg-changi", "Changi", "SG", 1.35, 103.99, now),
        ]
        seller = catalog.create_seller(s, "Bench seller", "SG", ["lazada"], now)
        skus = [SkuSpec(f"B{i:06d}", 300, 200, 150, 50) for i in range(sku_count)]
        catalog.create_product(
            s, seller, ProductSpec("bench", "Bench item", "electronics", "851762", "CN"), skus, now
        )
        sku_ids = []
        for sku in catalog.seller_skus(s, seller.id):
            catalog.set_price(s, sku, "lazada-sg", 1990, "SGD")
            for warehouse in warehouses:
                inventory.set_on_hand(s, sku, warehouse, STOCK_PER_SKU)
            sku_ids.append(sku.public_id)
        keys, principals = [], []
        for i in range(buyers):
            buyer = identity.create_buyer(s, f"Bench buyer {i}", "SG", now, 1.30, 103.85)
            keys.append(
                identity.create_api_key(s, "buyer", f"bench {i}", now, buyer_public_id=buyer.public_id)[1]
            )
            principals.append(identity.principal_for_buyer(buyer, "bench"))
    return Seeded(sku_ids, keys, principals)


def basket(rng: random.Random, skus: list[str]) -> list[str]:
    """An order's SKUs: 1 to 3 distinct ones (fewer when there are fewer SKUs), uniformly."""
    return rng.sample(skus, min(rng.choice(BASKET_SIZES), len(skus)))


def _count_statements(db: Database, seeded: Seeded, batch: int) -> tuple[int, float]:
    """SQL statements of checkouts (place the order and start paying, then apply the webhook): of one
    order alone, and per order of a batch of `batch` orders placed in one transaction and paid in
    another, as the API's coalescers place concurrent orders and apply concurrent webhooks. Baskets as
    the load's, drawn with a fixed seed, so runs count the same orders."""
    settings = Settings(database_url=db.url, payment_decline_rate=0.0, fx_max_staleness_days=3660)
    ctx = build_context(settings, db)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    def checkouts(keys: list[str]) -> int:
        nonlocal statements
        statements = 0
        now = dt.datetime.now(dt.UTC)
        pay_now = checkout.PayNow("card", ctx.payments)
        rng = random.Random(len(keys))
        requests = [
            placing.PlaceRequest(
                seeded.buyers[i % len(seeded.buyers)],
                checkout.Basket("lazada-sg", None, [(sku, 1) for sku in basket(rng, seeded.skus)]),
                key,
                key,
                pay_now,
            )
            for i, key in enumerate(keys)
        ]
        with db.transaction() as s:
            terms = placing.Placing(ctx.limits, ctx.fx, now, FlatZoneRates())
            placed = placing.place_orders(s, requests, terms)
        events = []
        for outcome in placed:
            assert isinstance(outcome, checkout.Placed) and outcome.delivery is not None, outcome
            events.append(parse_event(outcome.delivery.body))
        with db.transaction() as s:  # the webhooks, batched as the API's coalescer batches them
            paid = ordering.apply_payment_events(s, events, now)
        assert paid == ["paid"] * len(events), paid
        return statements

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        single = checkouts(["count-1"])
        batched = checkouts([f"count-batch-{i}" for i in range(batch)])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return single, batched / batch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_api(url: str, port: int, workers: int, concurrency: int) -> subprocess.Popen[bytes]:
    """One single-process API server. The benchmark runs one per worker on its own port and spreads
    clients over them, as a load balancer would: uvicorn's own --workers share one listening socket,
    and keep-alive connections then pile onto whichever process accepted first."""
    env = {
        **os.environ,
        "ENTREPOT_ENV": "development",  # a bench on this machine, signing with the published secret
        "ENTREPOT_DATABASE_URL": url,
        "ENTREPOT_PAYMENT_DECLINE_RATE": "0",
        "ENTREPOT_RUN_SWEEPER": "true",
        # one key per client ordering as fast as the servers answer: counted (the limiter's cost is part of
        # what is measured), never refused
        "ENTREPOT_RATE_LIMIT_BUYER": "1000000000/minute",
        "ENTREPOT_FX_MAX_STALENESS_DAYS": "3660",
        # 2 x pool per process (pool + overflow) x processes must stay under PostgreSQL max_connections (100)
        "ENTREPOT_DB_POOL_SIZE": str(max(4, min(16, concurrency // max(workers, 1) // 4))),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "entrepot.api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env)


def _wait_ready(port: int) -> None:
    import httpx

    # importing the app takes 20 s and more when the machine is busy, and the servers start together
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the API did not start within 180 s")


async def _load(
    ports: list[int],
    seeded: Seeded,
    duration: float,
    concurrency: int,
    victim: subprocess.Popen[bytes] | None = None,
) -> Load:
    """Clients place orders until `duration` runs out; with a `victim`, it is killed half-way."""
    load = Load()
    alive = list(ports)
    deadline = time.perf_counter() + duration

    async def kill() -> None:
        assert victim is not None
        await asyncio.sleep(duration / 2)
        victim.kill()
        alive.remove(ports[0])  # the load balancer stops sending it requests

    async def client(index: int) -> None:
        rng = random.Random(index)
        headers = {"Authorization": f"Bearer {seeded.buyer_keys[index]}"}
        connections = {port: Connection("127.0.0.1", port) for port in ports}  # one kept per server
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            body: dict[str, object] = {
                "market": "lazada-sg",
                "lines": [{"sku": sku, "quantity": 1} for sku in basket(rng, seeded.skus)],
                "payment_method": "card",
            }
            order_headers = {**headers, "Idempotency-Key": f"bench-{index}-{n}"}
            started = time.perf_counter()
            order = await _place(connections, alive, index, body, order_headers, load, victim is not None)
            if order is None:
                load.errors += 1  # counted, never hidden: the summary line reports them
                continue
            load.latencies.append((time.perf_counter() - started) * 1000)
            if victim is not None:
                load.acknowledged.append(order)
        for connection in connections.values():
            connection.close()

    tasks = [client(i) for i in range(concurrency)]
    await asyncio.gather(*tasks, *([kill()] if victim is not None else []))
    return load


async def _place(
    connections: dict[int, Connection],
    alive: list[int],
    index: int,
    body: dict[str, object],
    headers: dict[str, str],
    load: Load,
    read_id: bool,
) -> str | None:
    """POST the order, again with the same key while its answer is lost; once it is placed (201) or
    replayed (200), the order's id (read only when asked: it costs the clients' CPU, which the servers
    share), else ""; None when refused or never answered."""
    raw = json.dumps(body).encode()
    for attempt in range(RETRIES):
        port = alive[(index + attempt) % len(alive)]
        load.requests += 1
        load.retried += attempt > 0
        try:
            status, answer = await connections[port].request(
                "POST", "/api/v1/orders", headers, raw, ANSWER_TIMEOUT_S
            )
        except HttpError:
            await asyncio.sleep(0.05)
            continue
        if status not in (200, 201):
            return None
        return str(json.loads(answer)["id"]) if read_id else ""
    return None


async def _http_baseline(ports: list[int], concurrency: int, duration: float) -> float:
    """Requests per second the same clients and servers manage on GET /healthz (no database), in this
    run: the ceiling that HTTP and Python alone put on this machine today."""
    done = 0
    deadline = time.perf_counter() + duration

    async def client(index: int) -> None:
        nonlocal done
        connection = Connection("127.0.0.1", ports[index % len(ports)])
        while time.perf_counter() < deadline:
            try:
                status, _ = await connection.request("GET", "/healthz", {}, timeout=ANSWER_TIMEOUT_S)
            except HttpError:
                continue
            done += status == 200
        connection.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return done / duration


def _wait_settled(db: Database, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.transaction() as s:
            if not s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "pending")):
                return
        time.sleep(0.5)


def _outcome(db: Database) -> tuple[int, int]:
    """Paid orders, and units sold beyond the stock there was (must be 0)."""
    with db.transaction() as s:
        paid = s.scalar(select(func.count()).select_from(Order).where(Order.status == "paid")) or 0
        sold = dict(
            s.execute(
                select(OrderLine.sku_id, func.sum(OrderLine.quantity))
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.status == "paid")
                .group_by(OrderLine.sku_id)
            ).all()
        )
        left = dict(s.execute(select(Stock.sku_id, func.sum(Stock.on_hand)).group_by(Stock.sku_id)).all())
        negative = s.scalar(
            select(func.count())
            .select_from(Stock)
            .where((Stock.on_hand < 0) | (Stock.reserved > Stock.on_hand))
        )
    oversold = sum(max(0, int(sold.get(sku, 0)) - (2 * STOCK_PER_SKU - int(left[sku]))) for sku in left)
    return int(paid), oversold + int(negative or 0)


def _kill_outcome(db: Database, load: Load) -> str:
    """The summary line's part for a run with a killed worker: acknowledged orders the database does not
    hold (lost) and orders no Idempotency-Key claims (doubled), both 0 when batches are all-or-nothing."""
    with db.transaction() as s:
        stored = set(s.scalars(select(Order.public_id)))
        claimed = set(s.scalars(select(IdempotencyKey.order_ref)))
    lost = len(set(load.acknowledged) - stored)
    return f" kill_worker=1 lost={lost} doubled={len(stored - claimed)} retried={load.retried}"


def _cpu_seconds(servers: list[subprocess.Popen[bytes]]) -> float:
    """CPU time (user and system) the API servers have used so far, from /proc (Linux; 0 elsewhere, and
    for a server already gone). Per order, it is the figure that other load on the machine moves least:
    a busy machine slows every request, it does not make one cost more CPU."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for server in servers:
        try:
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total / ticks
