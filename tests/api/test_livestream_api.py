"""Livestream sessions over HTTP on SQLite and PostgreSQL: drops queued, opened and closed live."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem, field_errors, new_key
from tests.world import World


@pytest.fixture
def client(world: World) -> TestClient:
    return world.client()


def go_live(client: TestClient, world: World) -> dict[str, Any]:
    body = {"market": "lazada-sg", "host": "Ana", "title": "Singles' Day phone cases"}
    response = client.post(f"{API}/live-sessions", json=body, headers=world.auth("seller_a"))
    assert response.status_code == 201, response.text
    live: dict[str, Any] = response.json()
    return live


def add_drop(client: TestClient, world: World, ref: str, stock: int = 2) -> dict[str, Any]:
    body = {"sku": world.ids["seller_a_red"], "sale_price_minor": 500, "stock": stock, "per_buyer_limit": 1}
    response = client.post(f"{API}/live-sessions/{ref}/drops", json=body, headers=world.auth("seller_a"))
    assert response.status_code == 201, response.text
    drop: dict[str, Any] = response.json()["drops"][-1]
    return drop


def act(client: TestClient, world: World, ref: str, drop: str, action: str, who: str = "seller_a") -> Any:
    return client.post(f"{API}/live-sessions/{ref}/drops/{drop}/{action}", headers=world.auth(who))


def buy(client: TestClient, world: World, sale: str, who: str) -> Any:
    headers = {**world.auth(who), "Idempotency-Key": new_key()}
    return client.post(f"{API}/flash-sales/{sale}/orders", json={"quantity": 1}, headers=headers)


def test_the_host_opens_and_closes_drops_live(client: TestClient, world: World) -> None:
    ref = go_live(client, world)["id"]
    first = add_drop(client, world, ref)
    second = add_drop(client, world, ref, stock=1)
    assert (first["position"], second["position"]) == (1, 2)
    assert first["status"] == "queued" and first["sale"] is None and first["available"] == 2
    opened = act(client, world, ref, first["id"], "open")
    assert opened.status_code == 200, opened.text
    sale = opened.json()["drops"][0]["sale"]
    assert opened.json()["drops"][0]["phase"] == "open"
    assert buy(client, world, sale, "buyer_a").status_code == 201
    state = client.get(f"{API}/live-sessions/{ref}", headers=world.auth("buyer_b")).json()
    assert (state["drops"][0]["available"], state["drops"][1]["status"]) == (1, "queued")
    world.clock.advance(seconds=30)
    closed = act(client, world, ref, first["id"], "close")
    assert closed.json()["drops"][0]["status"] == "closed"
    assert_problem(buy(client, world, sale, "buyer_b"), 409, "sale-ended")
    assert_problem(act(client, world, ref, first["id"], "open"), 409, "drop-not-queued")
    assert act(client, world, ref, second["id"], "open").status_code == 200
    ended = client.post(f"{API}/live-sessions/{ref}/end", headers=world.auth("seller_a")).json()
    assert ended["status"] == "ended" and [d["status"] for d in ended["drops"]] == ["closed", "closed"]


def test_only_the_sessions_seller_or_an_operator_runs_it(client: TestClient, world: World) -> None:
    ref = go_live(client, world)["id"]
    drop = add_drop(client, world, ref)
    assert_problem(act(client, world, ref, drop["id"], "open", who="buyer_a"), 403, "forbidden")
    # another seller's session is answered as an unknown one (tests/api/test_not_yours.py)
    refused = assert_problem(act(client, world, ref, drop["id"], "open", who="seller_b"), 404, "not-found")
    assert refused["detail"] == f"no live session {ref}"
    assert_problem(act(client, world, ref, drop["id"], "close"), 409, "drop-not-open")
    assert_problem(act(client, world, ref, "drop_nope", "open"), 404, "not-found")
    assert act(client, world, ref, drop["id"], "open", who="operator").status_code == 200
    buyer_session = client.post(
        f"{API}/live-sessions",
        json={"market": "lazada-sg", "host": "x", "title": "y"},
        headers=world.auth("buyer_a"),
    )
    assert_problem(buyer_session, 403, "forbidden")


def test_a_bad_drop_is_refused(client: TestClient, world: World) -> None:
    ref = go_live(client, world)["id"]
    body = {"sku": world.ids["seller_a_red"], "sale_price_minor": -1, "stock": 0, "per_buyer_limit": 1}
    response = client.post(f"{API}/live-sessions/{ref}/drops", json=body, headers=world.auth("seller_a"))
    assert {"stock", "sale_price_minor"} <= set(
        field_errors(assert_problem(response, 422, "validation-failed"))
    )
    foreign = {**body, "sku": world.ids["seller_b_red"], "sale_price_minor": 1, "stock": 1}
    response = client.post(f"{API}/live-sessions/{ref}/drops", json=foreign, headers=world.auth("seller_a"))
    assert_problem(response, 404, "not-found")
    too_many = {**body, "sale_price_minor": 1, "stock": 500}
    drop = client.post(
        f"{API}/live-sessions/{ref}/drops", json=too_many, headers=world.auth("seller_a")
    ).json()
    assert_problem(act(client, world, ref, drop["drops"][0]["id"], "open"), 409, "insufficient-stock")
    state = client.get(f"{API}/live-sessions/{ref}", headers=world.auth("seller_a")).json()
    assert state["drops"][0]["status"] == "queued"  # the refused opening changed nothing
