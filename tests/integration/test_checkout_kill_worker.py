"""An API worker killed (SIGKILL) in the middle of a checkout rush, on PostgreSQL, over HTTP.

48 buyers place orders (pay at placement) through two uvicorn workers, whose coalescers batch them,
a connection per request (kept-alive connections would all stay with the worker that accepted them
first, and the kill could miss them all); once the first answers are in, one worker is killed, and each
buyer places 3 more orders after that. A client whose request dies with the worker sends it again with
the same Idempotency-Key and body (uvicorn replaces the dead worker; the retry lands on either).
The batch in flight in the dead worker either committed (the retry gets that order back, 200) or
rolled back entirely (the retry places it, 201): no acknowledged order is lost, none is doubled, no
half-written order or stray reservation is left, and afterwards every key replays its own order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from entrepot.catalog import service as catalog
from entrepot.inventory import service as inventory
from entrepot.inventory.models import Reservation, Stock
from entrepot.ordering.models import IdempotencyKey, Order, OrderLine
from entrepot.platform.db import Database
from tests.integration.test_concurrency import _buyer_keys, _free_port, _race, _wait_until_up
from tests.world import World, build_world

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("checkout-kill")]

BUYERS, STOCK = 48, 100_000
AFTER_THE_KILL = 3  # orders each buyer places once the worker is dead, so that the kill meets a rush
MOST_ORDERS = 500  # a buyer's bound, should the kill never come
RETRIES = 40  # a client's tries of one order while the worker it talked to is being replaced


@pytest.fixture
def pg_world(pg_database: Database) -> World:
    return build_world(pg_database)


@pytest.fixture
def server(postgres_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Two workers for this test alone (the kill must not reach another test's server)."""
    port = _free_port()
    env = {
        **os.environ,
        "ENTREPOT_DATABASE_URL": postgres_url,
        "ENTREPOT_PAYMENT_DECLINE_RATE": "0",
        "ENTREPOT_RUN_SWEEPER": "false",  # nothing expires or is reconciled behind the test's back
        "ENTREPOT_FX_MAX_STALENESS_DAYS": "3660",
        "ENTREPOT_DB_POOL_SIZE": "10",
    }
    command = [sys.executable, "-m", "uvicorn", "entrepot.api.app:create_app", "--factory"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2", "--log-level", "warning"], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _workers(supervisor: int) -> list[int]:
    """The supervisor's worker processes (not its other children, such as multiprocessing's resource
    tracker, whose death would cut no request short)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # user and system time


def _post(client: httpx.Client, base: str, api_key: str, key: str, sku: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": key, "Connection": "close"}
    body = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 1}], "payment_method": "card"}
    return client.post(f"{base}/api/v1/orders", json=body, headers=headers)


def test_a_worker_killed_mid_checkout_loses_no_acknowledged_order_and_doubles_none(
    pg_world: World, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, process = server
    sku = pg_world.ids["seller_b_red"]
    with pg_world.db.transaction() as s:
        inventory.set_on_hand(s, catalog.get_sku(s, sku), inventory.get_warehouse(s, "sg-tuas"), STOCK)
    api_keys = _buyer_keys(pg_world, BUYERS)
    acknowledged: dict[str, str] = {}  # Idempotency-Key -> the order id its answer carried
    retried: list[str] = []
    answered = threading.Event()
    lock = threading.Lock()

    def place(client: httpx.Client, key: str, api_key: str) -> int:
        for _ in range(RETRIES):
            try:
                response = _post(client, base, api_key, key, sku)
            except httpx.TransportError:  # the worker died with the request: the same key again
                with lock:
                    retried.append(key)
                time.sleep(0.1)
                continue
            assert response.status_code in (200, 201), response.text
            with lock:
                acknowledged[key] = response.json()["id"]
            if len(acknowledged) >= BUYERS:  # every buyer under way: a rush on both workers
                answered.set()
            return response.status_code
        return 0

    killed = threading.Event()

    def buyer(client: httpx.Client, index: int) -> list[int]:
        statuses: list[int] = []
        after = 0
        while after < AFTER_THE_KILL and len(statuses) < MOST_ORDERS:
            after += killed.is_set()
            statuses.append(place(client, f"kill-{index}-{len(statuses)}", api_keys[index]))
        return statuses

    def killer() -> None:
        answered.wait(60)
        os.kill(max(_workers(process.pid), key=_cpu_ticks), signal.SIGKILL)  # the one serving most
        killed.set()

    threading.Thread(target=killer).start()
    statuses = [status for each in _race(BUYERS, buyer) for status in each]
    assert 0 not in statuses  # every order was answered in the end
    assert retried, "the kill cut no request short: nothing was tested"
    assert len(acknowledged) == len(statuses)
    _assert_each_key_has_its_one_order(pg_world, acknowledged)
    _assert_no_half_written_order(pg_world, sku)
    _assert_every_key_replays_its_order(base, api_keys, acknowledged, sku)


def _assert_each_key_has_its_one_order(world: World, acknowledged: dict[str, str]) -> None:
    with world.db.transaction() as s:
        claims = dict(s.execute(select(IdempotencyKey.key, IdempotencyKey.order_ref)).all())
        orders = set(s.scalars(select(Order.public_id)))
    assert set(acknowledged.values()) <= orders  # lost = 0
    assert {key: claims.get(key) for key in acknowledged} == acknowledged  # the order each key was told
    assert len(orders) == len(acknowledged)  # doubled = 0: no order besides the acknowledged ones


def _assert_no_half_written_order(world: World, sku: str) -> None:
    """Every order has its line and its reservation, every reservation its order, and the stock row
    holds exactly what the orders took (sold when paid, reserved while pending)."""
    with world.db.transaction() as s:
        sku_id = catalog.get_sku(s, sku).id
        ordered = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.sku_id == sku_id))
        orders = s.scalar(select(func.count()).select_from(Order))
        lines = s.scalar(select(func.count(func.distinct(OrderLine.order_id))))
        refs = set(s.scalars(select(Reservation.order_ref)))
        order_refs = set(s.scalars(select(Order.public_id)))
        on_hand, reserved = s.execute(
            select(Stock.on_hand, Stock.reserved).where(Stock.sku_id == sku_id)
        ).one()
    assert orders == lines
    assert refs == order_refs
    assert (STOCK - on_hand) + reserved == ordered


def _assert_every_key_replays_its_order(
    base: str, api_keys: list[str], acknowledged: dict[str, str], sku: str
) -> None:
    with httpx.Client(timeout=60) as client:
        replayed: dict[str, Any] = {}
        for key in acknowledged:
            index = int(key.split("-")[1])
            response = _post(client, base, api_keys[index], key, sku)
            assert response.status_code == 200, response.text
            replayed[key] = response.json()["id"]
    assert replayed == acknowledged
