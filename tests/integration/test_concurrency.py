"""Real parallel clients over HTTP against API worker processes on PostgreSQL.

The API runs under uvicorn with two worker processes; each client is its own thread with its own HTTP
connection, released together by a barrier so that they really race.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from entrepot.catalog import service as catalog
from entrepot.identity import service as identity
from entrepot.inventory import service as inventory
from entrepot.inventory.models import Stock
from entrepot.ordering.models import IdempotencyKey, Order, Payment
from entrepot.platform.db import Database
from tests.waiting import wait_for
from tests.world import World, build_world

# One server for the module's tests, so in one worker process (pytest-xdist's loadgroup).
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("concurrency")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def pg_world(pg_database: Database) -> World:
    return build_world(pg_database)


@pytest.fixture(scope="module")
def live_api(postgres_url: str) -> Iterator[str]:
    """Two workers started once for the module, on the session's database, which each test empties and
    fills with a world of its own (pg_world): nothing a test makes is cached under a key another reuses."""
    port = _free_port()
    env = {
        **os.environ,
        "ENTREPOT_DATABASE_URL": postgres_url,
        "ENTREPOT_PAYMENT_DECLINE_RATE": "0",
        "ENTREPOT_RUN_SWEEPER": "false",
        # the server runs on today's clock; allow the bundled ECB history to be old
        "ENTREPOT_FX_MAX_STALENESS_DAYS": "3660",
        "ENTREPOT_DB_POOL_SIZE": "20",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "entrepot.api.app:create_app",
        "--factory",
        "--port",
        str(port),
    ]
    server = subprocess.Popen([*command, "--workers", "2", "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    def up() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"the API exited with {server.returncode}")
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, "the API to come up", timeout=60)


def _race(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            results[index] = work(client, index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _settled(db: Database) -> None:
    """Wait for every payment webhook (delivered after the response) to be applied."""

    def none_pending() -> bool:
        with db.transaction() as s:
            return not s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "pending"))

    wait_for(none_pending, "every payment to be applied", timeout=60)


def _buyer_keys(world: World, count: int) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    keys = []
    with world.db.transaction() as s:
        for i in range(count):
            buyer = identity.create_buyer(s, f"racer {i}", "SG", now, 1.3, 103.8)
            keys.append(
                identity.create_api_key(s, "buyer", f"racer {i}", now, buyer_public_id=buyer.public_id)[1]
            )
    return keys


def test_64_buyers_race_for_the_last_10_units(pg_world: World, live_api: str) -> None:
    sku = pg_world.ids["seller_b_red"]
    with pg_world.db.transaction() as s:
        inventory.set_on_hand(s, catalog.get_sku(s, sku), inventory.get_warehouse(s, "sg-tuas"), 10)
    keys = _buyer_keys(pg_world, 64)

    def buy(client: httpx.Client, index: int) -> int:
        headers = {"Authorization": f"Bearer {keys[index]}", "Idempotency-Key": f"race-{index:04d}"}
        body = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 1}]}
        placed = client.post(f"{live_api}/api/v1/orders", json=body, headers=headers)
        if placed.status_code != 201:
            assert placed.status_code == 409, placed.text
            assert placed.json()["type"].endswith("/insufficient-stock")
            return 0
        paid = client.post(
            f"{live_api}/api/v1/orders/{placed.json()['id']}/pay", json={"method": "card"}, headers=headers
        )
        assert paid.status_code == 202, paid.text
        return 1

    outcomes = _race(64, buy)
    _settled(pg_world.db)
    assert sum(outcomes) == 10
    with pg_world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Order).where(Order.status == "paid")) == 10
        stock = s.execute(select(Stock.on_hand, Stock.reserved).where(Stock.on_hand >= 0)).all()
        assert s.scalar(select(func.min(Stock.on_hand - Stock.reserved))) == 0
        row = s.execute(
            select(Stock.on_hand, Stock.reserved).where(
                Stock.sku_id == catalog.get_sku(s, sku).id,
            )
        ).one()
    assert tuple(row) == (0, 0)
    assert all(on_hand >= reserved >= 0 for on_hand, reserved in stock)


def test_one_idempotency_key_sent_20_times_at_once_makes_one_order(pg_world: World, live_api: str) -> None:
    sku = pg_world.ids["seller_a_red"]
    headers = {**pg_world.auth("buyer_a"), "Idempotency-Key": "same-key-for-all-20"}
    body = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 2}]}

    def place(client: httpx.Client, _: int) -> tuple[int, str]:
        response = client.post(f"{live_api}/api/v1/orders", json=body, headers=headers)
        return response.status_code, response.json()["id"]

    results = _race(20, place)
    assert {status for status, _ in results} <= {200, 201}
    assert [status for status, _ in results].count(201) == 1
    assert len({order_id for _, order_id in results}) == 1
    with pg_world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        reserved = s.scalar(
            select(func.sum(Stock.reserved)).where(Stock.sku_id == catalog.get_sku(s, sku).id)
        )
    assert reserved == 2
