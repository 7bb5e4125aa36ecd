"""A server killed -9 while orders are being paid: no acknowledged order is lost to a missed webhook.

Two single-process API servers on loopback share a PostgreSQL database (this session's own); 32 clients,
each its own thread and connection, place orders that pay at placement, half on each server. Once a
third of the orders are acknowledged one server is killed with SIGKILL: the webhooks it had yet to apply
die with it, and its clients go on at the other server, repeating an unanswered order with the same
Idempotency-Key. Reservations live 6 s and the surviving server sweeps every 0.5 s. When no order is
left placed, every acknowledged order must be paid or declined as the provider decided, its stock sold
or released: no payment pending, none cancelled while paid, stock conserved.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from entrepot.catalog import service as catalog
from entrepot.inventory import service as inventory
from entrepot.inventory.models import Stock
from entrepot.ordering.models import Order, OrderLine, Payment
from entrepot.platform.db import Database
from tests.integration.test_concurrency import _buyer_keys, _free_port, _race, _wait_until_up
from tests.world import World, build_world

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 32
ORDERS_PER_CLIENT = 8
KILL_AFTER = CLIENTS * ORDERS_PER_CLIENT // 3  # acknowledged orders before the kill
ON_HAND = 100_000
TTL_S = 6
SETTLE_WITHIN_S = 60  # a bound on the wait, never a measurement
REASONS = "insufficient_funds,card_declined,expired_card,fraud_suspected"


@pytest.fixture
def pg_world(pg_database: Database) -> World:
    world = build_world(pg_database)
    with world.db.transaction() as s:
        sku = catalog.get_sku(s, world.ids["seller_a_red"])
        inventory.set_on_hand(s, sku, inventory.get_warehouse(s, "sg-tuas"), ON_HAND)
    return world


def _start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENTREPOT_DATABASE_URL": url,
        "ENTREPOT_PAYMENT_DECLINE_RATE": "0.1",
        "ENTREPOT_PAYMENT_DECLINE_REASONS": REASONS,
        "ENTREPOT_RESERVATION_TTL_SECONDS": str(TTL_S),
        "ENTREPOT_RUN_SWEEPER": "true",
        "ENTREPOT_SWEEPER_INTERVAL_SECONDS": "0.5",
        "ENTREPOT_RUN_RELAY": "false",
        "ENTREPOT_FX_MAX_STALENESS_DAYS": "3660",
        "ENTREPOT_DB_POOL_SIZE": "6",
    }
    command = [sys.executable, "-m", "uvicorn", "entrepot.api.app:create_app", "--factory"]
    options = ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen([*command, *options], env=env)


@pytest.fixture
def servers(pg_world: World) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    ports = [_free_port() for _ in range(2)]
    started = [(f"http://127.0.0.1:{port}", _start_server(pg_world.db.url, port)) for port in ports]
    try:
        for base, process in started:
            _wait_until_up(base, process)
        yield started
    finally:
        for _, process in started:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


class Rush:
    """The clients' shared record: what was acknowledged, with which method, and around the kill."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: dict[str, str] = {}  # order id -> payment method
        self.enough = threading.Event()
        self.killed = threading.Event()
        self.after_kill = 0

    def ack(self, order_id: str, method: str) -> None:
        with self.lock:
            self.acknowledged[order_id] = method
            self.after_kill += self.killed.is_set()
            if len(self.acknowledged) >= KILL_AFTER:
                self.enough.set()


def _order(
    client: httpx.Client, bases: list[str], first: int, key: str, idem: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Place until answered, moving to the other server when this one does not answer."""
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idem}
    for attempt in range(20):
        base = bases[(first + attempt) % len(bases)]
        try:
            response = client.post(f"{base}/api/v1/orders", json=body, headers=headers)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer
    raise AssertionError(f"order {idem} never answered")


def _wait_until_nothing_placed(db: Database) -> None:
    deadline = time.monotonic() + SETTLE_WITHIN_S
    while time.monotonic() < deadline:
        with db.transaction() as s:
            if not s.scalar(select(func.count()).select_from(Order).where(Order.status == "placed")):
                return
        time.sleep(0.2)
    raise AssertionError(f"orders still placed {SETTLE_WITHIN_S} s after the rush")


def test_no_acknowledged_order_is_lost_when_a_server_is_killed_mid_stream(
    pg_world: World, servers: list[tuple[str, subprocess.Popen[bytes]]]
) -> None:
    keys = _buyer_keys(pg_world, CLIENTS)
    bases = [base for base, _ in servers]
    sku = pg_world.ids["seller_a_red"]
    rush = Rush()

    def buyer(client: httpx.Client, index: int) -> None:
        for n in range(ORDERS_PER_CLIENT):
            method = "decline_card_declined" if n % 4 == 3 else "card"
            body = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 1}], "payment_method": method}
            order = _order(client, bases, index % 2, keys[index], f"crash-{index}-{n}", body)
            rush.ack(order["id"], method)

    def killer() -> None:
        rush.enough.wait(SETTLE_WITHIN_S)
        servers[0][1].kill()  # SIGKILL: no shutdown, no background task finishes
        rush.killed.set()

    threading.Thread(target=killer, daemon=True).start()
    _race(CLIENTS, buyer)
    assert rush.killed.is_set() and rush.after_kill > 0, "the server was not killed mid-stream"
    assert len(rush.acknowledged) == CLIENTS * ORDERS_PER_CLIENT

    _wait_until_nothing_placed(pg_world.db)
    with pg_world.db.transaction() as s:
        orders = {
            o.public_id: o for o in s.scalars(select(Order).where(Order.public_id.in_(rush.acknowledged)))
        }
        payments = {
            order_ref: (status, reason)
            for order_ref, status, reason in s.execute(
                select(Order.public_id, Payment.status, Payment.decline_reason).join(
                    Payment, Payment.order_id == Order.id
                )
            )
        }
        pending = s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "pending"))
        paid_but_cancelled = s.scalar(
            select(func.count())
            .select_from(Order)
            .join(Payment, Payment.order_id == Order.id)
            .where(Order.status == "cancelled", Payment.status == "succeeded")
        )
        units_sold = s.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status == "paid")
        )
        on_hand, reserved = s.execute(
            select(func.sum(Stock.on_hand), func.sum(Stock.reserved)).where(
                Stock.sku_id == catalog.get_sku(s, sku).id
            )
        ).one()

    assert set(orders) == set(rush.acknowledged)  # none lost
    assert pending == 0
    assert paid_but_cancelled == 0
    expired = sorted(ref for ref, o in orders.items() if o.cancel_reason == "reservation_expired")
    assert expired == [], f"{len(expired)} acknowledged orders cancelled at expiry, unpaid"
    for ref, order in orders.items():
        status, reason = payments[ref]
        if order.status == "paid":
            assert status == "succeeded", ref
        else:
            assert (order.status, status) == ("cancelled", "failed"), ref
            assert order.cancel_reason == f"payment_declined:{reason}", ref
            assert reason in REASONS.split(","), ref
    forced = [ref for ref, method in rush.acknowledged.items() if method.startswith("decline_")]
    assert {payments[ref] for ref in forced} == {("failed", "card_declined")}
    # stock conserved: what was sold left the shelf, nothing else is held (5 more sit in Hangzhou)
    assert (on_hand, reserved) == (ON_HAND + 5 - units_sold, 0)
    _assert_as_the_provider_decided(pg_world.db, payments)


def _assert_as_the_provider_decided(db: Database, payments: dict[str, tuple[str, str | None]]) -> None:
    """Every payment settled (by webhook or reconciliation) as the provider's ledger says it decided."""
    with db.transaction() as s:
        ledger = {
            order_ref: reason
            for order_ref, reason in s.execute(text("SELECT order_ref, decline_reason FROM provider_ledger"))
        }
    assert set(ledger) == set(payments)
    for order_ref, (status, reason) in payments.items():
        assert (status, reason) == (
            ("failed", ledger[order_ref]) if ledger[order_ref] else ("succeeded", None)
        )
