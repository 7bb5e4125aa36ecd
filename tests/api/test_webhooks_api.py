"""Webhook subscriptions through the API: who may subscribe to what, the secret shown once, bad input
answered precisely with nothing written, and deliveries queued from the outbox only for the seller whose
event it is."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.integrations.models import WebhookDelivery, WebhookSubscription, WebhookSubscriptionEvent
from entrepot.platform.db import record_events
from tests.api.helpers import API, assert_problem, field_errors, paid_order, relay_all
from tests.api.test_statement_budgets import counted
from tests.world import T0, World

SUBS = f"{API}/webhooks/subscriptions"
RECEIVER = "https://hooks.example.com/entrepot"


@pytest.fixture
def client(world: World) -> TestClient:
    return world.client()


def subscribe(client: TestClient, world: World, who: str, *types: str, url: str = RECEIVER) -> dict[str, Any]:
    response = client.post(SUBS, json={"url": url, "event_types": list(types)}, headers=world.auth(who))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _rows(world: World) -> tuple[int, int, int]:
    with world.db.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (WebhookSubscription, WebhookSubscriptionEvent, WebhookDelivery)
        )


def test_the_secret_is_shown_once_and_never_listed(client: TestClient, world: World) -> None:
    made = subscribe(client, world, "operator", "order.paid", "fx.rates_loaded")
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert made["event_types"] == ["fx.rates_loaded", "order.paid"] and made["seller"] is None
    shown = client.get(f"{SUBS}/{made['id']}", headers=world.auth("operator"))
    listed = client.get(SUBS, headers=world.auth("operator"))
    assert made["secret"] not in shown.text + listed.text
    assert [s["id"] for s in listed.json()["items"]] == [made["id"]]


def test_a_seller_subscribes_to_its_own_kinds_of_events_only(client: TestClient, world: World) -> None:
    mine = subscribe(client, world, "seller_a", "order.paid", "shipment.delivered", "flash_orders.paid")
    assert mine["seller"] == world.ids["seller_a"]
    before = _rows(world)
    refused = client.post(
        SUBS,
        json={"url": RECEIVER, "event_types": ["order.paid", "fx.rates_loaded"]},
        headers=world.auth("seller_a"),
    )
    body = assert_problem(refused, 422, "validation-failed")
    assert "an operator event" in field_errors(body)["event_types"]
    assert _rows(world) == before


def test_another_sellers_subscription_and_deliveries_are_unknown(client: TestClient, world: World) -> None:
    theirs = subscribe(client, world, "seller_b", "order.paid")
    for path in ("", "/deliveries"):
        assert_problem(
            client.get(f"{SUBS}/{theirs['id']}{path}", headers=world.auth("seller_a")), 404, "not-found"
        )
    for action in ("rotate", "enable", "disable"):
        response = client.post(f"{SUBS}/{theirs['id']}/{action}", headers=world.auth("seller_a"))
        assert_problem(response, 404, "not-found")
    assert_problem(client.delete(f"{SUBS}/{theirs['id']}", headers=world.auth("seller_a")), 404, "not-found")
    assert client.get(SUBS, headers=world.auth("seller_a")).json()["items"] == []
    assert_problem(client.get(SUBS, headers=world.auth("buyer_a")), 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "ftp://hooks.example.com/", "event_types": ["order.paid"]}, "url", "https://"),
        ({"url": "https://", "event_types": ["order.paid"]}, "url", "host"),
        ({"url": "http://127.0.0.1:9000/", "event_types": ["order.paid"]}, "url", "loopback"),
        ({"url": "http://10.1.2.3/", "event_types": ["order.paid"]}, "url", "private"),
        ({"url": "http://169.254.169.254/latest", "event_types": ["order.paid"]}, "url", "link-local"),
        ({"url": "http://[::1]/", "event_types": ["order.paid"]}, "url", "loopback"),
        ({"url": "http://localhost:8000/", "event_types": ["order.paid"]}, "url", "this machine"),
        ({"url": "https://user:pw@hooks.example.com/", "event_types": ["order.paid"]}, "url", "password"),
        ({"url": RECEIVER, "event_types": ["order.exploded"]}, "event_types", "not an event type"),
        ({"url": RECEIVER, "event_types": []}, "event_types", ""),
    ],
)
def test_bad_input_is_a_precise_problem_and_writes_nothing(
    client: TestClient, world: World, body: dict[str, Any], field: str, message: str
) -> None:
    response = client.post(SUBS, json=body, headers=world.auth("operator"))
    problem = assert_problem(response, 422, "validation-failed")
    assert message in field_errors(problem)[field], problem
    assert _rows(world) == (0, 0, 0)


def test_private_targets_are_allowed_when_the_setting_says_so(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTREPOT_WEBHOOKS_ALLOW_PRIVATE", "true")
    allowed = world.client()  # a new context reads the setting
    assert (
        subscribe(allowed, world, "operator", "order.paid", url="http://127.0.0.1:9000/")["status"]
        == "active"
    )


def test_an_order_event_goes_to_its_seller_and_to_operators_only(client: TestClient, world: World) -> None:
    seller_a = subscribe(client, world, "seller_a", "order.paid")
    seller_b = subscribe(client, world, "seller_b", "order.paid")
    operator = subscribe(client, world, "operator", "order.paid")
    paid_order(client, world, ("seller_a_red", 1))
    relay_all(world)
    logs = {
        name: client.get(f"{SUBS}/{sub['id']}/deliveries", headers=world.auth(who)).json()["items"]
        for name, sub, who in (
            ("a", seller_a, "seller_a"),
            ("b", seller_b, "seller_b"),
            ("op", operator, "operator"),
        )
    }
    assert logs["b"] == []
    assert [d["event_type"] for d in logs["a"]] == ["order.paid"] == [d["event_type"] for d in logs["op"]]
    assert logs["a"][0]["webhook_id"] == logs["op"][0]["webhook_id"] and logs["a"][0]["status"] == "pending"
    delivery = logs["a"][0]["id"]
    assert_problem(
        client.get(f"{API}/webhooks/deliveries/{delivery}", headers=world.auth("seller_b")), 404, "not-found"
    )
    replay = client.post(f"{API}/webhooks/deliveries/{delivery}/replay", headers=world.auth("seller_b"))
    assert_problem(replay, 404, "not-found")


def test_a_disabled_subscription_gets_no_deliveries(client: TestClient, world: World) -> None:
    sub = subscribe(client, world, "seller_a", "order.paid")
    assert (
        client.post(f"{SUBS}/{sub['id']}/disable", headers=world.auth("seller_a")).json()["status"]
        == "disabled"
    )
    paid_order(client, world, ("seller_a_red", 1))
    relay_all(world)
    assert _rows(world)[2] == 0


def test_the_lists_cost_the_same_statements_for_few_and_many_rows(client: TestClient, world: World) -> None:
    """Held here, as tests/api/test_statement_budgets holds the other lists (it names these two)."""
    sub = subscribe(client, world, "operator", "order.placed")
    paths = ("/webhooks/subscriptions", f"/webhooks/subscriptions/{sub['id']}/deliveries")
    for few_or_many in (3, 30):
        for _ in range(few_or_many - len(_listed(client, world))):
            subscribe(client, world, "operator", "order.paid")
        with world.db.transaction() as session:
            record_events(session, "order.placed", [(f"ord_{n}", {}) for n in range(few_or_many)], T0)
        relay_all(world)
        counts = [len(counted(client, world, path, "operator")) for path in paths]
        if few_or_many == 3:
            few = counts
    assert counts == few and counts[0] <= 5 and counts[1] <= 3, counts


def _listed(client: TestClient, world: World) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(SUBS, headers=world.auth("operator")).json()["items"]
    return items
