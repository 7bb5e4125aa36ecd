"""Flash sales raced by real parallel clients over HTTP against uvicorn workers on PostgreSQL.

Each client is its own thread with its own connection, released together by a barrier. The API runs
with two worker processes; one test kills one of them with SIGKILL in the middle of the rush.
"""

from __future__ import annotations

import datetime as dt
import json
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
from sqlalchemy import func, select, update

from entrepot.campaigns.flash.models import FlashBuyer, FlashOrder, FlashSale
from entrepot.ordering.payments import sign
from entrepot.platform.db import Database
from entrepot.platform.settings import Settings
from tests.integration.test_concurrency import _buyer_keys, _free_port, _race, _wait_until_up
from tests.waiting import wait_for
from tests.world import World, build_world

# One server for the module's tests, so in one worker process (pytest-xdist's loadgroup).
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("flash-server")]
API = "/api/v1"


@pytest.fixture
def pg_world(pg_database: Database) -> World:
    return build_world(pg_database)


@pytest.fixture
def server(postgres_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Two workers started for each test, on the session's database, which each test empties and fills
    with a world of its own (pg_world). Not once per module: emptying restarts the ids, and a rush's
    runtime keeps state by sale and buyer id, so a server that lived through the test before would
    take this test's sale 1 and buyers for that one's (seen: holders refused with 409 under xdist).
    Uvicorn replaces a worker that was killed."""
    port = _free_port()
    env = {
        **os.environ,
        "ENTREPOT_DATABASE_URL": postgres_url,
        "ENTREPOT_PAYMENT_DECLINE_RATE": "0",
        "ENTREPOT_RUN_SWEEPER": "true",
        "ENTREPOT_SWEEPER_INTERVAL_SECONDS": "0.3",
        "ENTREPOT_RUN_RELAY": "false",
        "ENTREPOT_FX_MAX_STALENESS_DAYS": "3660",
        "ENTREPOT_DB_POOL_SIZE": "10",
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
    process = subprocess.Popen([*command, "--workers", "2", "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _sale(world: World, base: str, stock: int, limit: int, ttl: int = 600) -> str:
    _stock_for_sale(world, 500)
    now = dt.datetime.now(dt.UTC)
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": stock,
        "per_buyer_limit": limit,
        "starts_at": (now - dt.timedelta(seconds=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
        "reservation_ttl_seconds": ttl,
    }
    response = httpx.post(f"{base}{API}/flash-sales", json=body, headers=world.auth("operator"), timeout=30)
    assert response.status_code == 201, response.text
    sale: str = response.json()["id"]
    return sale


def _stock_for_sale(world: World, units: int) -> None:
    from entrepot.catalog import service as catalog
    from entrepot.inventory import service as inventory

    with world.db.transaction() as s:
        sku = catalog.get_sku(s, world.ids["seller_a_red"])
        inventory.set_on_hand(s, sku, inventory.get_warehouse(s, "sg-tuas"), units)


def _post_order(
    client: httpx.Client, base: str, sale: str, key: str, idem: str, **body: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idem}
    return client.post(
        f"{base}{API}/flash-sales/{sale}/orders", json={"quantity": 1, **body}, headers=headers
    )


def _settled(db: Database, sale: str) -> None:
    def none_pending() -> bool:
        with db.transaction() as s:
            pending = s.scalar(
                select(func.count())
                .select_from(FlashOrder)
                .join(FlashSale, FlashSale.id == FlashOrder.sale_id)
                .where(FlashSale.public_id == sale, FlashOrder.payment_status == "pending")
            )
        return not pending

    wait_for(none_pending, "the flash payments to settle", timeout=30)


def _units(db: Database, sale: str) -> tuple[Any, dict[str, int], int]:
    """The sale's counters, its orders' units by status and the buyers' holdings, from one snapshot: read
    committed would let a sweeper's commit land between the reads (counters before it, orders after)."""
    with db.transaction() as s:
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        row = s.scalar(select(FlashSale).where(FlashSale.public_id == sale))
        assert row is not None
        by_status = dict(
            s.execute(
                select(FlashOrder.status, func.sum(FlashOrder.quantity))
                .where(FlashOrder.sale_id == row.id)
                .group_by(FlashOrder.status)
            ).all()
        )
        held = s.scalar(
            select(func.coalesce(func.sum(FlashBuyer.quantity), 0)).where(FlashBuyer.sale_id == row.id)
        )
    return row, {k: int(v) for k, v in by_status.items()}, int(held or 0)


def _assert_consistent(row: Any, units: dict[str, int], held: int) -> None:
    """The sale's counters are exactly what its orders say, and never more than its stock."""
    assert row.sold == units.get("paid", 0)
    assert row.reserved == units.get("reserved", 0)
    assert row.waiting == units.get("waiting", 0)
    assert row.sold + row.reserved <= row.stock
    assert held == row.sold + row.reserved + row.waiting


def test_80_buyers_race_for_12_units_and_exactly_12_are_sold(
    pg_world: World, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, _ = server
    sale = _sale(pg_world, base, stock=12, limit=1)
    keys = _buyer_keys(pg_world, 80)

    def buy(client: httpx.Client, index: int) -> tuple[int, str]:
        response = _post_order(client, base, sale, keys[index], f"race-{index:04d}", payment_method="card")
        return response.status_code, response.json().get("type", response.json().get("status"))

    results = _race(80, buy)
    _settled(pg_world.db, sale)
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 12
    assert {kind for status, kind in results if status == 409} <= {"https://entrepot.dev/problems/sold-out"}
    assert set(statuses) <= {201, 202, 409}
    row, units, held = _units(pg_world.db, sale)
    assert row.sold == 12 and units["paid"] == 12
    _assert_consistent(row, units, held)


def test_per_buyer_limit_holds_when_one_buyer_sends_many_requests_at_once(
    pg_world: World, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, _ = server
    sale = _sale(pg_world, base, stock=10, limit=2)
    keys = _buyer_keys(pg_world, 4)

    def buy(client: httpx.Client, index: int) -> int:
        return _post_order(client, base, sale, keys[index % 4], f"many-{index:04d}").status_code

    statuses = _race(48, buy)
    assert statuses.count(201) == 8  # 4 buyers x 2, with units to spare
    assert statuses.count(409) == 40
    with pg_world.db.transaction() as s:
        per_buyer = s.scalars(select(FlashBuyer.quantity)).all()
    assert sorted(per_buyer) == [2, 2, 2, 2]
    _assert_consistent(*_units(pg_world.db, sale))


def test_expired_reservations_go_to_the_waiting_line_first_come(
    pg_world: World, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, _ = server
    sale = _sale(pg_world, base, stock=4, limit=1)
    keys = _buyer_keys(pg_world, 10)
    with httpx.Client(timeout=30) as client:
        holders = [_post_order(client, base, sale, keys[i], f"hold-{i:04d}") for i in range(4)]
        assert [r.status_code for r in holders] == [201] * 4
    statuses = _race(
        6, lambda client, i: _post_order(client, base, sale, keys[4 + i], f"wait-{i:04d}").status_code
    )
    assert sorted(statuses) == [202] * 4 + [409] * 2  # 4 may wait for the 4 held units, no more
    # The holders' reservations run out now rather than after a TTL; the servers' sweepers act on their own.
    with pg_world.db.transaction() as s:
        s.execute(
            update(FlashOrder)
            .where(FlashOrder.status == "reserved", FlashOrder.idempotency_key.startswith("hold-"))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )

    def expired() -> tuple[Any, dict[str, int], int] | None:
        found = _units(pg_world.db, sale)
        return found if found[1].get("expired") == 4 else None

    row, units, held = wait_for(expired, "the sweepers to expire the 4 reservations")
    assert units.get("expired") == 4 and units.get("reserved") == 4 and "waiting" not in units
    _assert_consistent(row, units, held)
    with pg_world.db.transaction() as s:
        promoted = s.scalars(select(FlashOrder.idempotency_key).where(FlashOrder.status == "reserved")).all()
    assert len(promoted) == 4 and all(key.startswith("wait-") for key in promoted)


def _worker_pids(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_worker_killed_mid_rush_neither_oversells_nor_loses_an_order(
    pg_world: World, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, process = server
    sale = _sale(pg_world, base, stock=30, limit=1)
    keys = _buyer_keys(pg_world, 120)
    acknowledged: list[str] = []
    answered = threading.Event()
    lock = threading.Lock()

    def buy(client: httpx.Client, index: int) -> int:
        for _ in range(20):  # a client retries with the same key when its connection dies
            try:
                response = _post_order(
                    client, base, sale, keys[index], f"kill-{index:04d}", payment_method="card"
                )
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if response.status_code in (200, 201, 202):
                with lock:
                    acknowledged.append(response.json()["id"])
            answered.set()
            return response.status_code
        return 0

    def killer() -> None:
        answered.wait(30)
        os.kill(_worker_pids(process.pid)[0], signal.SIGKILL)

    threading.Thread(target=killer).start()
    statuses = _race(120, buy)
    assert 0 not in statuses
    _redeliver_pending_payments(pg_world, base)
    _settled(pg_world.db, sale)
    row, units, held = _units(pg_world.db, sale)
    assert row.sold == 30 and units["paid"] == 30
    _assert_consistent(row, units, held)
    with pg_world.db.transaction() as s:
        stored = set(s.scalars(select(FlashOrder.public_id)))
        per_buyer = s.execute(select(func.max(FlashBuyer.quantity))).scalar()
    assert set(acknowledged) <= stored  # lost = 0
    assert per_buyer == 1


def _redeliver_pending_payments(world: World, base: str) -> None:
    """The provider retries a webhook whose delivery failed (here: the worker delivering it died)."""
    secret = Settings().webhook_secret
    with world.db.transaction() as s:
        pending = s.execute(
            select(FlashOrder.payment_id, FlashOrder.amount_minor).where(
                FlashOrder.payment_status == "pending"
            )
        ).all()
    # No wait for the payments still in flight in the surviving worker: a retried webhook racing the
    # first delivery counts once (the sale's lock; the second is a duplicate), which this checks too.
    for payment_id, amount in pending:
        body = json.dumps(
            {"type": "payment.succeeded", "payment_id": payment_id, "amount_minor": amount, "currency": "SGD"}
        ).encode()
        headers = {"Entrepot-Signature": sign(secret, body, int(time.time()))}
        response = httpx.post(
            f"{base}{API}/flash-sales/payments/webhook", content=body, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
