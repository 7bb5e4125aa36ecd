"""`entrepot bench flash`: a flash sale of one hot SKU over HTTP against PostgreSQL, with faults.

A fresh database on the given server gets one SKU, many buyers with keys, and two sales of `stock`
units each: a `row_lock` sale (one transaction per request: lock the sale row, decide, write: the naive
`SELECT ... FOR UPDATE` deduction) and a `batched` sale (requests coalesced, one transaction per batch).
The API runs as separate single-process uvicorn servers, one port each, clients spread over them as a
load balancer would. Every buyer first opens the sale page (which also warms each server's key cache),
then the buyers rush: each asks for one unit and pays at once. The naive sale runs until it sells out;
the batched sale gets every buyer. With `--kill-worker` one server is killed with SIGKILL once a third
of the batched sale's units are taken; its clients retry on another server with the same Idempotency-Key.

`ENTREPOT_BENCH_FLASH_APP` (module:factory) starts the servers with another app factory than
`entrepot.api.app:create_app`, to compare two builds of the app on the same harness.

Afterwards the database is checked: units paid against stock (oversold), acknowledged orders missing
(lost), buyers over their limit, and the sale's counters against its orders (drift). Throughput is
units paid per second from the start of the rush to the last payment recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import httpx
from rich.console import Console
from sqlalchemy import func, insert, select

from entrepot.campaigns.flash.models import FlashBuyer, FlashOrder, FlashSale
from entrepot.catalog import service as catalog
from entrepot.catalog.domain import ProductSpec, SkuSpec
from entrepot.identity import service as identity
from entrepot.identity.domain import generate_key
from entrepot.identity.models import ApiKey, Buyer
from entrepot.inventory import service as inventory
from entrepot.kernel.ids import new_id
from entrepot.organization import service as organization
from entrepot.organization.domain import MarketSpec
from entrepot.platform.db import Database
from entrepot.schema import upgrade
from entrepot.simulation import lean_http
from entrepot.simulation.bench_checkout import _free_port, _fresh_database, _http_baseline, _wait_ready
from entrepot.simulation.demo import seed_organisation
from entrepot.simulation.flash_load import API, Phase, Seeded, open_sale_page, provider_retries, rush


@dataclass(frozen=True)
class Outcome:
    sold: int
    oversold: int
    lost: int
    over_limit: int
    drift: int
    waiting: int
    orders_per_s: float


def run(
    console: Console,
    server_url: str,
    stock: int,
    buyers: int,
    concurrency: int,
    workers: int,
    kill_worker: bool,
) -> None:
    url, drop = _fresh_database(server_url)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        db = Database(url)
        seeded = _seed(db, stock, buyers)
        ports = [_free_port() for _ in range(workers)]
        servers = [_start_api(url, port, workers) for port in ports]
        for port in ports:
            _wait_ready(port)
        naive_sale, sale = (_create_sale(ports[0], seeded, stock, s) for s in ("row_lock", "batched"))
        console.print(f"{buyers} buyers open the sale page ({workers} API servers, {concurrency} clients)")
        lean_http.run(open_sale_page(ports, seeded, sale, concurrency))
        console.print(f"naive rush (row_lock) until {stock} units are sold out")
        naive = lean_http.run(rush(ports, seeded, naive_sale, concurrency, stop_when_sold_out=True))
        naive_outcome = _check(db, naive_sale, naive, stock)
        console.print(
            f"batched rush: {buyers} buyers" + (", killing one API server mid-run" if kill_worker else "")
        )
        kill_at = stock // 3 if kill_worker else None
        retry = partial(provider_retries, db, sale_ref=sale)
        batched = lean_http.run(
            rush(ports, seeded, sale, concurrency, kill_at=kill_at, servers=servers, retry=retry)
        )
        console.print(f"batched rush over: {len(batched.latencies)} answers in {batched.seconds:.2f} s")
        survivor = next(p for p, server in zip(ports, servers, strict=True) if server.poll() is None)
        if batched.killed is not None:  # and again once the rush is over, for any it missed
            batched.redelivered += provider_retries(db, survivor, sale)
        outcome = _check(db, sale, batched, stock)
        baseline = asyncio.run(
            _http_baseline(
                [p for p, sv in zip(ports, servers, strict=True) if sv.poll() is None], concurrency, 3.0
            )
        )
        _report(console, naive, naive_outcome, batched, outcome, stock, concurrency, workers, baseline)
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        drop()


def _seed(db: Database, stock: int, buyers: int) -> Seeded:
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as s:
        seed_organisation(s, now - dt.timedelta(days=1))
        spec = MarketSpec("SG", "SGD", "en_SG", "Asia/Singapore", Decimal("0.09"))
        organization.create_market(s, "lazada", spec, True, 199, 399, now)
        warehouse = inventory.create_warehouse(s, "sg-tuas", "Tuas", "SG", 1.32, 103.65, now)
        seller = catalog.create_seller(s, "Flash seller", "SG", ["lazada"], now)
        product = ProductSpec("flash", "Hot item", "electronics", "851762", "CN")
        catalog.create_product(s, seller, product, [SkuSpec("HOT-1", 300, 200, 150, 50)], now)
        sku = catalog.seller_skus(s, seller.id)[0]
        catalog.set_price(s, sku, "lazada-sg", 19900, "SGD")
        inventory.set_on_hand(s, sku, warehouse, 2 * stock)  # one sale's worth for each strategy
        operator_key = identity.create_api_key(s, "operator", "bench", now)[1]
        keys = _bulk_buyers(s, buyers, now)
    return Seeded(sku.public_id, operator_key, keys)


def _bulk_buyers(session: object, count: int, now: dt.datetime) -> list[str]:
    """Buyers and their keys in two bulk inserts: 20,000 one by one would take longer than the rush."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    buyer_rows = [
        {
            "public_id": new_id("buy"),
            "name": f"flash buyer {i}",
            "country": "SG",
            "latitude": 1.30,
            "longitude": 103.85,
            "created_at": now,
        }
        for i in range(count)
    ]
    ids = (
        session.execute(insert(Buyer).returning(Buyer.id, sort_by_parameter_order=True), buyer_rows)
        .scalars()
        .all()
    )
    keys, key_rows = [], []
    for i, buyer_id in enumerate(ids):
        new_key = generate_key()
        keys.append(new_key.plaintext)
        key_rows.append(
            {
                "public_id": new_id("key"),
                "prefix": new_key.prefix,
                "secret_hash": new_key.secret_hash,
                "role": "buyer",
                "seller_id": None,
                "buyer_id": buyer_id,
                "name": f"flash {i}",
                "created_at": now,
            }
        )
    session.execute(insert(ApiKey), key_rows)
    return keys


def _start_api(url: str, port: int, servers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENTREPOT_ENV": "development",  # a bench on this machine, signing with the published secret
        "ENTREPOT_DATABASE_URL": url,
        "ENTREPOT_PAYMENT_DECLINE_RATE": "0",
        "ENTREPOT_RUN_SWEEPER": "true",
        "ENTREPOT_RUN_RELAY": "false",  # outbox events wait for the relay; the rush is what is measured
        "ENTREPOT_API_KEY_CACHE_SECONDS": "3600",
        "ENTREPOT_FX_MAX_STALENESS_DAYS": "3660",
        # 2 x pool per server must stay well under PostgreSQL's max_connections (100), shared with others
        "ENTREPOT_DB_POOL_SIZE": str(max(4, 40 // max(servers, 1) // 2)),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        os.environ.get("ENTREPOT_BENCH_FLASH_APP", "entrepot.api.app:create_app"),  # to compare builds
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        # a client's connection to one server idles while it waits on the other: keep it open as a load
        # balancer's pool would, rather than uvicorn's 5 s (a request written as it closes gets a reset)
        "--timeout-keep-alive",
        "60",
    ]
    return subprocess.Popen(command, env=env)


def _create_sale(port: int, seeded: Seeded, stock: int, strategy: str) -> str:
    now = dt.datetime.now(dt.UTC)
    body = {
        "sku": seeded.sku,
        "market": "lazada-sg",
        "sale_price_minor": 9900,
        "stock": stock,
        "per_buyer_limit": 1,
        "starts_at": (now - dt.timedelta(seconds=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
        "reservation_ttl_seconds": 600,
        "strategy": strategy,
    }
    headers = {"Authorization": f"Bearer {seeded.operator_key}"}
    response = httpx.post(f"http://127.0.0.1:{port}{API}/flash-sales", json=body, headers=headers, timeout=30)
    response.raise_for_status()
    sale: str = response.json()["id"]
    return sale


def _check(db: Database, sale_ref: str, phase: Phase, stock: int) -> Outcome:
    _wait_for_payments(db, sale_ref)
    with db.transaction() as s:
        sale = s.scalar(select(FlashSale).where(FlashSale.public_id == sale_ref))
        assert sale is not None
        units = dict(
            s.execute(
                select(FlashOrder.status, func.sum(FlashOrder.quantity))
                .where(FlashOrder.sale_id == sale.id)
                .group_by(FlashOrder.status)
            ).all()
        )
        found = set()
        for start in range(0, len(phase.acknowledged), 5000):
            chunk = phase.acknowledged[start : start + 5000]
            found |= set(s.scalars(select(FlashOrder.public_id).where(FlashOrder.public_id.in_(chunk))))
        over_limit = s.scalar(
            select(func.count())
            .select_from(FlashBuyer)
            .where(FlashBuyer.sale_id == sale.id, FlashBuyer.quantity > sale.per_buyer_limit)
        )
        last_paid = s.scalar(select(func.max(FlashOrder.paid_at)).where(FlashOrder.sale_id == sale.id))
        held = s.scalar(
            select(func.coalesce(func.sum(FlashBuyer.quantity), 0)).where(FlashBuyer.sale_id == sale.id)
        )
    paid = int(units.get("paid", 0))
    active = paid + int(units.get("reserved", 0)) + int(units.get("waiting", 0))
    drift = sum(
        (
            sale.sold != paid,
            sale.reserved != int(units.get("reserved", 0)),
            sale.waiting != int(units.get("waiting", 0)),
            int(held or 0) != active,
        )
    )
    window = (last_paid - phase.started).total_seconds() if last_paid else 0.0
    return Outcome(
        sold=paid,
        oversold=max(0, paid - stock) + max(0, sale.sold + sale.reserved - stock),
        lost=len(set(phase.acknowledged) - found),
        over_limit=int(over_limit or 0),
        drift=drift,
        waiting=int(units.get("waiting", 0)),
        orders_per_s=paid / window if window > 0 else 0.0,
    )


def _wait_for_payments(db: Database, sale_ref: str) -> None:
    """Until no payment of the sale is pending, or the pending count stops moving (those of a killed
    server never come: their reservations expire and the units go back)."""
    last, steady_since = -1, time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.transaction() as s:
            pending = s.scalar(
                select(func.count())
                .select_from(FlashOrder)
                .join(FlashSale, FlashSale.id == FlashOrder.sale_id)
                .where(FlashSale.public_id == sale_ref, FlashOrder.payment_status == "pending")
            )
        if not pending:
            return
        if pending != last:
            last, steady_since = pending, time.monotonic()
        elif time.monotonic() - steady_since > 2:
            return
        time.sleep(0.2)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction) - 1)] if ordered else 0.0


def _p99(values: list[float]) -> float:
    return _percentile(values, 0.99)


def _report(
    console: Console,
    naive: Phase,
    naive_outcome: Outcome,
    batched: Phase,
    outcome: Outcome,
    stock: int,
    concurrency: int,
    workers: int,
    baseline: float,
) -> None:
    for name, phase, result in (("naive", naive, naive_outcome), ("batched", batched, outcome)):
        console.print(
            f"{name}: {result.sold} paid, {result.orders_per_s:.0f} units paid/s,"
            f" p50 {_percentile(phase.latencies, 0.5):.1f} ms, p99 {_p99(phase.latencies):.1f} ms"
            f" (sold {_p99(phase.sold_latencies):.1f} ms), last unit taken at {phase.last_sold_s:.2f} s,"
            f" answers {dict(sorted(phase.statuses.items()))}, retries {phase.retries},"
            f" errors {phase.errors}, waiting {result.waiting}, drift {result.drift},"
            f" over limit {result.over_limit},"
            f" {phase.seconds:.2f} s, redelivered {phase.redelivered}"
            + (f", killed pid {phase.killed}" if phase.killed else "")
        )
    ratio = outcome.orders_per_s / naive_outcome.orders_per_s if naive_outcome.orders_per_s else 0.0
    print(
        f"flash orders_per_s={outcome.orders_per_s:.0f} p99_ms={_p99(batched.latencies):.1f}"
        f" sold={outcome.sold} stock={stock} oversold={outcome.oversold + naive_outcome.oversold}"
        f" lost={outcome.lost + naive_outcome.lost} naive_ratio={ratio:.2f}"
        f" naive_orders_per_s={naive_outcome.orders_per_s:.0f} p99_sold_ms={_p99(batched.sold_latencies):.1f}"
        f" over_limit={outcome.over_limit + naive_outcome.over_limit}"
        f" drift={outcome.drift + naive_outcome.drift} errors={batched.errors}"
        f" killed={int(batched.killed is not None)} clients={concurrency} servers={workers}"
        f" http_baseline_rps={baseline:.0f} load1={os.getloadavg()[0]:.2f}",
        flush=True,
    )
