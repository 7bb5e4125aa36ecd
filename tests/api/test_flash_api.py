"""Flash sales over HTTP, on SQLite and PostgreSQL: the whole life of a sale and every refusal.

The clock is the world's hand-moved clock; payments are delivered in-process by the simulated provider
(decline rate 0, or a `decline_` token to force a decline).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from entrepot.campaigns.flash import settlement as flash_settle
from entrepot.campaigns.flash.fast import FlashFastPath
from entrepot.campaigns.flash.models import FlashOrder, FlashSale
from entrepot.catalog import service as catalog
from entrepot.inventory import service as inventory
from tests.api.helpers import API, assert_problem, field_errors, new_key
from tests.world import T0, World


@pytest.fixture(params=["fast-path", "framework-route"])
def client(world: World, request: pytest.FixtureRequest) -> TestClient:
    """The flash order request through its lean ASGI path, and through the FastAPI route: the same
    answers either way (see ordering.peak_fast)."""
    return adapted(world.client(own_app=True), request.param == "fast-path")


def adapted(client: TestClient, fast_path: bool) -> TestClient:
    app = client.app
    assert isinstance(app, FastAPI)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not FlashFastPath]
    if fast_path:
        app.add_middleware(FlashFastPath, prefix=API)
    return client


def sale_body(world: World, **overrides: Any) -> dict[str, Any]:
    """A flash sale of seller A's red SKU in Singapore, starting a minute after T0."""
    return {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 3,
        "per_buyer_limit": 2,
        "starts_at": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
        "reservation_ttl_seconds": 60,
        **overrides,
    }


def create_sale(client: TestClient, world: World, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        f"{API}/flash-sales", json=sale_body(world, **overrides), headers=world.auth("seller_a")
    )
    assert response.status_code == 201, response.text
    sale: dict[str, Any] = response.json()
    return sale


def take(client: TestClient, world: World, sale: str, who: str, quantity: int = 1, pay: str | None = "card"):  # type: ignore[no-untyped-def]
    headers = {**world.auth(who), "Idempotency-Key": new_key()}
    body: dict[str, Any] = {"quantity": quantity}
    if pay:
        body["payment_method"] = pay
    return client.post(f"{API}/flash-sales/{sale}/orders", json=body, headers=headers)


def sale_state(client: TestClient, world: World, sale: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{API}/flash-sales/{sale}", headers=world.auth("buyer_a")).json()
    return body


def on_hand(world: World) -> int:
    with world.db.transaction() as s:
        sku = catalog.get_sku(s, world.ids["seller_a_red"])
        stock = inventory.stock_levels(s, sku.id)
        return sum(level.on_hand - level.reserved for _, level in stock)


def sweep(world: World) -> None:
    with world.db.transaction() as s:
        flash_settle.sweep(s, world.clock())


def test_a_sale_sells_its_units_then_waits_then_sells_out(client: TestClient, world: World) -> None:
    available_before = on_hand(world)
    sale = create_sale(client, world)["id"]
    assert on_hand(world) == available_before - 3  # set aside from the warehouse for the sale
    assert_problem(take(client, world, sale, "buyer_a"), 409, "sale-not-open")
    world.clock.advance(minutes=2)
    first = take(client, world, sale, "buyer_a", 2)
    assert first.status_code == 201, first.text
    assert first.json()["amount_minor"] == 1980 and first.json()["status"] == "reserved"
    assert_problem(take(client, world, sale, "buyer_a"), 409, "over-buyer-limit")
    second = take(client, world, sale, "buyer_b", 1, pay=None)  # the last unit, not paid yet
    assert second.status_code == 201
    waiting = take(client, world, sale, "buyer_b", 1)
    assert waiting.status_code == 202 and waiting.json()["status"] == "waiting"
    state = sale_state(client, world, sale)
    assert (state["sold"], state["reserved"], state["waiting"], state["available"]) == (2, 1, 1, 0)
    assert state["phase"] == "waiting"
    # buyer_a holds the 2 units a buyer may have, paid; a third is refused before any stock question
    body = assert_problem(take(client, world, sale, "buyer_a", 1), 409, "over-buyer-limit")
    assert "0 more" in body["detail"]


def test_expiry_returns_units_to_the_waiting_line_in_order(client: TestClient, world: World) -> None:
    sale = create_sale(client, world, stock=1, per_buyer_limit=1)["id"]
    world.clock.advance(minutes=2)
    held = take(client, world, sale, "buyer_a", pay=None)
    assert held.status_code == 201
    queued = take(client, world, sale, "buyer_b", pay=None)
    assert queued.status_code == 202
    world.clock.advance(seconds=59)
    sweep(world)
    assert sale_state(client, world, sale)["reserved"] == 1  # not yet due
    world.clock.advance(seconds=2)
    sweep(world)
    mine = client.get(f"{API}/flash-orders/{held.json()['id']}", headers=world.auth("buyer_a")).json()
    theirs = client.get(f"{API}/flash-orders/{queued.json()['id']}", headers=world.auth("buyer_b")).json()
    assert mine["status"] == "expired"
    assert theirs["status"] == "reserved" and theirs["expires_at"] is not None
    paid = client.post(
        f"{API}/flash-orders/{theirs['id']}/pay", json={"method": "card"}, headers=world.auth("buyer_b")
    )
    assert paid.status_code == 202, paid.text
    state = sale_state(client, world, sale)
    assert (state["sold"], state["reserved"], state["waiting"], state["phase"]) == (1, 0, 0, "sold_out")
    assert_problem(take(client, world, sale, "buyer_a"), 409, "sold-out")


def test_an_expired_unit_goes_back_on_sale_and_a_declined_one_too(client: TestClient, world: World) -> None:
    sale = create_sale(client, world, stock=2)["id"]
    world.clock.advance(minutes=2)
    declined = take(client, world, sale, "buyer_a", 1, pay="decline_insufficient_funds")
    assert declined.status_code == 201
    order = client.get(f"{API}/flash-orders/{declined.json()['id']}", headers=world.auth("buyer_a")).json()
    assert (order["status"], order["payment_status"]) == ("released", "failed")
    unpaid = take(client, world, sale, "buyer_b", 1, pay=None)
    assert unpaid.status_code == 201
    assert sale_state(client, world, sale)["available"] == 1
    world.clock.advance(minutes=5)
    sweep(world)
    state = sale_state(client, world, sale)
    assert (state["available"], state["reserved"], state["sold"]) == (2, 0, 0)
    # the buyers' limits were given back with the units
    again = take(client, world, sale, "buyer_b", 2)
    assert again.status_code == 201, again.text


def test_a_closed_sale_takes_only_the_sold_units_off_the_shelf(client: TestClient, world: World) -> None:
    available_before = on_hand(world)
    sale = create_sale(client, world, stock=3)["id"]
    world.clock.advance(minutes=2)
    assert take(client, world, sale, "buyer_a", 2).status_code == 201
    assert take(client, world, sale, "buyer_b", 1, pay=None).status_code == 201
    world.clock.advance(hours=1)
    assert_problem(take(client, world, sale, "buyer_b", 1), 409, "sale-ended")
    sweep(world)
    state = sale_state(client, world, sale)
    assert state["phase"] == "closed" and state["sold"] == 2
    assert on_hand(world) == available_before - 2
    with world.db.transaction() as s:
        sku = catalog.get_sku(s, world.ids["seller_a_red"])
        assert sum(level.reserved for _, level in inventory.stock_levels(s, sku.id)) == 0


def test_a_retry_with_the_same_key_returns_the_same_order(client: TestClient, world: World) -> None:
    sale = create_sale(client, world)["id"]
    world.clock.advance(minutes=2)
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "flash-retry-0001"}
    url = f"{API}/flash-sales/{sale}/orders"
    first = client.post(url, json={"quantity": 1, "payment_method": "card"}, headers=headers)
    again = client.post(url, json={"quantity": 1, "payment_method": "card"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    body = assert_problem(client.post(url, json={"quantity": 2}, headers=headers), 422, "validation-failed")
    assert "Idempotency-Key" in field_errors(body)
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FlashOrder)) == 1
        assert s.scalar(select(FlashSale.sold)) == 1


def test_bad_requests_are_refused_precisely_and_change_nothing(client: TestClient, world: World) -> None:
    sale = create_sale(client, world)["id"]
    world.clock.advance(minutes=2)
    url = f"{API}/flash-sales/{sale}/orders"
    no_key = client.post(url, json={"quantity": 1}, headers=world.auth("buyer_a"))
    assert "Idempotency-Key" in field_errors(assert_problem(no_key, 422, "validation-failed"))
    zero = client.post(
        url, json={"quantity": 0}, headers={**world.auth("buyer_a"), "Idempotency-Key": new_key()}
    )
    assert "quantity" in field_errors(assert_problem(zero, 422, "validation-failed"))
    assert_problem(take(client, world, sale, "seller_a"), 403, "forbidden")
    assert_problem(take(client, world, "fls_nope", "buyer_a"), 404, "not-found")
    assert_problem(take(client, world, sale, "buyer_a", 3), 409, "over-buyer-limit")
    state = sale_state(client, world, sale)
    assert (state["reserved"], state["sold"], state["waiting"]) == (0, 0, 0)


def test_a_sale_needs_a_sound_spec_and_the_units(client: TestClient, world: World) -> None:
    url = f"{API}/flash-sales"
    base = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 3,
        "per_buyer_limit": 2,
        "starts_at": (T0 + dt.timedelta(hours=2)).isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
    }
    body = assert_problem(
        client.post(url, json=base, headers=world.auth("seller_a")), 422, "validation-failed"
    )
    assert "ends_at" in field_errors(body)
    too_many = {
        **base,
        "ends_at": (T0 + dt.timedelta(hours=3)).isoformat(),
        "stock": 500,
        "per_buyer_limit": 1,
    }
    assert_problem(client.post(url, json=too_many, headers=world.auth("seller_a")), 409, "insufficient-stock")
    other_sellers = {**too_many, "stock": 1}
    body = assert_problem(
        client.post(url, json=other_sellers, headers=world.auth("seller_b")), 422, "validation-failed"
    )
    assert "sku" in field_errors(body)
    assert_problem(client.post(url, json=other_sellers, headers=world.auth("buyer_a")), 403, "forbidden")
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FlashSale)) == 0


def test_flash_webhook_checks_signature_and_payment(client: TestClient, world: World) -> None:
    from entrepot.ordering.payments import sign

    url = f"{API}/flash-sales/payments/webhook"
    body = b'{"type":"payment.succeeded","payment_id":"fpay_x","amount_minor":1,"currency":"SGD"}'
    assert_problem(
        client.post(url, content=body, headers={"Entrepot-Signature": "t=1,v1=00"}), 401, "unauthenticated"
    )
    import time

    signed = sign(world.settings().webhook_secret, body, int(time.time()))
    assert_problem(client.post(url, content=body, headers={"Entrepot-Signature": signed}), 404, "not-found")


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_sale_sold_out_for_good_refuses_newcomers_without_the_database(
    world: World, fast_path: bool
) -> None:
    client = adapted(world.client(own_app=True, api_key_cache_seconds=60.0), fast_path)  # keys checked once
    sale = create_sale(client, world, stock=1, per_buyer_limit=1)["id"]
    world.clock.advance(minutes=2)
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "flash-last-unit-01"}
    url = f"{API}/flash-sales/{sale}/orders"
    bought = client.post(url, json={"quantity": 1, "payment_method": "card"}, headers=headers)
    assert bought.status_code == 201, bought.text
    # this batch reads the committed row with every unit paid: the worker learns it is sold out for good
    assert_problem(take(client, world, sale, "buyer_b"), 409, "sold-out")
    statements: list[str] = []
    event.listen(world.db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    too_many = assert_problem(take(client, world, sale, "buyer_b", quantity=2), 409, "over-buyer-limit")
    again = assert_problem(take(client, world, sale, "buyer_b"), 409, "sold-out")
    assert statements == []  # certain refusals: no database round trip
    assert again["sale"] == sale and "none can come back" in again["detail"]
    assert "1 per buyer" in too_many["detail"]
    # a buyer with an order still reaches the database: their retry gets the order back
    replay = client.post(url, json={"quantity": 1, "payment_method": "card"}, headers=headers)
    assert replay.status_code == 200 and replay.json()["id"] == bought.json()["id"]
    assert replay.json()["status"] == "paid" and statements
    world.clock.advance(hours=1)
    assert_problem(take(client, world, sale, "buyer_b"), 409, "sale-ended")


def test_only_the_buyer_or_an_operator_pays_for_a_reserved_flash_order(world: World) -> None:
    client = world.client()
    sale = create_sale(client, world)["id"]
    world.clock.advance(minutes=2)
    held = take(client, world, sale, "buyer_a", 1, pay=None).json()
    assert held["status"] == "reserved"
    url = f"{API}/flash-orders/{held['id']}"
    for who in ("seller_a", "seller_b"):  # the sale's own seller too: it must not charge or release it
        refused = client.post(f"{url}/pay", json={"method": "decline_card_declined"}, headers=world.auth(who))
        assert_problem(refused, 403, "forbidden")
    after = client.get(url, headers=world.auth("buyer_a")).json()
    assert (after["status"], after["payment_id"]) == ("reserved", None)
    paid = client.post(f"{url}/pay", json={"method": "card"}, headers=world.auth("buyer_a"))
    assert paid.status_code == 202, paid.text
