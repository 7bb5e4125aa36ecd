"""Small helpers shared by the HTTP API tests: problem assertions, placing orders, and snapshots of
everything a rejected request must leave untouched (stock, orders, outbox)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from entrepot.platform.outbox import relay_once
from tests.world import World

API = "/api/v1"
PROBLEM = "https://entrepot.dev/problems/"
SKU_KEYS = ("seller_a_red", "seller_a_blue", "seller_b_red", "seller_b_blue")


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and type; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM + code, body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def field_errors(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body.get("errors", [])}


def basket(world: World, *lines: tuple[str, int], market: str = "lazada-sg") -> dict[str, Any]:
    """A basket of (sku key in world.ids, quantity) lines."""
    return {"market": market, "lines": [{"sku": world.ids[sku], "quantity": q} for sku, q in lines]}


def place(
    client: TestClient,
    world: World,
    body: dict[str, Any],
    who: str = "buyer_a",
    key: str | None = None,
) -> httpx.Response:
    headers = {**world.auth(who), "Idempotency-Key": key or new_key()}
    response: httpx.Response = client.post(f"{API}/orders", json=body, headers=headers)
    return response


def place_ok(
    client: TestClient, world: World, *lines: tuple[str, int], who: str = "buyer_a", market: str = "lazada-sg"
) -> dict[str, Any]:
    response = place(client, world, basket(world, *lines, market=market), who)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    assert order["status"] == "placed"
    return order


def pay(
    client: TestClient, world: World, order_id: str, who: str = "buyer_a", method: str = "card"
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{API}/orders/{order_id}/pay", json={"method": method}, headers=world.auth(who)
    )
    return response


def act(client: TestClient, world: World, order_id: str, action: str, who: str) -> httpx.Response:
    response: httpx.Response = client.post(f"{API}/orders/{order_id}/{action}", headers=world.auth(who))
    return response


def get_order(client: TestClient, world: World, order_id: str, who: str = "operator") -> dict[str, Any]:
    response = client.get(f"{API}/orders/{order_id}", headers=world.auth(who))
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def relay_all(world: World, now: dt.datetime | None = None) -> int:
    """Hand every event due by `now` (default the world's clock) to the app's handlers, as the API's
    background relay would, until none is left: how cross-context reactions land (an order following its
    parcels, a paid order's shipments). Returns how many were taken."""
    registry, total = world.relay_registry(), 0
    while taken := relay_once(world.db, registry, now or world.clock()):
        total += taken
    return total


def paid_order(client: TestClient, world: World, *lines: tuple[str, int]) -> dict[str, Any]:
    """buyer_a places and pays an order; the in-process webhook has confirmed it."""
    order = place_ok(client, world, *lines)
    response = pay(client, world, order["id"])
    assert response.status_code == 202, response.text
    confirmed = get_order(client, world, order["id"])
    assert confirmed["status"] == "paid", confirmed
    return confirmed


def stock(client: TestClient, world: World, sku_key: str) -> dict[str, tuple[int, int]]:
    """warehouse code -> (on_hand, reserved), read as the operator."""
    response = client.get(f"{API}/skus/{world.ids[sku_key]}/stock", headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    return {s["warehouse"]: (s["on_hand"], s["reserved"]) for s in response.json()}


def collect(
    client: TestClient, world: World, path: str, who: str = "operator", **params: Any
) -> list[dict[str, Any]]:
    """Every item of a paginated list, following next_cursor."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 200, **params}
    for _ in range(1000):
        response = client.get(f"{API}{path}", params=query, headers=world.auth(who))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        query["cursor"] = page["next_cursor"]
    raise AssertionError("pagination never ended")


@dataclass(frozen=True)
class Snapshot:
    stock: dict[str, dict[str, tuple[int, int]]]
    orders: list[tuple[str, str, int]]  # (id, status, refunded_minor)
    events: list[str]
    audit: int  # entries of the audit trail: a refused change records none


def snapshot(client: TestClient, world: World) -> Snapshot:
    """What a rejected request must not change."""
    return Snapshot(
        stock={k: stock(client, world, k) for k in SKU_KEYS},
        orders=[(o["id"], o["status"], o["refunded_minor"]) for o in collect(client, world, "/orders")],
        events=[e["id"] for e in collect(client, world, "/events")],
        audit=len(collect(client, world, "/audit")),
    )
