"""Metrics and logs (issue 19): GET /api/v1/metrics in Prometheus' format for operators only, requests
counted by route template (the flash fast path's too) and status, events counted once their transaction
commits and not when it rolls back, the outbox's backlog; every answer carries a request id that the log
lines written for it carry; a key made, used and revoked appears in no log line."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from entrepot.platform.logs import JsonFormatter, bind_request_id, unbind_request_id
from tests.api.helpers import API, basket, place, place_ok
from tests.world import World


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when the series is not there yet)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
        if not labels and line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def scrape(client: TestClient, world: World) -> str:
    response = client.get(f"{API}/metrics", headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def test_orders_and_requests_are_counted_as_they_happened(world: World) -> None:
    client = world.client()
    before = scrape(client, world)
    place_ok(client, world, ("seller_a_red", 1))
    place_ok(client, world, ("seller_a_red", 1))
    refused = place(client, world, basket(world, ("seller_a_red", 10_000)))  # more than in stock: rolled back
    assert refused.status_code == 409, refused.text
    # answered by the fast path, before the router: 422, no Idempotency-Key
    client.post(f"{API}/flash-sales/fs_unknown/orders", json={"quantity": 1}, headers=world.auth("buyer_a"))
    after = scrape(client, world)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("entrepot_events_recorded_total", type="order.placed") == 2
    orders = {"method": "POST", "route": "/api/v1/orders"}
    assert delta("entrepot_http_requests_total", **orders, status="201") == 2
    assert delta("entrepot_http_requests_total", **orders, status="409") == 1
    assert delta("entrepot_http_request_duration_seconds_count", **orders) == 3
    flash = {"method": "POST", "route": "/api/v1/flash-sales/{sale_id}/orders", "status": "422"}  # no key
    assert delta("entrepot_http_requests_total", **flash) == 1
    assert sample(after, "entrepot_outbox_pending") >= 2  # the orders' events wait: the relay is not running
    assert "entrepot_db_pool_in_use" in after


def test_only_operators_read_the_metrics(world: World) -> None:
    client = world.client()
    assert client.get(f"{API}/metrics").status_code == 401
    for who in ("seller_a", "buyer_a"):
        assert client.get(f"{API}/metrics", headers=world.auth(who)).status_code == 403


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("trace-42.a_b", True), ("bad id with spaces", False), ("x" * 65, False), (None, False)],
)
def test_every_answer_carries_a_request_id(world: World, sent: str | None, kept: bool) -> None:
    headers = {**world.auth("operator"), **({"X-Request-Id": sent} if sent else {})}
    answer = world.client().get(f"{API}/markets", headers=headers)
    returned = answer.headers["x-request-id"]
    assert (returned == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", returned)


def test_a_json_log_line_carries_the_request_id() -> None:
    record = logging.LogRecord(
        "entrepot.api", logging.WARNING, __file__, 1, "database out of reach on %s", ("GET",), None
    )
    token = bind_request_id("req-7")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        unbind_request_id(token)
    assert line["request_id"] == "req-7" and line["message"] == "database out of reach on GET"
    assert line["level"] == "warning" and line["logger"] == "entrepot.api"
    assert "request_id" not in json.loads(JsonFormatter().format(record))  # outside a request: none


def test_a_key_appears_in_no_log_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = world.client()
    created = client.post(
        f"{API}/api-keys",
        json={"role": "buyer", "name": "b", "buyer": world.ids["buyer_a"]},
        headers=world.auth("operator"),
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert client.get(f"{API}/orders", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get(f"{API}/orders", headers={"Authorization": f"Bearer {key}x"}).status_code == 401
    revoked = client.delete(f"{API}/api-keys/{created.json()['id']}", headers=world.auth("operator"))
    assert revoked.status_code == 204, revoked.text
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records] + [r.getMessage() for r in caplog.records]
    assert caplog.records  # something was logged, so the check below looked at real lines
    # The secret is everything after the second underscore: token_urlsafe may itself hold
    # underscores, so splitting on every one could leave a fragment that any line contains.
    secrets_ = [key.split("_", 2)[-1], world.keys["operator"].split("_", 2)[-1]]
    assert not [line for line in lines if any(s in line for s in secrets_)]


def test_an_event_carries_the_id_of_the_request_that_recorded_it(world: World) -> None:
    client = world.client()
    placing = {**world.auth("buyer_a"), "Idempotency-Key": "key-req-0001", "X-Request-Id": "req-place-0001"}
    # placed through the batched checkout: the batch's events name each order's own request
    answer = client.post(f"{API}/orders", json=basket(world, ("seller_a_red", 1)), headers=placing)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    asked = {**world.auth("buyer_a"), "X-Request-Id": "req-cancel-0001"}
    cancelled = client.post(f"{API}/orders/{order['id']}/cancel", headers=asked)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.headers["x-request-id"] == "req-cancel-0001"
    listed = client.get(
        f"{API}/events", params={"aggregate_id": order["id"]}, headers=world.auth("operator")
    ).json()["items"]
    by_type = {event["type"]: event["request_id"] for event in listed}
    assert by_type == {"order.placed": "req-place-0001", "order.cancelled": "req-cancel-0001"}
