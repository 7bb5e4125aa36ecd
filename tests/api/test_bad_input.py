"""Bad orders are refused with a precise 4xx, name the offending field, and change nothing: no stock
reserved, no order written, no event in the outbox, and the Idempotency-Key not used up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.bootstrap import sweep_once
from tests.api.helpers import (
    API,
    assert_problem,
    basket,
    field_errors,
    get_order,
    new_key,
    pay,
    place,
    place_ok,
    snapshot,
    stock,
)
from tests.world import World

# Bad input is the client's mistake: no error may reach the log (see no_error_logged).
pytestmark = pytest.mark.usefixtures("no_error_logged")


def _rejected_without_trace(
    client: TestClient, world: World, body: Any, status: int, code: str, raw: bytes | None = None
) -> dict[str, Any]:
    """Send a bad order, check the problem, check nothing changed, then prove the key is still free."""
    before = snapshot(client, world)
    key = new_key()
    headers = {**world.auth("buyer_a"), "Idempotency-Key": key}
    if raw is not None:
        response = client.post(
            f"{API}/orders", content=raw, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = client.post(f"{API}/orders", json=body, headers=headers)
    problem = assert_problem(response, status, code)
    assert problem["instance"] == f"{API}/orders"
    assert snapshot(client, world) == before
    # The failed attempt did not claim the key: a good request with it places an order.
    retry = place(client, world, basket(world, ("seller_a_red", 1)), key=key)
    assert retry.status_code == 201, retry.text
    return problem


def test_unknown_sku_is_422_on_its_line(world: World) -> None:
    client = world.client()
    body = {
        "market": "lazada-sg",
        "lines": [
            {"sku": world.ids["seller_a_red"], "quantity": 1},
            {"sku": "sku_doesnotexist", "quantity": 1},
        ],
    }
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    errors = field_errors(problem)
    assert list(errors) == ["lines[1].sku"]
    assert "sku_doesnotexist" in errors["lines[1].sku"]


def test_sku_without_a_price_in_the_market_is_unknown_there(world: World) -> None:
    """A real SKU that has no price in the market is not sold there."""
    client = world.client()
    created = client.post(
        f"{API}/products",
        json={
            "ref": "unpriced",
            "title": "Unpriced",
            "category": "home",
            "hs_code": "691200",
            "origin_country": "SG",
            "skus": [
                {"code": "unpriced-1", "weight_g": 10, "length_mm": 10, "width_mm": 10, "height_mm": 10}
            ],
        },
        headers=world.auth("seller_a"),
    )
    assert created.status_code == 201, created.text
    sku = created.json()["skus"][0]["id"]
    problem = _rejected_without_trace(
        client,
        world,
        {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 1}]},
        422,
        "validation-failed",
    )
    assert list(field_errors(problem)) == ["lines[0].sku"]


def test_unknown_market_is_404(world: World) -> None:
    client = world.client()
    body = basket(world, ("seller_a_red", 1), market="shopee-sg")
    problem = _rejected_without_trace(client, world, body, 404, "not-found")
    assert "shopee-sg" in problem["detail"]


@pytest.mark.parametrize("quantity", [0, -1, -10_000, 10_001, 2**40])
def test_quantity_out_of_range_is_422(world: World, quantity: int) -> None:
    client = world.client()
    body = basket(world, ("seller_a_red", quantity))
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    assert field_errors(problem) == {"lines[0].quantity": "must be 1 to 10000"}


@pytest.mark.parametrize("quantity", [1.5, "2", 2.0, True, None, [1]])
def test_non_integer_quantity_is_422(world: World, quantity: Any) -> None:
    client = world.client()
    body = {"market": "lazada-sg", "lines": [{"sku": world.ids["seller_a_red"], "quantity": quantity}]}
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    assert list(field_errors(problem)) == ["lines[0].quantity"]


def test_wrong_currency_is_422(world: World) -> None:
    client = world.client()
    body = {**basket(world, ("seller_a_red", 1)), "currency": "USD"}
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    assert field_errors(problem) == {"currency": "must be SGD"}


def test_right_currency_is_accepted(world: World) -> None:
    client = world.client()
    response = place(client, world, {**basket(world, ("seller_a_red", 1)), "currency": "SGD"})
    assert response.status_code == 201, response.text
    assert response.json()["currency"] == "SGD"


@pytest.mark.parametrize("raw", [b'{"market": "lazada-sg", "lines": [', b"not json at all", b'{"a": 1,}'])
def test_malformed_json_is_400(world: World, raw: bytes) -> None:
    client = world.client()
    problem = _rejected_without_trace(client, world, None, 400, "malformed-json", raw=raw)
    assert problem["title"] == "Malformed JSON"


def test_oversized_body_is_413(world: World) -> None:
    client = world.client()
    line = json.dumps({"sku": world.ids["seller_a_red"], "quantity": 1})
    raw = ('{"market": "lazada-sg", "lines": [' + ",".join([line] * 50_000) + "]}").encode()
    assert len(raw) > 2_000_000  # about 2 MB of otherwise valid JSON
    problem = _rejected_without_trace(client, world, None, 413, "payload-too-large", raw=raw)
    assert "1000000 bytes" in problem["detail"]


def test_oversized_body_is_413_on_csv_import_too(world: World) -> None:
    client = world.client()
    before = snapshot(client, world)
    response = client.post(
        f"{API}/catalog/import",
        content=b"a" * 2_000_000,
        headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
    )
    assert_problem(response, 413, "payload-too-large")
    assert snapshot(client, world) == before


def test_unknown_fields_are_422_and_named(world: World) -> None:
    client = world.client()
    body = {
        "market": "lazada-sg",
        "lines": [{"sku": world.ids["seller_a_red"], "quantity": 1, "gift_wrap": True}],
        "coupon": "FREE100",
    }
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    errors = field_errors(problem)
    assert set(errors) == {"lines[0].gift_wrap", "coupon"}


def test_missing_fields_are_422_and_named(world: World) -> None:
    client = world.client()
    problem = _rejected_without_trace(client, world, {"lines": [{"quantity": 1}]}, 422, "validation-failed")
    assert set(field_errors(problem)) == {"market", "lines[0].sku"}


def test_empty_basket_is_422(world: World) -> None:
    client = world.client()
    problem = _rejected_without_trace(
        client, world, {"market": "lazada-sg", "lines": []}, 422, "validation-failed"
    )
    assert list(field_errors(problem)) == ["lines"]


def test_missing_idempotency_key_is_422(world: World) -> None:
    client = world.client()
    before = snapshot(client, world)
    response = client.post(
        f"{API}/orders", json=basket(world, ("seller_a_red", 1)), headers=world.auth("buyer_a")
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert field_errors(problem) == {"Idempotency-Key": "Field required"}  # a required header, as documented
    assert snapshot(client, world) == before


@pytest.mark.parametrize("key", ["short", "x" * 256, "bad\tkey-with-tab"])
def test_invalid_idempotency_key_is_422(world: World, key: str) -> None:
    client = world.client()
    before = snapshot(client, world)
    response = place(client, world, basket(world, ("seller_a_red", 1)), key=key)
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["Idempotency-Key"]
    assert snapshot(client, world) == before


def test_duplicate_sku_lines_are_422(world: World) -> None:
    client = world.client()
    body = basket(world, ("seller_a_red", 1), ("seller_a_red", 2))
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    errors = field_errors(problem)
    assert list(errors) == ["lines[1].sku"]
    assert "repeats" in errors["lines[1].sku"]


def test_skus_of_two_sellers_in_one_order_are_422(world: World) -> None:
    client = world.client()
    # seller_b's SKU has stock too, so only the two-seller rule can refuse this basket
    stocked = client.put(
        f"{API}/skus/{world.ids['seller_b_red']}/stock/sg-changi",
        json={"on_hand": 5},
        headers=world.auth("seller_b"),
    )
    assert stocked.status_code == 200, stocked.text
    body = basket(world, ("seller_a_red", 1), ("seller_b_red", 1))
    problem = _rejected_without_trace(client, world, body, 422, "validation-failed")
    assert field_errors(problem) == {"lines": "SKUs of several sellers"}


def test_more_than_any_warehouse_holds_is_409(world: World) -> None:
    """seller_a_red: 10 in sg-tuas and 5 in cn-hangzhou. A line ships from one warehouse."""
    client = world.client()
    problem = _rejected_without_trace(
        client, world, basket(world, ("seller_a_red", 11)), 409, "insufficient-stock"
    )
    assert problem["sku"] == world.ids["seller_a_red"]
    assert problem["line"] == 0


def test_sku_without_any_stock_is_409(world: World) -> None:
    client = world.client()
    problem = _rejected_without_trace(
        client, world, basket(world, ("seller_b_red", 1)), 409, "insufficient-stock"
    )
    assert problem["sku"] == world.ids["seller_b_red"]


def test_stock_reserved_by_an_open_order_is_not_available(world: World) -> None:
    client = world.client()
    place_ok(client, world, ("seller_a_blue", 3), who="buyer_b")
    assert stock(client, world, "seller_a_blue") == {"cn-hangzhou": (3, 3)}
    _rejected_without_trace(client, world, basket(world, ("seller_a_blue", 1)), 409, "insufficient-stock")


def test_quote_refuses_the_same_bad_input(world: World) -> None:
    client = world.client()
    before = snapshot(client, world)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (basket(world, ("seller_a_red", 0)), 422, "validation-failed"),
        (basket(world, ("seller_a_red", 1), market="nowhere-xx"), 404, "not-found"),
        ({**basket(world, ("seller_a_red", 1)), "currency": "CNY"}, 422, "validation-failed"),
        (basket(world, ("seller_a_red", 99)), 409, "insufficient-stock"),
    ]
    for body, status, code in cases:
        response = client.post(f"{API}/checkout/quote", json=body, headers=world.auth("buyer_a"))
        assert_problem(response, status, code)
    assert snapshot(client, world) == before


# --- an order whose reservation ran out -----------------------------------------------------------


def test_paying_after_the_reservation_expired_is_409(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    assert order["reservation_expires_at"] == "2025-11-11T03:10:00Z"
    world.clock.advance(minutes=11)
    before = snapshot(client, world)
    response = pay(client, world, order["id"])
    problem = assert_problem(response, 409, "reservation-expired")
    assert "expired" in problem["detail"]
    assert snapshot(client, world) == before
    after = get_order(client, world, order["id"])
    assert after["payments"] == []
    assert after["status"] == "placed"


def test_paying_just_before_the_reservation_expires_works(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    world.clock.advance(minutes=9, seconds=59)
    response = pay(client, world, order["id"])
    assert response.status_code == 202, response.text
    assert get_order(client, world, order["id"])["status"] == "paid"
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)


def test_the_sweeper_cancels_expired_orders_and_frees_their_stock(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 4))
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 4)
    world.clock.advance(minutes=5)
    assert sweep_once(client.app.state.ctx) == 0  # type: ignore[attr-defined]
    world.clock.advance(minutes=6)
    assert sweep_once(client.app.state.ctx) == 1  # type: ignore[attr-defined]
    expired = get_order(client, world, order["id"])
    assert (expired["status"], expired["cancel_reason"]) == ("cancelled", "reservation_expired")
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)
    assert_problem(pay(client, world, order["id"]), 409, "invalid-transition")


# --- paging and other query input ---------------------------------------------------------------


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"cursor": "garbage!"}])
def test_bad_paging_is_422(world: World, params: dict[str, Any]) -> None:
    client = world.client()
    response = client.get(f"{API}/orders", params=params, headers=world.auth("operator"))
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == [next(iter(params))]


def test_unknown_order_is_404(world: World) -> None:
    client = world.client()
    response = client.get(f"{API}/orders/ord_nope", headers=world.auth("operator"))
    assert_problem(response, 404, "not-found")
    response = client.post(
        f"{API}/orders/ord_nope/pay", json={"method": "card"}, headers=world.auth("buyer_a")
    )
    assert_problem(response, 404, "not-found")


def test_unknown_order_action_is_422(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    before = snapshot(client, world)
    response = client.post(f"{API}/orders/{order['id']}/teleport", headers=world.auth("operator"))
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["action"]
    assert snapshot(client, world) == before


def test_unknown_route_is_404_problem(world: World) -> None:
    response = world.client().get(f"{API}/nothing-here", headers=world.auth("operator"))
    assert_problem(response, 404, "not-found")


def test_wrong_method_is_405_problem(world: World) -> None:
    response = world.client().delete(f"{API}/orders", headers=world.auth("operator"))
    assert_problem(response, 405, "method-not-allowed")


def test_pay_with_unknown_field_is_422(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    before = snapshot(client, world)
    response = client.post(
        f"{API}/orders/{order['id']}/pay", json={"method": "card", "amount": 1}, headers=world.auth("buyer_a")
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["amount"]
    assert snapshot(client, world) == before
