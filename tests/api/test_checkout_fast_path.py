"""POST /orders and the payment webhook answered by ordering.fast.CheckoutFastPath alone, and by the
FastAPI routes alone, give the same answers: an order placed on one path is replayed on the other, byte
for byte the same document (the same fingerprint of the body, the same rendering)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.testclient import TestClient
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import Receive, Scope, Send

from entrepot.api.app import API_PREFIX
from entrepot.ordering.fast import CheckoutFastPath
from tests.api.helpers import basket
from tests.world import World


async def _unreachable(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError(f"{scope['method']} {scope['path']} went past the fast path")


def _clients(world: World) -> tuple[TestClient, TestClient]:
    """A client of the fast path with nothing behind it, and one of the app's router alone (with the
    app's problem handlers)."""
    app: FastAPI = world.client().app  # type: ignore[assignment]
    fast = CheckoutFastPath(_unreachable, prefix=API_PREFIX)

    async def fast_only(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await fast(scope, receive, send)

    routed = ExceptionMiddleware(AsyncExitStackMiddleware(app.router), handlers=app.exception_handlers)

    async def router_only(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await routed(scope, receive, send)

    return TestClient(fast_only), TestClient(router_only)


def _order(client: TestClient, world: World, key: str, body: dict[str, Any]) -> Any:
    headers = {**world.auth("buyer_a"), "Idempotency-Key": key}
    return client.post(f"{API_PREFIX}/orders", json=body, headers=headers)


@pytest.mark.parametrize("first", ["fast", "router"])
def test_an_order_placed_on_one_path_is_replayed_on_the_other_as_it_was_answered(
    world: World, first: str
) -> None:
    fast, router = _clients(world)
    placing, replaying = (fast, router) if first == "fast" else (router, fast)
    body = {**basket(world, ("seller_a_red", 2)), "delivery_option": "standard-cheapest"}
    placed = _order(placing, world, f"parity-{first}", body)
    assert placed.status_code == 201, placed.text
    replayed = _order(replaying, world, f"parity-{first}", body)
    assert replayed.status_code == 200, replayed.text
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == placed.json()
    assert replayed.headers["content-type"] == placed.headers["content-type"] == "application/json"


def test_the_fast_path_answers_problems_and_leaves_other_routes_to_the_app(world: World) -> None:
    fast, _ = _clients(world)
    refused = _order(fast, world, "short", basket(world, ("seller_a_red", 1)))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    unsigned = fast.post(f"{API_PREFIX}/payments/webhook", content=b"{}")
    assert unsigned.status_code == 401, unsigned.text
    with pytest.raises(AssertionError, match="went past the fast path"):
        fast.get(f"{API_PREFIX}/orders", headers=world.auth("buyer_a"))


@pytest.mark.parametrize(
    ("key", "content", "content_type"),
    [
        (None, b'{"market": "lazada-sg", "lines": []}', "application/json"),  # no key, and a bad body
        ("short", b"{}", "application/json"),
        ("long-enough-key", b"", "application/json"),  # no body
        ("long-enough-key", b"{not json", "application/json"),
        ("long-enough-key", b'{"market": "lazada-sg", "lines": [{"sku": 1, "quantity": "x"}]}', None),
        ("long-enough-key", b'{"market": "lazada-sg"}', "text/plain"),
    ],
)
def test_a_bad_request_gets_the_same_problem_on_both_paths(
    world: World, key: str | None, content: bytes, content_type: str | None
) -> None:
    headers = {**world.auth("buyer_a"), **({"Idempotency-Key": key} if key else {})}
    headers |= {"Content-Type": content_type} if content_type else {}
    answers = [
        client.post(f"{API_PREFIX}/orders", content=content, headers=headers) for client in _clients(world)
    ]
    fast, routed = answers
    assert fast.status_code == routed.status_code, (fast.text, routed.text)
    assert fast.json() == routed.json()
