"""Payments that cannot be forged or stranded: a forced decline's reason always fits where it is stored,
a provider's event is bounded after its signature is checked, and a retired webhook secret is accepted
only during its rotation's overlap window."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from entrepot.ordering.payments import SIGNATURE_HEADER, WebhookDelivery, sign
from tests.api.helpers import API, assert_problem, basket, get_order, new_key, pay, place_ok, snapshot
from tests.world import World

OLD, NEW = "whsec_" + "o" * 40, "whsec_" + "n" * 40


def test_a_decline_reason_too_long_to_store_is_refused_at_the_edge(world: World) -> None:
    client = world.client()
    method = "decline_" + "r" * 56  # the reproduction: 64 characters
    body = {**basket(world, ("seller_a_red", 1)), "payment_method": method}
    before = snapshot(client, world)
    placed = client.post(
        f"{API}/orders", json=body, headers={**world.auth("buyer_a"), "Idempotency-Key": new_key()}
    )
    assert "payment_method" in str(assert_problem(placed, 422, "validation-failed")["errors"])
    assert snapshot(client, world) == before
    order = place_ok(client, world, ("seller_a_red", 1))
    assert_problem(pay(client, world, order["id"], method=method), 422, "validation-failed")
    assert get_order(client, world, order["id"])["status"] == "placed"


def test_the_longest_forced_decline_settles_and_releases_the_stock(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    assert pay(client, world, order["id"], method="decline_" + "r" * 40).status_code == 202
    declined = get_order(client, world, order["id"])
    assert declined["status"] == "cancelled"
    assert [p["status"] for p in declined["payments"]] == ["failed"]


def _event(world: World, order: dict[str, Any], **fields: Any) -> bytes:
    payment = order["payments"][0]
    event = {
        "type": "payment.failed",
        "payment_id": payment["id"],
        "amount_minor": order["total_minor"],
        "currency": order["currency"],
        "reason": "declined",
    }
    return json.dumps({**event, **fields}).encode()


def _post(world: World, client: Any, body: bytes, secret: str) -> Any:
    headers = {SIGNATURE_HEADER: sign(secret, body, int(time.time())), "Content-Type": "application/json"}
    return client.post(f"{API}/payments/webhook", content=body, headers=headers)


def test_a_providers_long_odd_reason_is_stored_clipped_and_never_strands_the_order(
    world: World, held: list[WebhookDelivery]
) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    assert pay(client, world, order["id"]).status_code == 202
    order = get_order(client, world, order["id"])
    answer = _post(
        world, client, _event(world, order, reason="Do Not Honour! " * 40), world.settings().webhook_secret
    )
    assert answer.status_code == 200, answer.text
    declined = get_order(client, world, order["id"])
    assert declined["status"] == "cancelled"
    assert declined["payments"][0]["decline_reason"] == ("do_not_honour_" * 3)[:40].strip("_")


def test_an_unsigned_event_is_401_before_any_bound_is_looked_at(
    world: World, held: list[WebhookDelivery]
) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    pay(client, world, order["id"])
    order = get_order(client, world, order["id"])
    before = snapshot(client, world)
    answer = _post(world, client, _event(world, order, payment_id="pay_\x00"), "whsec_" + "x" * 40)
    assert_problem(answer, 401, "unauthenticated")
    assert snapshot(client, world) == before


def test_a_retired_secret_signs_only_until_its_window_closes(
    world: World, held: list[WebhookDelivery]
) -> None:
    until = world.clock() + dt.timedelta(hours=1)
    client = world.client(
        webhook_secret=NEW, webhook_previous_secret=OLD, webhook_previous_secret_until=until
    )
    first, second = (place_ok(client, world, ("seller_a_red", 1)) for _ in range(2))
    for order in (first, second):
        assert pay(client, world, order["id"]).status_code == 202
    first, second = (get_order(client, world, o["id"]) for o in (first, second))
    assert _post(world, client, _event(world, first), OLD).status_code == 200  # in the window
    world.clock.advance(hours=1)
    before = snapshot(client, world)
    assert_problem(_post(world, client, _event(world, second), OLD), 401, "unauthenticated")
    assert snapshot(client, world) == before
    assert _post(world, client, _event(world, second), NEW).status_code == 200
