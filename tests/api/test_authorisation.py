"""Who may do what: authentication failures are 401 problems; another tenant's data is a 404 (its
existence is not revealed); a role without the right is a 403; operators see everything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    API,
    assert_problem,
    basket,
    collect,
    get_order,
    place_ok,
    snapshot,
    stock,
)
from tests.world import World


def _listed_price(world: World, sku_key: str, market: str = "lazada-sg") -> int:
    client = world.client()
    response = client.get(f"{API}/markets/{market}/skus", headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    prices: dict[str, int] = {s["id"]: s["price_minor"] for s in response.json()["items"]}
    return prices[world.ids[sku_key]]


# --- authentication ------------------------------------------------------------------------------


def _assert_unauthenticated(response: Any, detail_part: str) -> None:
    body = assert_problem(response, 401, "unauthenticated")
    assert detail_part in body["detail"]
    assert body["instance"] == f"{API}/me"
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_key_is_401_problem(world: World) -> None:
    response = world.client().get(f"{API}/me")
    _assert_unauthenticated(response, "missing API key")


def test_non_bearer_scheme_counts_as_missing_key(world: World) -> None:
    response = world.client().get(f"{API}/me", headers={"Authorization": f"Basic {world.keys['buyer_a']}"})
    _assert_unauthenticated(response, "missing API key")


@pytest.mark.parametrize("raw", ["not-a-key", "ek_onlyprefix", "xx_abc_def", "ek__secret"])
def test_malformed_key_is_401_problem(world: World, raw: str) -> None:
    response = world.client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})
    _assert_unauthenticated(response, "malformed API key")


def test_wrong_secret_is_401_problem(world: World) -> None:
    _, prefix, _secret = world.keys["buyer_a"].split("_", 2)
    forged = f"ek_{prefix}_{'A' * 43}"
    assert forged != world.keys["buyer_a"]
    response = world.client().get(f"{API}/me", headers={"Authorization": f"Bearer {forged}"})
    _assert_unauthenticated(response, "invalid or revoked API key")


def test_unknown_prefix_is_401_problem(world: World) -> None:
    response = world.client().get(f"{API}/me", headers={"Authorization": "Bearer ek_000000000000_secret"})
    _assert_unauthenticated(response, "invalid or revoked API key")


def test_x_api_key_header_authenticates_too(world: World) -> None:
    response = world.client().get(f"{API}/me", headers={"X-API-Key": world.keys["seller_a"]})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "seller"
    assert response.json()["seller"] == world.ids["seller_a"]


def test_revoked_key_is_401(world: World) -> None:
    client = world.client()
    created = client.post(
        f"{API}/api-keys",
        json={"role": "buyer", "name": "second device", "buyer": world.ids["buyer_a"]},
        headers=world.auth("operator"),
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["role"] == "buyer"
    assert key["key"].startswith("ek_")
    headers = {"Authorization": f"Bearer {key['key']}"}
    me = client.get(f"{API}/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json() == {"role": "buyer", "key": key["id"], "seller": None, "buyer": world.ids["buyer_a"]}

    revoked = client.delete(f"{API}/api-keys/{key['id']}", headers=world.auth("operator"))
    assert revoked.status_code == 204, revoked.text
    _assert_unauthenticated(client.get(f"{API}/me", headers=headers), "invalid or revoked API key")
    # the buyer's other key still works
    assert client.get(f"{API}/me", headers=world.auth("buyer_a")).status_code == 200


def test_only_operators_revoke_keys(world: World) -> None:
    client = world.client()
    created = client.post(
        f"{API}/api-keys",
        json={"role": "seller", "name": "warehouse scanner", "seller": world.ids["seller_a"]},
        headers=world.auth("operator"),
    )
    assert created.status_code == 201, created.text
    key = created.json()
    response = client.delete(f"{API}/api-keys/{key['id']}", headers=world.auth("seller_a"))
    assert_problem(response, 403, "forbidden")
    still = client.get(f"{API}/me", headers={"Authorization": f"Bearer {key['key']}"})
    assert still.status_code == 200, still.text


def test_every_protected_route_wants_a_key(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    routes = [
        ("GET", f"{API}/orders"),
        ("GET", f"{API}/orders/{order['id']}"),
        ("POST", f"{API}/orders/{order['id']}/cancel"),
        ("GET", f"{API}/products"),
        ("GET", f"{API}/events"),
        ("GET", f"{API}/org/tree"),
        ("GET", f"{API}/markets"),
        ("GET", f"{API}/skus/{world.ids['seller_a_red']}/stock"),
    ]
    for method, path in routes:
        response = client.request(method, path)
        assert_problem(response, 401, "unauthenticated")
    assert get_order(client, world, order["id"])["status"] == "placed"


# --- sellers see only their own catalog ---------------------------------------------------------


def test_seller_cannot_read_another_sellers_product(world: World) -> None:
    client = world.client()
    theirs = client.get(f"{API}/products/{world.ids['seller_b_product']}", headers=world.auth("seller_a"))
    assert_problem(theirs, 404, "not-found")
    own = client.get(f"{API}/products/{world.ids['seller_a_product']}", headers=world.auth("seller_a"))
    assert own.status_code == 200, own.text
    assert own.json()["seller"] == world.ids["seller_a"]
    listed = client.get(f"{API}/products", headers=world.auth("seller_a"))
    assert [p["id"] for p in listed.json()["items"]] == [world.ids["seller_a_product"]]


def test_seller_cannot_read_another_sellers_stock(world: World) -> None:
    client = world.client()
    response = client.get(f"{API}/skus/{world.ids['seller_a_red']}/stock", headers=world.auth("seller_b"))
    assert_problem(response, 404, "not-found")


def test_seller_cannot_set_another_sellers_price(world: World) -> None:
    client = world.client()
    response = client.put(
        f"{API}/skus/{world.ids['seller_b_red']}/prices/lazada-sg",
        json={"amount_minor": 1, "currency": "SGD"},
        headers=world.auth("seller_a"),
    )
    assert_problem(response, 404, "not-found")
    assert _listed_price(world, "seller_b_red") == 1990


def test_seller_cannot_set_another_sellers_stock(world: World) -> None:
    client = world.client()
    before = stock(client, world, "seller_a_red")
    response = client.put(
        f"{API}/skus/{world.ids['seller_a_red']}/stock/sg-tuas",
        json={"on_hand": 0},
        headers=world.auth("seller_b"),
    )
    assert_problem(response, 404, "not-found")
    assert stock(client, world, "seller_a_red") == before == {"sg-tuas": (10, 0), "cn-hangzhou": (5, 0)}


def test_seller_can_set_own_stock_and_price(world: World) -> None:
    client = world.client()
    response = client.put(
        f"{API}/skus/{world.ids['seller_b_red']}/stock/sg-changi",
        json={"on_hand": 7},
        headers=world.auth("seller_b"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["available"] == 7
    assert stock(client, world, "seller_b_red") == {"sg-changi": (7, 0)}
    priced = client.put(
        f"{API}/skus/{world.ids['seller_b_red']}/prices/lazada-sg",
        json={"amount_minor": 2490, "currency": "SGD"},
        headers=world.auth("seller_b"),
    )
    assert priced.status_code == 200, priced.text
    assert _listed_price(world, "seller_b_red") == 2490


def test_seller_cannot_read_another_sellers_seller_record(world: World) -> None:
    client = world.client()
    response = client.get(f"{API}/sellers/{world.ids['seller_b']}", headers=world.auth("seller_a"))
    assert_problem(response, 404, "not-found")
    own = client.get(f"{API}/sellers/{world.ids['seller_a']}", headers=world.auth("seller_a"))
    assert own.status_code == 200, own.text
    assert own.json()["marketplaces"] == ["lazada", "taobao"]


# --- orders: sellers and buyers see only their own ----------------------------------------------


def test_seller_cannot_see_another_sellers_orders(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    response = client.get(f"{API}/orders/{order['id']}", headers=world.auth("seller_b"))
    assert_problem(response, 404, "not-found")
    assert collect(client, world, "/orders", who="seller_b") == []
    mine = collect(client, world, "/orders", who="seller_a")
    assert [o["id"] for o in mine] == [order["id"]]


def test_seller_cannot_act_on_or_refund_another_sellers_order(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    before = snapshot(client, world)
    cancel = client.post(f"{API}/orders/{order['id']}/cancel", headers=world.auth("seller_b"))
    assert_problem(cancel, 404, "not-found")
    refund = client.post(
        f"{API}/orders/{order['id']}/refunds",
        json={"amount_minor": 100, "reason": "goodwill"},
        headers=world.auth("seller_b"),
    )
    assert_problem(refund, 404, "not-found")
    assert snapshot(client, world) == before


def test_buyer_cannot_read_pay_or_cancel_another_buyers_order(world: World) -> None:
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2), who="buyer_a")
    before = snapshot(client, world)

    read = client.get(f"{API}/orders/{order['id']}", headers=world.auth("buyer_b"))
    assert_problem(read, 404, "not-found")
    paid = client.post(
        f"{API}/orders/{order['id']}/pay", json={"method": "card"}, headers=world.auth("buyer_b")
    )
    assert_problem(paid, 404, "not-found")
    cancelled = client.post(f"{API}/orders/{order['id']}/cancel", headers=world.auth("buyer_b"))
    assert_problem(cancelled, 404, "not-found")
    assert collect(client, world, "/orders", who="buyer_b") == []

    assert snapshot(client, world) == before
    seen = get_order(client, world, order["id"], who="buyer_a")
    assert seen["status"] == "placed"
    assert seen["payments"] == []
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 2)


def test_same_idempotency_key_of_another_buyer_is_not_a_replay(world: World) -> None:
    client = world.client()
    body = basket(world, ("seller_a_red", 1))
    headers_a = {**world.auth("buyer_a"), "Idempotency-Key": "shared-key-0001"}
    headers_b = {**world.auth("buyer_b"), "Idempotency-Key": "shared-key-0001"}
    first = client.post(f"{API}/orders", json=body, headers=headers_a)
    second = client.post(f"{API}/orders", json=body, headers=headers_b)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["buyer"] == world.ids["buyer_b"]
    assert "Idempotent-Replayed" not in second.headers


# --- roles ----------------------------------------------------------------------------------------


PRODUCT = {
    "ref": "mug-1",
    "title": "Mug",
    "category": "home",
    "hs_code": "691200",
    "origin_country": "CN",
    "skus": [{"code": "mug-1-white", "weight_g": 300, "length_mm": 100, "width_mm": 100, "height_mm": 100}],
}


def test_buyers_cannot_create_products(world: World) -> None:
    client = world.client()
    response = client.post(f"{API}/products", json=PRODUCT, headers=world.auth("buyer_a"))
    body = assert_problem(response, 403, "forbidden")
    assert "buyers" in body["detail"]
    listed = client.get(f"{API}/products", headers=world.auth("operator")).json()["items"]
    assert sorted(p["id"] for p in listed) == sorted(
        [world.ids["seller_a_product"], world.ids["seller_b_product"]]
    )


def test_buyers_have_no_admin_views(world: World) -> None:
    client = world.client()
    for path in ("/products", f"/skus/{world.ids['seller_a_red']}/stock", "/events", "/sellers"):
        response = client.get(f"{API}{path}", headers=world.auth("buyer_a"))
        assert_problem(response, 403, "forbidden")


def test_seller_cannot_act_for_another_seller(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/products", json={**PRODUCT, "seller": world.ids["seller_b"]}, headers=world.auth("seller_a")
    )
    assert_problem(response, 403, "forbidden")
    listed = client.get(f"{API}/products", headers=world.auth("seller_b")).json()["items"]
    assert [p["id"] for p in listed] == [world.ids["seller_b_product"]]


def test_sellers_and_operators_cannot_place_orders(world: World) -> None:
    client = world.client()
    for who in ("seller_a", "operator"):
        response = client.post(
            f"{API}/orders",
            json=basket(world, ("seller_a_red", 1)),
            headers={**world.auth(who), "Idempotency-Key": "not-a-buyer-01"},
        )
        body = assert_problem(response, 403, "forbidden")
        assert "buyer" in body["detail"]
    assert collect(client, world, "/orders") == []


OPERATOR_ONLY: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "/org/units",
        {
            "kind": "business_unit",
            "code": "new-mall",
            "name": "New",
            "parent": "china-commerce-division",  # commerce closed at the 2021 reorganisation
            "valid_from": "2025-01-01",
        },
    ),
    (
        "POST",
        "/markets",
        {
            "business_unit": "tmall",
            "country": "MY",
            "currency": "MYR",
            "locale": "ms_MY",
            "time_zone": "Asia/Kuala_Lumpur",
            "tax_rate": "0.06",
            "shipping_domestic_minor": 300,
            "shipping_cross_border_minor": 900,
        },
    ),
    ("POST", "/sellers", {"name": "seller_c", "country": "SG", "marketplaces": ["lazada"]}),
    ("POST", "/api-keys", {"role": "operator", "name": "sneaky"}),
    ("POST", "/buyers", {"name": "buyer_c", "country": "SG"}),
    (
        "POST",
        "/warehouses",
        {"code": "sg-jurong", "name": "Jurong", "country": "SG", "latitude": 1.33, "longitude": 103.7},
    ),
    ("PUT", "/commissions", {"business_unit": "lazada", "category": "*", "rate": "0.5"}),
    ("PUT", "/fx/manual-rates", {"currency": "VND", "on": "2025-11-11", "per_usd": "26000"}),
]


@pytest.mark.parametrize("who", ["seller_a", "buyer_a"])
@pytest.mark.parametrize(("method", "path", "body"), OPERATOR_ONLY, ids=[p for _, p, _ in OPERATOR_ONLY])
def test_only_operators_administer(
    world: World, who: str, method: str, path: str, body: dict[str, Any]
) -> None:
    client = world.client()
    events_before = collect(client, world, "/events")
    response = client.request(method, f"{API}{path}", json=body, headers=world.auth(who))
    body_out = assert_problem(response, 403, "forbidden")
    assert "operator" in body_out["detail"]
    assert collect(client, world, "/events") == events_before
    # and the operator may do the same
    allowed = client.request(method, f"{API}{path}", json=body, headers=world.auth("operator"))
    assert allowed.status_code in (201, 204), allowed.text


def test_forbidden_admin_writes_leave_no_trace(world: World) -> None:
    client = world.client()
    client.post(f"{API}/org/units", json=OPERATOR_ONLY[0][2], headers=world.auth("seller_a"))
    client.post(f"{API}/markets", json=OPERATOR_ONLY[1][2], headers=world.auth("buyer_a"))
    client.post(f"{API}/warehouses", json=OPERATOR_ONLY[5][2], headers=world.auth("seller_a"))
    units = [u["code"] for u in collect(client, world, "/org/units")]
    assert "new-mall" not in units
    markets = [m["code"] for m in collect(client, world, "/markets")]
    assert sorted(markets) == ["lazada-sg", "taobao-cn"]
    warehouses = [w["code"] for w in collect(client, world, "/warehouses")]
    assert sorted(warehouses) == ["cn-hangzhou", "sg-changi", "sg-tuas"]


def test_operator_sees_everything(world: World) -> None:
    client = world.client()
    order_a = place_ok(client, world, ("seller_a_red", 1), who="buyer_a")
    order_b = place_ok(client, world, ("seller_a_blue", 1), who="buyer_b")
    listed = collect(client, world, "/orders", who="operator")
    assert {o["id"] for o in listed} == {order_a["id"], order_b["id"]}
    assert get_order(client, world, order_a["id"])["buyer"] == world.ids["buyer_a"]
    assert get_order(client, world, order_b["id"])["buyer"] == world.ids["buyer_b"]
    products = client.get(f"{API}/products", headers=world.auth("operator")).json()["items"]
    assert {p["seller"] for p in products} == {world.ids["seller_a"], world.ids["seller_b"]}
    only_b = client.get(
        f"{API}/products", params={"seller": world.ids["seller_b"]}, headers=world.auth("operator")
    ).json()["items"]
    assert [p["id"] for p in only_b] == [world.ids["seller_b_product"]]
    for key in ("seller_a_product", "seller_b_product"):
        response = client.get(f"{API}/products/{world.ids[key]}", headers=world.auth("operator"))
        assert response.status_code == 200, response.text
    assert stock(client, world, "seller_b_red") == {}
    sellers = collect(client, world, "/sellers")
    assert {s["id"] for s in sellers} == {world.ids["seller_a"], world.ids["seller_b"]}
    buyer_a_only = collect(client, world, "/orders", buyer=world.ids["buyer_a"])
    assert [o["id"] for o in buyer_a_only] == [order_a["id"]]
