"""Carts: kept per buyer, private to their buyer, quoted and checked out exactly once."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem, field_errors, stock
from tests.world import World


def _cart(client: TestClient, world: World, who: str = "buyer_a") -> str:
    created = client.post(f"{API}/carts", json={"market": "lazada-sg"}, headers=world.auth(who))
    assert created.status_code == 201, created.text
    assert created.json()["lines"] == [] and created.json()["status"] == "open"
    cart_id: str = created.json()["id"]
    return cart_id


def _set(
    client: TestClient, world: World, cart: str, sku_key: str, quantity: object, who: str = "buyer_a"
) -> httpx.Response:
    return client.put(
        f"{API}/carts/{cart}/lines/{world.ids[sku_key]}", json={"quantity": quantity}, headers=world.auth(who)
    )


def test_a_cart_fills_quotes_and_checks_out_once(world: World) -> None:
    client = world.client()
    cart = _cart(client, world)
    assert _set(client, world, cart, "seller_a_red", 2).status_code == 200
    assert _set(client, world, cart, "seller_a_blue", 1).status_code == 200
    assert _set(client, world, cart, "seller_a_blue", 0).json()["lines"] == [
        {"sku": world.ids["seller_a_red"], "quantity": 2}
    ]
    quote = client.post(f"{API}/carts/{cart}/quote", headers=world.auth("buyer_a")).json()
    assert (quote["subtotal_minor"], quote["total_minor"]) == (3980, 4179)
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "cart-checkout-1"}
    placed = client.post(f"{API}/carts/{cart}/checkout", json={"payment_method": "card"}, headers=headers)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["total_minor"] == 4179
    assert client.get(f"{API}/orders/{order['id']}", headers=world.auth("buyer_a")).json()["status"] == "paid"
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)

    replay = client.post(f"{API}/carts/{cart}/checkout", json={"payment_method": "card"}, headers=headers)
    assert (replay.status_code, replay.json()["id"]) == (200, order["id"])
    again = {**world.auth("buyer_a"), "Idempotency-Key": "cart-checkout-2"}
    assert_problem(client.post(f"{API}/carts/{cart}/checkout", json={}, headers=again), 409, "cart-ordered")
    assert_problem(_set(client, world, cart, "seller_a_red", 5), 409, "cart-ordered")
    shown = client.get(f"{API}/carts/{cart}", headers=world.auth("buyer_a")).json()
    assert (shown["status"], shown["order"], len(shown["lines"])) == ("ordered", order["id"], 1)
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)


def test_a_cart_checks_out_without_a_body(world: World) -> None:
    client = world.client()
    cart = _cart(client, world)
    assert _set(client, world, cart, "seller_a_red", 1).status_code == 200
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "cart-checkout-no-body"}
    placed = client.post(f"{API}/carts/{cart}/checkout", headers=headers)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "placed"  # no payment method: the buyer pays later


def test_another_buyers_cart_is_not_found_and_untouched(world: World) -> None:
    client = world.client()
    cart = _cart(client, world, "buyer_a")
    _set(client, world, cart, "seller_a_red", 1)
    assert_problem(client.get(f"{API}/carts/{cart}", headers=world.auth("buyer_b")), 404, "not-found")
    assert_problem(_set(client, world, cart, "seller_a_red", 9, who="buyer_b"), 404, "not-found")
    headers = {**world.auth("buyer_b"), "Idempotency-Key": "steal-cart-1"}
    assert_problem(client.post(f"{API}/carts/{cart}/checkout", json={}, headers=headers), 404, "not-found")
    assert client.get(f"{API}/carts", headers=world.auth("buyer_b")).json()["items"] == []
    assert_problem(client.get(f"{API}/carts/{cart}", headers=world.auth("seller_a")), 404, "not-found")
    mine = client.get(f"{API}/carts/{cart}", headers=world.auth("buyer_a")).json()
    assert mine["lines"] == [{"sku": world.ids["seller_a_red"], "quantity": 1}]
    assert client.get(f"{API}/carts/{cart}", headers=world.auth("operator")).status_code == 200


def test_bad_cart_input_is_refused(world: World) -> None:
    client = world.client()
    cart = _cart(client, world)
    for quantity in (-1, 10_001, 1.5, "2"):
        problem = assert_problem(
            _set(client, world, cart, "seller_a_red", quantity), 422, "validation-failed"
        )
        assert list(field_errors(problem)) == ["quantity"]
    unknown = client.put(
        f"{API}/carts/{cart}/lines/sku_nope", json={"quantity": 1}, headers=world.auth("buyer_a")
    )
    assert list(field_errors(assert_problem(unknown, 422, "validation-failed"))) == ["sku"]
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "empty-cart-1"}
    assert_problem(
        client.post(f"{API}/carts/{cart}/checkout", json={}, headers=headers), 422, "validation-failed"
    )
    assert_problem(
        client.post(f"{API}/carts", json={"market": "nowhere"}, headers=world.auth("buyer_a")),
        404,
        "not-found",
    )
    assert_problem(
        client.post(f"{API}/carts", json={"market": "lazada-sg"}, headers=world.auth("seller_a")),
        403,
        "forbidden",
    )
    assert client.get(f"{API}/carts/{cart}", headers=world.auth("buyer_a")).json()["lines"] == []
