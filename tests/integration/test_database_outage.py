"""The API while its PostgreSQL stops and comes back, under load (issue 19): a cluster of the test's own
(tests.throwaway_postgres), the app served over HTTP in this process with its relay running, and buyers
in parallel threads placing and paying orders (or rushing a flash sale) as real clients do: a 503 is
answered by trying again, with the same Idempotency-Key.

While the database is down every answer must be a 503 problem with Retry-After (never a 500, never a
request left hanging past the client's timeout, which is longer than the API's own limits for reaching
the database); once it is back the API must serve again by itself (no restart of the app); and every
order a client was told about exists once, with one payment and one of each of its events.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from entrepot.api.app import create_app
from entrepot.catalog import service as catalog
from entrepot.inventory import service as inventory
from entrepot.ordering.models import Order, Payment
from entrepot.platform.db import CONNECT_TIMEOUT_S, POOL_TIMEOUT_S, Database, OutboxEvent
from entrepot.schema import upgrade
from tests.api.helpers import API, basket, new_key
from tests.api.test_flash_api import create_sale
from tests.serving import served
from tests.throwaway_postgres import Cluster, throwaway_cluster
from tests.world import WORLDS, World

pytestmark = pytest.mark.postgres

# Longer than the API may take to find the database out of reach (to connect, or to get a pooled
# connection), so a request still waiting past it is one the API left hanging.
CLIENT_TIMEOUT_S = CONNECT_TIMEOUT_S + POOL_TIMEOUT_S + 10
BUYERS = 6
WAIT_S = 180  # how long the test waits for what it expects (progress, the outage seen) before failing


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as cluster:
        upgrade(cluster.url)
        yield cluster


@pytest.fixture
def world(cluster: Cluster) -> Iterator[World]:
    db = Database(cluster.url, pool_size=20)
    world = WORLDS.world_on(db)
    with db.transaction() as s:  # stock enough for every order the buyers place
        inventory.set_on_hand(
            s, catalog.get_sku(s, world.ids["seller_a_red"]), inventory.get_warehouse(s, "sg-tuas"), 100_000
        )
    yield world
    db.dispose()


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # timeouts, cut connections, unexpected answers
    acknowledged: list[str] = field(default_factory=list)  # ids of what a 201 answered
    paid: list[str] = field(default_factory=list)  # orders whose payment a 202 accepted
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def failed(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)

    def count(self, status: int) -> int:
        with self.lock:
            return self.statuses[status]

    def acked(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def answered(
    tally: Tally,
    http: httpx.Client,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    stop: threading.Event,
) -> httpx.Response | None:
    """POST until the answer is not a 503, as a client that honours Retry-After would (sooner: the test
    has no time to lose), the same headers (Idempotency-Key) each time; None when the run ends first or
    the request failed outright."""
    while not stop.is_set():
        try:
            response = http.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            tally.failed(f"{type(exc).__name__}: {exc}")
            return None
        tally.saw(response.status_code)
        if response.status_code >= 500 and response.status_code != 503:
            tally.failed(f"{response.status_code} on {path}: {response.text[:200]}")
            return None
        if response.status_code != 503:
            return response
        if response.headers.get("retry-after") is None or "database-unavailable" not in response.text:
            tally.failed(f"503 without Retry-After or its problem: {response.text[:200]}")
        time.sleep(0.05)
    return None


def wait_for(condition: Callable[[], bool], what: str, tally: Tally) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}; seen {dict(tally.statuses)}"
        assert not tally.failures, tally.failures[:5]
        time.sleep(0.05)


def run_outage(cluster: Cluster, tally: Tally, buyer: Callable[[threading.Event], None]) -> None:
    """Buyers run; the database stops once orders flow, starts again once clients have seen it down,
    and the run ends once orders flow again."""
    stop = threading.Event()
    threads = [threading.Thread(target=buyer, args=(stop,)) for _ in range(BUYERS)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: tally.acked() >= 10, "orders before the outage", tally)
        cluster.stop()
        wait_for(lambda: tally.count(503) >= 20, "the outage to be answered 503", tally)
        cluster.start()
        before = tally.acked()
        wait_for(lambda: tally.acked() >= before + 20, "orders after the database came back", tally)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT_S * 3)
    assert not tally.failures, tally.failures[:5]
    assert not (set(tally.statuses) - {201, 202, 503}), tally.statuses


def paid_orders(world: World) -> set[str]:
    with world.db.transaction() as s:
        paid = select(Order.public_id).join(Payment, Payment.order_id == Order.id)
        return set(s.scalars(paid.where(Payment.status == "succeeded")).all())


def events_per_order(world: World, ids: list[str], prefix: str) -> Counter[tuple[str, str]]:
    with world.db.transaction() as s:
        rows = s.execute(
            select(OutboxEvent.aggregate_id, OutboxEvent.type).where(
                OutboxEvent.aggregate_id.in_(ids), OutboxEvent.type.startswith(prefix)
            )
        ).all()
    return Counter((aggregate, type_) for aggregate, type_ in rows)


def test_checkout_answers_503_while_the_database_is_down_and_loses_nothing(
    cluster: Cluster, world: World
) -> None:
    app = create_app(world.settings(relay_interval_seconds=0.2), world.db)
    tally = Tally()
    with served(app) as base, httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as http:

        def buyer(stop: threading.Event) -> None:
            body = basket(world, ("seller_a_red", 1))
            while not stop.is_set():
                headers = {**world.auth("buyer_a"), "Idempotency-Key": new_key()}
                placed = answered(tally, http, f"{API}/orders", body, headers, stop)
                if placed is None:
                    return
                order_id = placed.json()["id"]
                with tally.lock:
                    tally.acknowledged.append(order_id)
                # an order is acknowledged once placed: paying it is what a client does next, retried
                # until the API answers; nothing may make it be paid twice
                path, auth = f"{API}/orders/{order_id}/pay", world.auth("buyer_a")
                paying = answered(tally, http, path, {"method": "card"}, auth, stop)
                if paying is not None and paying.status_code == 202:
                    with tally.lock:
                        tally.paid.append(order_id)

        run_outage(cluster, tally, buyer)
        assert tally.count(503) >= 20
        # the provider posts its webhooks again until acknowledged: every accepted payment lands
        wait_for(lambda: set(tally.paid) <= paid_orders(world), "every accepted payment to be applied", tally)

        acknowledged = list(tally.acknowledged)
        with world.db.transaction() as s:
            stored = s.scalars(select(Order.public_id)).all()
            payments = Counter(
                s.scalars(select(Order.public_id).join(Payment, Payment.order_id == Order.id)).all()
            )
        assert len(acknowledged) == len(set(acknowledged)), "an order was acknowledged twice"
        assert sorted(stored) == sorted(acknowledged), "an order was lost, or made without acknowledgement"
        assert all(n == 1 for n in payments.values()), [o for o, n in payments.items() if n > 1]
        placed = events_per_order(world, acknowledged, "order.placed")
        assert all(placed[(o, "order.placed")] == 1 for o in acknowledged), "order.placed lost or doubled"


def test_a_flash_rush_answers_503_while_the_database_is_down_and_never_oversells(
    cluster: Cluster, world: World
) -> None:
    setup = world.client()
    sale = create_sale(setup, world, stock=50_000, per_buyer_limit=50_000)["id"]  # more than a rush takes
    world.clock.advance(minutes=2)  # the sale is open
    app = create_app(world.settings(relay_interval_seconds=0.2), world.db)
    app.state.ctx.clock = world.clock
    tally = Tally()
    with served(app) as base, httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as http:

        def buyer(stop: threading.Event) -> None:
            body: dict[str, Any] = {"quantity": 1, "payment_method": "card"}
            while not stop.is_set():
                headers = {**world.auth("buyer_a"), "Idempotency-Key": new_key()}
                taken = answered(tally, http, f"{API}/flash-sales/{sale}/orders", body, headers, stop)
                if taken is None:
                    return
                with tally.lock:
                    tally.acknowledged.append(taken.json()["id"])

        run_outage(cluster, tally, buyer)
        state = http.get(f"{API}/flash-sales/{sale}", headers=world.auth("buyer_a")).json()

    acknowledged = list(tally.acknowledged)
    assert len(acknowledged) == len(set(acknowledged)), "a flash order was acknowledged twice"
    taken_units = state["sold"] + state["reserved"]
    assert taken_units == len(acknowledged), (state, len(acknowledged))
