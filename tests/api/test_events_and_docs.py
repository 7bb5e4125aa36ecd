"""The outbox as operators read it, the OpenAPI document, the interactive docs and the health check."""

from __future__ import annotations

from typing import Any

from entrepot import __version__
from tests.api.helpers import API, assert_problem, collect, paid_order, place_ok
from tests.world import World


def test_health(world: World) -> None:
    response = world.client().get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "version": __version__, "warnings": []}


def test_openapi_document(world: World) -> None:
    response = world.client().get("/openapi.json")
    assert response.status_code == 200, response.text
    spec: dict[str, Any] = response.json()
    assert spec["info"]["title"] == "Entrepot"
    assert spec["info"]["version"] == __version__
    paths = spec["paths"]
    for path, method in [
        (f"{API}/orders", "post"),
        (f"{API}/orders", "get"),
        (f"{API}/orders/{{order_id}}/pay", "post"),
        (f"{API}/orders/{{order_id}}/refunds", "post"),
        (f"{API}/checkout/quote", "post"),
        (f"{API}/payments/webhook", "post"),
        (f"{API}/catalog/import", "post"),
        (f"{API}/org/tree", "get"),
        (f"{API}/fx/convert", "get"),
        (f"{API}/events", "get"),
    ]:
        assert method in paths[path], (path, method)
    place = paths[f"{API}/orders"]["post"]
    headers = {p["name"] for p in place["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert "text/csv" in paths[f"{API}/catalog/import"]["post"]["requestBody"]["content"]


def test_interactive_docs(world: World) -> None:
    response = world.client().get("/docs")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_interactive_docs_load_nothing_from_the_internet(world: World) -> None:
    client = world.client()
    page = client.get("/docs").text
    assert "http://" not in page and "https://" not in page.replace("https://entrepot.dev", "")
    for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"):
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 10_000


def test_docs_need_no_key_but_the_api_does(world: World) -> None:
    client = world.client()
    assert client.get("/openapi.json").status_code == 200
    assert_problem(client.get(f"{API}/events"), 401, "unauthenticated")


def test_events_are_for_operators_only(world: World) -> None:
    client = world.client()
    for who in ("buyer_a", "seller_a"):
        assert_problem(client.get(f"{API}/events", headers=world.auth(who)), 403, "forbidden")


def test_order_events_in_order_with_payloads(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 2))
    events = collect(client, world, "/events", aggregate_id=order["id"])
    assert [e["type"] for e in events] == ["order.placed", "order.paid"]
    assert events[0]["payload"] == {"total_minor": 4179, "currency": "SGD", "market": "lazada-sg"}
    assert events[1]["payload"] == {"payment": order["payments"][0]["id"]}
    assert all(e["occurred_at"] == "2025-11-11T03:00:00Z" for e in events)
    assert all(e["id"].startswith("evt_") for e in events)


def test_events_filter_by_type(world: World) -> None:
    client = world.client()
    first = place_ok(client, world, ("seller_a_red", 1))
    second = place_ok(client, world, ("seller_a_blue", 1), who="buyer_b")
    placed = collect(client, world, "/events", type="order.placed")
    assert [e["aggregate_id"] for e in placed] == [first["id"], second["id"]]
    assert {e["type"] for e in placed} == {"order.placed"}
    assert collect(client, world, "/events", type="order.shipped") == []


def test_events_page_oldest_first_with_the_cursor(world: World) -> None:
    client = world.client()
    for _ in range(3):
        place_ok(client, world, ("seller_a_red", 1))
    everything = collect(client, world, "/events")
    assert len(everything) > 5
    paged: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    for _ in range(100):
        page = client.get(f"{API}/events", params=params, headers=world.auth("operator")).json()
        assert len(page["items"]) <= 4
        paged += [e["id"] for e in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert paged == [e["id"] for e in everything]
    assert len(set(paged)) == len(paged)
    assert [e["type"] for e in everything[-3:]] == ["order.placed"] * 3
    # a consumer that kept the last cursor sees only what came after it
    last = client.get(
        f"{API}/events", params={"limit": len(everything)}, headers=world.auth("operator")
    ).json()
    assert last["next_cursor"] is not None
    newer = place_ok(client, world, ("seller_a_red", 1))
    tail = client.get(
        f"{API}/events", params={"cursor": last["next_cursor"]}, headers=world.auth("operator")
    ).json()
    assert [(e["type"], e["aggregate_id"]) for e in tail["items"]] == [("order.placed", newer["id"])]
