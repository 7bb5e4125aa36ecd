"""One answer for "not yours" (issue 28): every route of the OpenAPI document that takes an id answers a
seller, a buyer and a carrier alike for another tenant's thing and for an unknown id of the same kind:
the same status, problem type and detail (the id aside), so no answer tells whether the thing exists,
and nothing changes. A role that may never use a route gets a 403 that does not depend on the id.

The walk knows every route with a path parameter (ROUTES): a new one fails it until it is listed here
with the kind of thing each of its parameters names."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from entrepot.kernel.ids import new_id
from entrepot.logistics import service as logistics
from entrepot.platform.outbox import relay_once
from tests.api.helpers import API, new_key, snapshot
from tests.api.local_on_demand import shipped_city  # noqa: F401 - the fixture is used
from tests.api.test_carrier_keys import other_express_network
from tests.integration.test_shipping import small_network
from tests.world import T0, World

# Who asks: a seller, a buyer and a carrier key of a carrier that runs no leg of the other tenant's
# shipment. Every thing the walk asks about belongs to seller_b and buyer_b.
CALLERS = ("seller_a", "buyer_a", "carrier")

# Kinds of tenant-owned things: the walk asks for the other tenant's and for an unknown one of each.
TENANT_KINDS = frozenset(
    {
        "order",
        "paid_order",
        "shipment",
        "cart",
        "flash_order",
        "live_session",
        "drop",
        "product",
        "sku",
        "seller",
        "api_key",
        "target",
        # Campaigns are shown to every buyer (their ids are shared to sell), but seller-owned.
        "flash_sale",
        "group_buy",
        "group_team",
        "webhook_subscription",
        "webhook_delivery",
        # On-demand delivery (issue 22): a seller's store (shown to everyone), a buyer's order, and a
        # courier and its trip, each its own carrier key's; a store's menu item, its seller's.
        "local_store",
        "local_menu_item",
        "local_order",
        "local_courier",
        "local_trip",
    }
)


@dataclass(frozen=True)
class Route:
    """How to call one route: the kind of thing (or the literal, after "=") each path parameter names,
    a body that would be accepted if the thing were the caller's, and the callers for whom the thing is
    public by design (campaigns are there to be seen and joined by any buyer): nothing to hide then."""

    ids: dict[str, str]
    body: dict[str, Any] | None = None
    public_to: frozenset[str] = frozenset()


EVERYONE = frozenset(CALLERS)
BUYERS = frozenset({"buyer_a"})
THEIR_SKU = "@their-sku"  # in a body or after "=": seller_b's red SKU, listed for every buyer to see
SCAN = {
    "event_id": "not-yours",
    "type": "picked_up",
    "occurred_at": "2025-11-11T04:00:00Z",
    "node": "sg-tuas",
}
JOIN = {"payment_method": "card"}
HOOK = Route({"subscription_id": "webhook_subscription"})
HOOK_ROUTES = [("GET", ""), ("DELETE", ""), ("GET", "/deliveries")]
HOOK_ROUTES += [("POST", f"/{action}") for action in ("rotate", "enable", "disable")]
REPLAY = {"since": "2025-11-11T00:00:00Z", "until": "2025-11-12T00:00:00Z"}
LOCAL_HERE = {"lat": 60.1710, "lon": 24.9414}  # central Helsinki, the city's map
DROP = {"sku": THEIR_SKU, "sale_price_minor": 500, "stock": 1, "per_buyer_limit": 1}

ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/flash-sales/{sale_id}"): Route({"sale_id": "flash_sale"}, public_to=EVERYONE),
    ("POST", "/flash-sales/{sale_id}/orders"): Route({"sale_id": "flash_sale"}, {"quantity": 1}, BUYERS),
    ("GET", "/flash-orders/{order_id}"): Route({"order_id": "flash_order"}),
    ("POST", "/flash-orders/{order_id}/pay"): Route({"order_id": "flash_order"}, {"method": "card"}),
    ("GET", "/group-buys/{ref}"): Route({"ref": "group_buy"}, public_to=EVERYONE),
    ("POST", "/group-buys/{ref}/teams"): Route({"ref": "group_buy"}, JOIN, BUYERS),
    ("GET", "/group-teams/{team_ref}"): Route({"team_ref": "group_team"}, public_to=EVERYONE),
    ("POST", "/group-teams/{team_ref}/members"): Route({"team_ref": "group_team"}, JOIN, BUYERS),
    # Viewers of a livestream see its drops; running it is its seller's.
    ("GET", "/live-sessions/{ref}"): Route({"ref": "live_session"}, public_to=EVERYONE),
    ("GET", "/live-sessions/{ref}/events"): Route({"ref": "live_session"}, public_to=EVERYONE),
    ("POST", "/live-sessions/{ref}/drops"): Route({"ref": "live_session"}, DROP),
    ("POST", "/live-sessions/{ref}/drops/{drop}/open"): Route({"ref": "live_session", "drop": "drop"}),
    ("POST", "/live-sessions/{ref}/drops/{drop}/close"): Route({"ref": "live_session", "drop": "drop"}),
    ("POST", "/live-sessions/{ref}/end"): Route({"ref": "live_session"}),
    # The group's own organisation and markets: no tenant's.
    ("POST", "/org/units/{code}/moves"): Route({"code": "=lazada"}),
    ("GET", "/org/units/{code}/history"): Route({"code": "=lazada"}),
    ("GET", "/org/units/{code}/move-revisions"): Route({"code": "=lazada"}),
    ("POST", "/org/units/{code}/close"): Route({"code": "=lazada"}),
    ("PUT", "/org/units/{code}/moves/planned"): Route({"code": "=lazada"}),
    ("POST", "/org/units/{code}/moves/planned/withdraw"): Route({"code": "=lazada"}),
    # The group's accounts (investees, programmes): operators' and analysts', no tenant's.
    **{
        ("POST", f"/reports/investees/{{code}}/{part}"): Route({"code": "=ant-group"})
        for part in ("impairments", "results", "stakes")
    },
    **{
        ("POST", f"/reports/programmes/{{code}}/{part}"): Route({"code": "=rural"})
        for part in ("spend", "targets")
    },
    ("GET", "/markets/{code}"): Route({"code": "=lazada-sg"}),
    ("GET", "/markets/{market}/skus"): Route({"market": "=lazada-sg"}),
    ("PUT", "/reports/gmv-definitions/{business_unit}"): Route({"business_unit": "=lazada"}),
    ("GET", "/sellers/{seller_id}"): Route({"seller_id": "seller"}),
    ("GET", "/products/{product_id}"): Route({"product_id": "product"}),
    ("PUT", "/skus/{sku_id}/prices/{market}"): Route(
        {"sku_id": "sku", "market": "=lazada-sg"}, {"amount_minor": 1, "currency": "SGD"}
    ),
    ("GET", "/skus/{sku_id}/stock"): Route({"sku_id": "sku"}),
    ("PUT", "/skus/{sku_id}/stock/{warehouse}"): Route(
        {"sku_id": "sku", "warehouse": "=sg-tuas"}, {"on_hand": 0}
    ),
    ("DELETE", "/api-keys/{key_id}"): Route({"key_id": "api_key"}),
    ("GET", "/shipments/{shipment_id}"): Route({"shipment_id": "shipment"}),
    ("POST", "/shipments/{shipment_id}/scans"): Route({"shipment_id": "shipment"}, SCAN),
    ("GET", "/orders/{order_id}/shipments"): Route({"order_id": "paid_order"}),
    ("POST", "/orders/{order_id}/shipments"): Route({"order_id": "paid_order"}),
    ("GET", "/emissions/shipments/{shipment_id}"): Route({"shipment_id": "shipment"}),
    ("GET", "/emissions/targets/{target_id}/progress"): Route({"target_id": "target"}),
    ("GET", "/emissions/trips/{trip_id}"): Route({"trip_id": "local_trip"}),
    ("GET", "/orders/{order_id}"): Route({"order_id": "order"}),
    ("POST", "/orders/{order_id}/pay"): Route({"order_id": "order"}, {"method": "card"}),
    ("POST", "/orders/{order_id}/refunds"): Route(
        {"order_id": "paid_order"}, {"amount_minor": 100, "reason": "goodwill"}
    ),
    ("POST", "/orders/{order_id}/{action}"): Route({"order_id": "order", "action": "=cancel"}),
    ("GET", "/carts/{cart_id}"): Route({"cart_id": "cart"}),
    ("PUT", "/carts/{cart_id}/lines/{sku}"): Route(
        {"cart_id": "cart", "sku": "=" + THEIR_SKU}, {"quantity": 2}
    ),
    ("POST", "/carts/{cart_id}/quote"): Route({"cart_id": "cart"}),
    ("POST", "/carts/{cart_id}/checkout"): Route({"cart_id": "cart"}),
    # A delivery station's day: the group's network, no tenant's (issue 22; its own tests cover who plans).
    ("POST", "/stations/{station}/day-plans"): Route({"station": "=ds-sg-central"}),
    ("GET", "/stations/{station}/day-plans"): Route({"station": "=ds-sg-central"}),
    **{(method, f"/webhooks/subscriptions/{{subscription_id}}{tail}"): HOOK for method, tail in HOOK_ROUTES},
    ("POST", "/webhooks/subscriptions/{subscription_id}/replay"): Route(HOOK.ids, REPLAY),
    ("GET", "/webhooks/deliveries/{delivery_id}"): Route({"delivery_id": "webhook_delivery"}),
    ("POST", "/webhooks/deliveries/{delivery_id}/replay"): Route({"delivery_id": "webhook_delivery"}),
    ("GET", "/local/stores/{ref}"): Route({"ref": "local_store"}, public_to=EVERYONE),
    ("PATCH", "/local/stores/{ref}"): Route({"ref": "local_store"}, {"prep_minutes": 5}),
    # The menu is shown to everyone (what is on sale); only its store's seller changes it.
    ("GET", "/local/stores/{ref}/menu"): Route({"ref": "local_store"}, public_to=EVERYONE),
    ("POST", "/local/stores/{ref}/menu"): Route({"ref": "local_store"}, {"name": "tea", "price_minor": 300}),
    ("PATCH", "/local/stores/{ref}/menu/{item}"): Route(
        {"ref": "local_store", "item": "local_menu_item"}, {"price_minor": 1}
    ),
    ("DELETE", "/local/stores/{ref}/menu/{item}"): Route({"ref": "local_store", "item": "local_menu_item"}),
    ("GET", "/local/couriers/{ref}"): Route({"ref": "local_courier"}),
    ("GET", "/local/couriers/{ref}/trip"): Route({"ref": "local_courier"}),
    ("POST", "/local/couriers/{ref}/positions"): Route({"ref": "local_courier"}, LOCAL_HERE),
    ("POST", "/local/trips/{ref}/accept"): Route({"ref": "local_trip"}),
    ("POST", "/local/trips/{ref}/decline"): Route({"ref": "local_trip"}),
    ("GET", "/local/orders/{ref}"): Route({"ref": "local_order"}),
    ("GET", "/local/orders/{ref}/tracking"): Route({"ref": "local_order"}),
    ("POST", "/local/orders/{ref}/cancel"): Route({"ref": "local_order"}, {}),
    ("POST", "/local/orders/{ref}/pickup"): Route({"ref": "local_order"}),
    ("POST", "/local/orders/{ref}/delivery"): Route(
        {"ref": "local_order"}, {"kind": "code", "reference": "1"}
    ),
}


@dataclass
class Theirs:
    """The other tenant's things (seller_b's and buyer_b's), by kind, and how their owner sees them."""

    ids: dict[str, str] = field(default_factory=dict)
    views: list[tuple[str, str]] = field(default_factory=list)  # (who, path) whose answers must not change


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _build_theirs(client: TestClient, world: World) -> Theirs:
    ops, buyer, seller = world.auth("operator"), world.auth("buyer_b"), world.auth("seller_b")
    sku = world.ids["seller_b_red"]
    _ok(client.put(f"{API}/skus/{sku}/stock/sg-tuas", json={"on_hand": 20}, headers=ops))
    theirs = Theirs({"sku": sku, "product": world.ids["seller_b_product"], "seller": world.ids["seller_b"]})

    def place(pay: bool) -> str:
        body: dict[str, Any] = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 1}]}
        if pay:
            body["payment_method"] = "card"
        headers = {**buyer, "Idempotency-Key": new_key()}
        return str(_ok(client.post(f"{API}/orders", json=body, headers=headers))["id"])

    hook = {"url": "https://hooks.example.com/b", "event_types": ["order.paid"]}
    subscription = _ok(client.post(f"{API}/webhooks/subscriptions", json=hook, headers=seller))["id"]
    theirs.ids["order"], theirs.ids["paid_order"] = place(pay=False), place(pay=True)
    while relay_once(world.db, world.relay_registry(), world.clock()):  # plan the shipment, its emissions
        pass
    log = _ok(client.get(f"{API}/webhooks/subscriptions/{subscription}/deliveries", headers=seller))
    theirs.ids["webhook_subscription"], theirs.ids["webhook_delivery"] = subscription, log["items"][0]["id"]
    [shipment] = _ok(client.get(f"{API}/orders/{theirs.ids['paid_order']}/shipments", headers=ops))
    theirs.ids["shipment"] = shipment["id"]

    cart = _ok(client.post(f"{API}/carts", json={"market": "lazada-sg"}, headers=buyer))["id"]
    _ok(client.put(f"{API}/carts/{cart}/lines/{sku}", json={"quantity": 1}, headers=buyer))
    theirs.ids["cart"] = cart

    window = {"starts_at": T0.isoformat(), "ends_at": (T0 + dt.timedelta(hours=1)).isoformat()}
    sale = {"sku": sku, "market": "lazada-sg", "sale_price_minor": 990, "stock": 3, "per_buyer_limit": 2}
    flash_sale = _ok(client.post(f"{API}/flash-sales", json={**sale, **window}, headers=seller))["id"]
    take = {**buyer, "Idempotency-Key": new_key()}
    taken = client.post(f"{API}/flash-sales/{flash_sale}/orders", json={"quantity": 1}, headers=take)
    theirs.ids["flash_sale"], theirs.ids["flash_order"] = flash_sale, _ok(taken)["id"]  # reserved, unpaid

    group = {"sku": sku, "market": "lazada-sg", "team_price_minor": 1290, "team_size": 3}
    group |= {"team_window_seconds": 3600, "stock": 3, **window}
    theirs.ids["group_buy"] = _ok(client.post(f"{API}/group-buys", json=group, headers=seller))["id"]
    team = client.post(f"{API}/group-buys/{theirs.ids['group_buy']}/teams", json=JOIN, headers=buyer)
    theirs.ids["group_team"] = _ok(team)["id"]

    live = {"market": "lazada-sg", "host": "Bo", "title": "Phone cases"}
    theirs.ids["live_session"] = _ok(client.post(f"{API}/live-sessions", json=live, headers=seller))["id"]
    drops = f"{API}/live-sessions/{theirs.ids['live_session']}/drops"
    theirs.ids["drop"] = _ok(client.post(drops, json={**DROP, "sku": sku}, headers=seller))["drops"][-1]["id"]

    key = {"role": "buyer", "name": "buyer_b's second device", "buyer": world.ids["buyer_b"]}
    created = _ok(client.post(f"{API}/api-keys", json=key, headers=ops))
    theirs.ids["api_key"] = created["id"]
    world.keys["buyer_b_second"] = created["key"]
    target = {"name": "halve", "metric": "g_per_tkm", "baseline_value": 1000.0}
    theirs.ids["target"] = _ok(client.post(f"{API}/emissions/targets", json=target, headers=ops))["id"]

    carrier = {"role": "carrier", "name": "scanners", "carrier": "Other Express"}  # runs no leg of theirs
    world.keys["carrier"] = _ok(client.post(f"{API}/api-keys", json=carrier, headers=ops))["key"]
    _build_local(client, world, theirs)

    ids = theirs.ids
    theirs.views = [
        ("operator", f"/orders/{ids['order']}"),
        ("operator", f"/orders/{ids['paid_order']}"),
        ("operator", f"/shipments/{ids['shipment']}"),
        ("operator", f"/emissions/shipments/{ids['shipment']}"),
        ("operator", f"/webhooks/subscriptions/{ids['webhook_subscription']}"),
        ("operator", f"/webhooks/subscriptions/{ids['webhook_subscription']}/deliveries"),
        ("buyer_b", f"/carts/{ids['cart']}"),
        ("buyer_b", f"/flash-orders/{ids['flash_order']}"),
        ("operator", f"/flash-sales/{ids['flash_sale']}"),
        ("operator", f"/group-buys/{ids['group_buy']}"),
        ("buyer_b", f"/group-teams/{ids['group_team']}"),
        ("operator", f"/live-sessions/{ids['live_session']}"),
        ("operator", f"/products/{ids['product']}"),
        ("operator", f"/skus/{ids['sku']}/stock"),
        ("operator", f"/sellers/{ids['seller']}"),
        ("buyer_b_second", "/me"),  # the key still works
        ("operator", f"/emissions/targets/{ids['target']}/progress"),
        ("operator", f"/local/stores/{ids['local_store']}"),
        ("seller_b", f"/local/stores/{ids['local_store']}/menu"),
        ("operator", f"/local/orders/{ids['local_order']}"),
        ("operator", f"/local/couriers/{ids['local_courier']}"),
    ]
    return theirs


def _build_local(client: TestClient, world: World, theirs: Theirs) -> None:
    """seller_b's store, buyer_b's order from it, offered on a trip to a courier of a key of its own (a
    kitchen of a minute: the round offers the trip at once)."""
    ops = world.auth("operator")
    store: dict[str, Any] = {"name": "B's", "kind": "restaurant", "market": "lazada-sg"}
    store["place"] = {"point": LOCAL_HERE}
    store |= {"opens": "00:00", "closes": "24:00", "prep_minutes": 1}
    made = client.post(f"{API}/local/stores", json=store, headers=world.auth("seller_b"))
    theirs.ids["local_store"] = _ok(made)["id"]
    key = _ok(
        client.post(
            f"{API}/api-keys", json={"role": "carrier", "name": "rider", "carrier": "test"}, headers=ops
        )
    )
    shift = {"shift_starts_at": T0.isoformat(), "shift_ends_at": (T0 + dt.timedelta(hours=8)).isoformat()}
    courier = _ok(
        client.post(
            f"{API}/local/couriers",
            json={"name": "B", "mode": "ebike", "key": key["id"], **shift},
            headers=ops,
        )
    )
    rider = {"Authorization": f"Bearer {key['key']}"}
    _ok(client.post(f"{API}/local/couriers/{courier['id']}/positions", json=LOCAL_HERE, headers=rider))
    menu = f"/local/stores/{theirs.ids['local_store']}/menu"
    soup = _ok(
        client.post(f"{API}{menu}", json={"name": "soup", "price_minor": 900}, headers=world.auth("seller_b"))
    )
    theirs.ids["local_menu_item"] = soup["id"]
    order = {"store": made.json()["id"], "items": [{"item": soup["id"], "quantity": 1}]}
    order["drop_off"] = {"address": "Mikonkatu 18"}
    placed = _ok(client.post(f"{API}/local/orders", json=order, headers=world.auth("buyer_b")))
    _ok(client.post(f"{API}/local/dispatch-rounds", headers=ops))
    trip = _ok(client.get(f"{API}/local/orders/{placed['id']}", headers=ops))["trip"]
    assert trip is not None, "the round offered no trip"
    theirs.ids |= {"local_courier": courier["id"], "local_order": placed["id"], "local_trip": trip}


def _state(client: TestClient, world: World, theirs: Theirs) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was: stock, orders, events, and each of their things
    as its owner sees it."""
    views = [_ok(client.get(f"{API}{path}", headers=world.auth(who))) for who, path in theirs.views]
    return (snapshot(client, world), views)


def _path(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return API + template


def _their_sku(value: Any, world: World) -> Any:
    return world.ids["seller_b_red"] if value == THEIR_SKU else value


def _answer(
    client: TestClient, world: World, method: str, path: str, route: Route, who: str
) -> httpx.Response:
    headers = {**world.auth(who), "Idempotency-Key": new_key()}
    body = None if route.body is None else {k: _their_sku(v, world) for k, v in route.body.items()}
    response: httpx.Response = client.request(method, path, json=body, headers=headers)
    return response


def _seen_as(response: httpx.Response, ref: str) -> tuple[int, str, Any]:
    """The answer with the asked-for id taken out: what must be the same for theirs and for none."""
    text = response.text.replace(ref, "{id}")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return response.status_code, response.headers.get("content-type", ""), body


def _values(route: Route, theirs: Theirs, world: World) -> dict[str, str]:
    values = {}
    for name, kind in route.ids.items():
        if kind.startswith("="):
            values[name] = _their_sku(kind[1:], world)
        else:
            values[name] = theirs.ids[kind]
    return values


def _differences(client: TestClient, world: World, theirs: Theirs, method: str, template: str) -> list[str]:
    """Each caller asks about their thing, then about an unknown one in each id's place in turn."""
    route = ROUTES[(method, template)]
    found = []
    for who in CALLERS:
        if who in route.public_to:
            continue
        values = _values(route, theirs, world)
        for name, kind in route.ids.items():
            if kind not in TENANT_KINDS:
                continue
            ref = values[name]
            unknown = new_id(ref.split("_", 1)[0])
            asked = _answer(client, world, method, _path(template, values), route, who)
            unknown_asked = _answer(
                client, world, method, _path(template, {**values, name: unknown}), route, who
            )
            seen, unseen = _seen_as(asked, ref), _seen_as(unknown_asked, unknown)
            if seen != unseen:
                found.append(f"{method} {template} as {who}, {name}: theirs {seen} but unknown {unseen}")
    return found


def _templates_with_ids(client: TestClient) -> set[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {
        (method.upper(), path.removeprefix(API))
        for path, operations in paths.items()
        for method, operation in operations.items()
        if any(p["in"] == "path" for p in operation.get("parameters", []))
    }


@pytest.fixture
def client(world: World) -> TestClient:
    with world.db.transaction() as session:
        logistics.store_network(session, small_network())
        logistics.store_network(session, other_express_network())  # the carrier key's carrier
    return world.client()


def test_the_walk_knows_every_route_that_takes_an_id(world: World) -> None:
    routes = _templates_with_ids(world.client())
    unknown = sorted(routes - ROUTES.keys())
    assert not unknown, f"routes with path ids this walk cannot build ids for (add them to ROUTES): {unknown}"
    assert not sorted(ROUTES.keys() - routes), "ROUTES names routes the API no longer has"
    for (method, template), route in ROUTES.items():
        for name, kind in route.ids.items():
            assert "{" + name + "}" in template, (method, template, name)
            assert kind.startswith("=") or kind in TENANT_KINDS, (method, template, kind)


@pytest.mark.usefixtures("shipped_city")
def test_their_things_and_unknown_ones_get_one_answer(world: World, client: TestClient) -> None:
    theirs = _build_theirs(client, world)
    problems: list[str] = []
    # Read once per route, after it: the state a route leaves is the next one's before (reading it on both
    # sides of every route was most of the walk's time).
    before = _state(client, world, theirs)
    for method, template in sorted(ROUTES):
        problems += _differences(client, world, theirs, method, template)
        after = _state(client, world, theirs)
        if after != before:
            problems.append(f"{method} {template} changed their things")
            before = after
    assert not problems, "\n".join(problems)
