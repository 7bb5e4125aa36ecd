"""An Idempotency-Key on POST /local/orders, as on POST /orders: a retry with the same key and body gets
the first order back (200, nothing new written), another body with that key is refused (422) and writes
nothing, a key is the buyer's own, and requests with one key at once make one order (real parallel
transactions on the database: on PostgreSQL the second insert waits for the first to commit)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from entrepot.identity import service as identity
from entrepot.kernel.idempotency import IdempotencyKeyReused, request_fingerprint
from entrepot.local_services import order_service
from entrepot.local_services.delivery import Line
from entrepot.local_services.locate import locate
from entrepot.local_services.models import OnDemandOrder
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import assert_problem
from tests.api.local_on_demand import DOOR, Town, shipped_city, town

__all__ = ["shipped_city", "town"]  # fixtures

KEY = "lunch-2025-11-11-0001"


def _with_key(town: Town, key: str, who: str = "buyer_a", **change: Any) -> Any:
    body = {"store": town.store, "items": town.lines(soup=2), "drop_off": DOOR}
    headers = {**town.keys[who], "Idempotency-Key": key}
    return town.client.post("/api/v1/local/orders", json={**body, **change}, headers=headers)


def test_a_retry_gets_the_first_order_and_writes_nothing(town: Town) -> None:
    first = _with_key(town, KEY)
    assert first.status_code == 201, first.text
    before = town.counts()
    again = _with_key(town, KEY)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert town.counts() == before
    assert town.events(first.json()["id"]) == ["local.order_placed"]


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(town: Town) -> None:
    assert _with_key(town, KEY).status_code == 201
    before = town.counts()
    other = _with_key(town, KEY, items=town.lines(bread=1))
    assert_problem(other, 422, "idempotency-key-reused")
    assert town.counts() == before


def test_a_key_is_the_buyer_s_own_and_orders_without_one_are_not_compared(town: Town) -> None:
    mine, theirs = _with_key(town, KEY), _with_key(town, KEY, who="buyer_b")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    plain = [town.ok(town.order(), 201)["id"] for _ in range(2)]  # no key: two orders, as asked
    assert len(set(plain)) == 2


def test_a_bad_key_is_a_precise_problem(town: Town) -> None:
    before = town.counts()
    response = _with_key(town, "short")
    assert_problem(response, 422, "validation-failed")
    assert "Idempotency-Key" in response.text
    assert town.counts() == before


def test_one_key_sent_at_once_by_eight_clients_makes_one_order(town: Town) -> None:
    world = town.world
    with world.db.transaction() as session:
        buyer = identity.authenticate(session, world.keys["buyer_a"], 0)
    body = {"store": town.store, "items": town.lines(soup=1)}
    claim = order_service.Claim("race-key-0001", request_fingerprint(body))
    drop = locate(DOOR.get("address"), None, "drop_off")
    barrier, answers, errors = threading.Barrier(8), [], []

    def place() -> None:
        try:
            barrier.wait()
            with world.db.transaction() as session:
                order, replayed = order_service.place_order_once(
                    session, buyer, town.store, [Line(town.menu["soup"], 1)], drop, world.clock(), claim
                )
                answers.append((order.public_id, replayed))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=place) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({ref for ref, _ in answers}) == 1 and sorted(r for _, r in answers) == [False] + [True] * 7
    with world.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OnDemandOrder)) == 1
        placed = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "local.order_placed")
        assert session.scalar(placed) == 1


def test_the_service_refuses_another_body_under_a_key(town: Town) -> None:
    world = town.world
    assert _with_key(town, KEY).status_code == 201
    with world.db.transaction() as session:
        buyer = identity.authenticate(session, world.keys["buyer_a"], 0)
        with pytest.raises(IdempotencyKeyReused):
            order_service.earlier_order(session, buyer, order_service.Claim(KEY, "another body's hash"))
