"""The catalog over HTTP: products and SKUs, prices per market, and the CSV import that is all or
nothing by default and reports every bad row by line and field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.catalog.domain import CSV_COLUMNS
from tests.api.helpers import API, assert_problem, collect, field_errors, snapshot
from tests.world import World

HEADER = ",".join(CSV_COLUMNS)


def _product(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ref": "cable-usb-c",
        "title": "USB-C cable",
        "category": "electronics",
        "hs_code": "854442",
        "origin_country": "CN",
        "skus": [
            {"code": "cable-1m", "weight_g": 40, "length_mm": 120, "width_mm": 80, "height_mm": 20},
            {"code": "cable-2m", "weight_g": 70, "length_mm": 120, "width_mm": 80, "height_mm": 30},
        ],
    }
    body.update(overrides)
    return body


def _products(client: TestClient, world: World, who: str = "operator") -> list[dict[str, Any]]:
    return collect(client, world, "/products", who=who)


def _listing(client: TestClient, world: World, market: str = "lazada-sg") -> dict[str, dict[str, Any]]:
    """SKU code -> listing in a market."""
    return {s["code"]: s for s in collect(client, world, f"/markets/{market}/skus", who="buyer_a")}


def _import(client: TestClient, world: World, csv_text: str, who: str = "seller_a", **params: Any) -> Any:
    return client.post(
        f"{API}/catalog/import",
        content=csv_text.encode(),
        params=params,
        headers={**world.auth(who), "Content-Type": "text/csv"},
    )


def _csv(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


GOOD_1 = "lamp-1,Desk lamp,home,940520,CN,lamp-1-black,900,300,200,150,lazada-sg,39.90,SGD"
GOOD_2 = "lamp-1,Desk lamp,home,940520,CN,lamp-1-black,900,300,200,150,taobao-cn,129.00,CNY"
BAD_WEIGHT = "lamp-2,Floor lamp,home,940520,CN,lamp-2-white,heavy,300,200,150,lazada-sg,89.90,SGD"


# --- products ----------------------------------------------------------------------------------------


def test_seller_creates_lists_and_gets_a_product(world: World) -> None:
    client = world.client()
    created = client.post(f"{API}/products", json=_product(), headers=world.auth("seller_a"))
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["seller"] == world.ids["seller_a"]
    assert product["id"].startswith("prd_")
    assert [s["code"] for s in product["skus"]] == ["cable-1m", "cable-2m"]
    assert product["skus"][1]["weight_g"] == 70

    mine = _products(client, world, who="seller_a")
    assert [p["id"] for p in mine] == [world.ids["seller_a_product"], product["id"]]
    fetched = client.get(f"{API}/products/{product['id']}", headers=world.auth("seller_a"))
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == product
    electronics = collect(client, world, "/products", who="seller_a", category="electronics")
    assert len(electronics) == 2
    assert collect(client, world, "/products", who="seller_a", category="garden") == []
    # another seller does not see it
    assert_problem(
        client.get(f"{API}/products/{product['id']}", headers=world.auth("seller_b")), 404, "not-found"
    )
    assert [p["id"] for p in _products(client, world, who="seller_b")] == [world.ids["seller_b_product"]]


def test_products_page_with_the_cursor(world: World) -> None:
    client = world.client()
    for i in range(3):
        body = _product(ref=f"cable-{i}", skus=[{**_product()["skus"][0], "code": f"cable-{i}-1m"}])
        assert client.post(f"{API}/products", json=body, headers=world.auth("seller_a")).status_code == 201
    first = client.get(f"{API}/products", params={"limit": 2}, headers=world.auth("seller_a")).json()
    assert len(first["items"]) == 2
    second = client.get(
        f"{API}/products", params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.auth("seller_a")
    ).json()
    refs = [p["ref"] for p in first["items"] + second["items"]]
    assert refs == ["seller_a-phone", "cable-0", "cable-1", "cable-2"]


def test_operator_creates_a_product_for_a_named_seller(world: World) -> None:
    client = world.client()
    missing = client.post(f"{API}/products", json=_product(), headers=world.auth("operator"))
    problem = assert_problem(missing, 422, "validation-failed")
    assert field_errors(problem) == {"seller": "required"}
    named = client.post(
        f"{API}/products", json=_product(seller=world.ids["seller_b"]), headers=world.auth("operator")
    )
    assert named.status_code == 201, named.text
    assert named.json()["seller"] == world.ids["seller_b"]
    assert len(_products(client, world, who="seller_b")) == 2


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"hs_code": "12"}, {"hs_code"}),
        ({"origin_country": "ZZ"}, {"origin_country"}),
        ({"ref": "has space"}, {"product_ref"}),
        ({"title": "   "}, {"title"}),
        (
            {"skus": [{"code": "x-1", "weight_g": 0, "length_mm": 10, "width_mm": 10, "height_mm": 0}]},
            {"skus[0].weight_g", "skus[0].height_mm"},
        ),
        (
            {
                "skus": [
                    {"code": "dup", "weight_g": 1, "length_mm": 1, "width_mm": 1, "height_mm": 1},
                    {"code": "dup", "weight_g": 1, "length_mm": 1, "width_mm": 1, "height_mm": 1},
                ]
            },
            {"skus"},
        ),
        ({"skus": []}, {"skus"}),
        ({"colour": "red"}, {"colour"}),
        (
            {"skus": [{"code": "x", "weight_g": "40", "length_mm": 1, "width_mm": 1, "height_mm": 1}]},
            {"skus[0].weight_g"},
        ),
    ],
)
def test_invalid_product_is_422_and_not_created(
    world: World, overrides: dict[str, Any], fields: set[str]
) -> None:
    client = world.client()
    before = _products(client, world)
    response = client.post(f"{API}/products", json=_product(**overrides), headers=world.auth("seller_a"))
    problem = assert_problem(response, 422, "validation-failed")
    assert set(field_errors(problem)) == fields
    assert _products(client, world) == before


def test_duplicate_product_ref_or_sku_code_is_409(world: World) -> None:
    client = world.client()
    assert client.post(f"{API}/products", json=_product(), headers=world.auth("seller_a")).status_code == 201
    before = _products(client, world)
    again = client.post(f"{API}/products", json=_product(), headers=world.auth("seller_a"))
    assert_problem(again, 409, "duplicate")
    reused_sku = client.post(
        f"{API}/products", json=_product(ref="cable-other"), headers=world.auth("seller_a")
    )
    problem = assert_problem(reused_sku, 409, "duplicate")
    assert "cable-1m" in problem["detail"]
    assert _products(client, world) == before
    # another seller may use the same codes
    theirs = client.post(f"{API}/products", json=_product(), headers=world.auth("seller_b"))
    assert theirs.status_code == 201, theirs.text


# --- prices -----------------------------------------------------------------------------------------


def _put_price(client: TestClient, world: World, sku_key: str, market: str, body: dict[str, Any]) -> Any:
    return client.put(
        f"{API}/skus/{world.ids[sku_key]}/prices/{market}", json=body, headers=world.auth("seller_a")
    )


def test_set_price(world: World) -> None:
    client = world.client()
    response = _put_price(
        client, world, "seller_a_red", "lazada-sg", {"amount_minor": 2490, "currency": "SGD"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "amount_minor": 2490,
        "currency": "SGD",
    }
    assert _listing(client, world)["seller_a-red"]["price_minor"] == 2490
    quote = client.post(
        f"{API}/checkout/quote",
        json={"market": "lazada-sg", "lines": [{"sku": world.ids["seller_a_red"], "quantity": 1}]},
        headers=world.auth("buyer_a"),
    )
    assert quote.json()["subtotal_minor"] == 2490


def test_price_in_the_wrong_currency_is_422(world: World) -> None:
    client = world.client()
    events = collect(client, world, "/events")
    response = _put_price(
        client, world, "seller_a_red", "lazada-sg", {"amount_minor": 1500, "currency": "USD"}
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert field_errors(problem) == {"currency": "must be SGD"}
    assert _listing(client, world)["seller_a-red"]["price_minor"] == 1990
    assert collect(client, world, "/events") == events


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_minor": 0, "currency": "SGD"}, "amount_minor"),
        ({"amount_minor": -100, "currency": "SGD"}, "amount_minor"),
        ({"amount_minor": 19.9, "currency": "SGD"}, "amount_minor"),
        ({"amount_minor": 1990, "currency": "SG"}, "currency"),
        ({"amount_minor": 1990}, "currency"),
    ],
)
def test_malformed_price_is_422(world: World, body: dict[str, Any], field: str) -> None:
    client = world.client()
    problem = assert_problem(
        _put_price(client, world, "seller_a_red", "lazada-sg", body), 422, "validation-failed"
    )
    assert list(field_errors(problem)) == [field]
    assert _listing(client, world)["seller_a-red"]["price_minor"] == 1990


def test_price_in_an_unknown_market_is_404(world: World) -> None:
    client = world.client()
    response = _put_price(
        client, world, "seller_a_red", "shopee-sg", {"amount_minor": 1990, "currency": "SGD"}
    )
    assert_problem(response, 404, "not-found")


TMALL_CN = {
    "business_unit": "tmall",
    "country": "CN",
    "currency": "CNY",
    "locale": "zh_CN",
    "time_zone": "Asia/Shanghai",
    "tax_rate": "0.13",
    "shipping_domestic_minor": 0,
    "shipping_cross_border_minor": 3000,
}


def _tmall_cn(client: TestClient, world: World) -> None:
    response = client.post(f"{API}/markets", json=TMALL_CN, headers=world.auth("operator"))
    assert response.status_code == 201, response.text


def test_price_in_a_market_the_seller_does_not_sell_on_is_422(world: World) -> None:
    client = world.client()
    _tmall_cn(client, world)
    response = _put_price(
        client, world, "seller_a_red", "tmall-cn", {"amount_minor": 6900, "currency": "CNY"}
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["market"]
    assert _listing(client, world, "tmall-cn") == {}


# --- CSV import --------------------------------------------------------------------------------------


def test_import_good_file(world: World) -> None:
    client = world.client()
    response = _import(client, world, _csv(GOOD_1, GOOD_2))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": True,
        "rows": 2,
        "rows_imported": 2,
        "products_created": 1,
        "skus_created": 1,
        "prices_set": 2,
        "stock_set": 0,
        "errors": [],
    }
    lamp = [p for p in _products(client, world, who="seller_a") if p["ref"] == "lamp-1"]
    assert len(lamp) == 1
    assert [(s["code"], s["weight_g"]) for s in lamp[0]["skus"]] == [("lamp-1-black", 900)]
    assert _listing(client, world)["lamp-1-black"]["price_minor"] == 3990
    assert _listing(client, world, "taobao-cn")["lamp-1-black"]["price_minor"] == 12900


def test_import_updates_the_price_of_an_existing_sku(world: World) -> None:
    client = world.client()
    row = "seller_a-phone,Phone case,electronics,392690,CN,seller_a-red,120,160,80,15,lazada-sg,21.90,SGD"
    response = _import(client, world, _csv(row))
    assert response.status_code == 200, response.text
    assert (response.json()["products_created"], response.json()["skus_created"]) == (0, 0)
    assert response.json()["prices_set"] == 1
    assert _listing(client, world)["seller_a-red"]["price_minor"] == 2190
    assert len(_products(client, world, who="seller_a")) == 1


def test_one_bad_row_rejects_the_whole_file(world: World) -> None:
    client = world.client()
    before_products = _products(client, world)
    before = snapshot(client, world)
    response = _import(client, world, _csv(GOOD_1, BAD_WEIGHT, GOOD_2))
    problem = assert_problem(response, 422, "catalog-rows-invalid")
    assert problem["rows"] == [
        {"line": 3, "errors": [{"field": "weight_g", "message": "'heavy' is not a whole number"}]}
    ]
    assert "nothing was imported" in problem["detail"]
    assert _products(client, world) == before_products
    assert "lamp-1-black" not in _listing(client, world)
    assert snapshot(client, world) == before


def test_every_bad_row_and_field_is_reported(world: World) -> None:
    client = world.client()
    bad_price = "lamp-3,Lamp,home,940520,CN,lamp-3-red,900,300,200,150,lazada-sg,12.345,SGD"
    bad_many = "lamp 4,Lamp,home,94,ZZ,lamp-4-red,900,0,200,150,lazada-sg,abc,SGD"
    wrong_currency = "lamp-5,Lamp,home,940520,CN,lamp-5-red,900,300,200,150,lazada-sg,12.90,CNY"
    response = _import(client, world, _csv(GOOD_1, bad_price, bad_many, wrong_currency))
    problem = assert_problem(response, 422, "catalog-rows-invalid")
    rows = {r["line"]: {e["field"] for e in r["errors"]} for r in problem["rows"]}
    assert rows == {
        3: {"price"},
        4: {"product_ref", "hs_code", "origin_country", "price", "length_mm"},
        5: {"currency"},
    }
    assert [p["ref"] for p in _products(client, world, who="seller_a")] == ["seller_a-phone"]


def test_partial_import_takes_the_good_rows_and_reports_the_bad(world: World) -> None:
    client = world.client()
    response = _import(client, world, _csv(GOOD_1, BAD_WEIGHT, GOOD_2), partial="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report == {
        "imported": True,
        "rows": 3,
        "rows_imported": 2,
        "products_created": 1,
        "skus_created": 1,
        "prices_set": 2,
        "stock_set": 0,
        "errors": [
            {"line": 3, "errors": [{"field": "weight_g", "message": "'heavy' is not a whole number"}]}
        ],
    }
    refs = sorted(p["ref"] for p in _products(client, world, who="seller_a"))
    assert refs == ["lamp-1", "seller_a-phone"]
    assert _listing(client, world)["lamp-1-black"]["price_minor"] == 3990


def test_partial_import_of_only_bad_rows_imports_nothing(world: World) -> None:
    client = world.client()
    response = _import(client, world, _csv(BAD_WEIGHT), partial="true")
    assert response.status_code == 200, response.text
    assert (response.json()["imported"], response.json()["rows_imported"]) == (False, 0)
    assert len(_products(client, world, who="seller_a")) == 1


def test_a_market_the_seller_does_not_sell_on_is_a_row_error(world: World) -> None:
    client = world.client()
    _tmall_cn(client, world)
    tmall = "lamp-6,Lamp,home,940520,CN,lamp-6-red,900,300,200,150,tmall-cn,99.00,CNY"
    unknown = "lamp-7,Lamp,home,940520,CN,lamp-7-red,900,300,200,150,shopee-sg,9.90,SGD"
    response = _import(client, world, _csv(GOOD_1, tmall, unknown))
    problem = assert_problem(response, 422, "catalog-rows-invalid")
    assert [(r["line"], [e["field"] for e in r["errors"]]) for r in problem["rows"]] == [
        (3, ["market"]),
        (4, ["market"]),
    ]
    assert "tmall-cn" in problem["rows"][0]["errors"][0]["message"]
    assert "shopee-sg" in problem["rows"][1]["errors"][0]["message"]
    assert [p["ref"] for p in _products(client, world, who="seller_a")] == ["seller_a-phone"]
    assert _listing(client, world, "tmall-cn") == {}


def test_sku_code_of_another_product_is_a_row_error(world: World) -> None:
    """seller_a-red belongs to seller_a-phone; a row moving it to another product is refused."""
    client = world.client()
    row = "other-case,Other case,electronics,392690,CN,seller_a-red,120,160,80,15,lazada-sg,9.90,SGD"
    strict = _import(client, world, _csv(GOOD_1, row))
    assert strict.status_code == 409, strict.text
    assert [p["ref"] for p in _products(client, world, who="seller_a")] == ["seller_a-phone"]
    partial = _import(client, world, _csv(GOOD_1, row), partial="true")
    assert partial.status_code == 200, partial.text
    assert partial.json()["rows_imported"] == 1
    assert [e["line"] for e in partial.json()["errors"]] == [3]
    assert sorted(p["ref"] for p in _products(client, world, who="seller_a")) == ["lamp-1", "seller_a-phone"]
    assert _listing(client, world)["seller_a-red"]["price_minor"] == 1990


def test_csv_without_the_expected_header_is_422(world: World) -> None:
    client = world.client()
    response = _import(client, world, "ref,title\nx,y\n")
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["file"]
    assert "product_ref" in problem["detail"]


def test_csv_that_is_not_utf8_is_422(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/catalog/import",
        content=(_csv(GOOD_1).replace("Desk lamp", "Lampe à poser")).encode("latin-1"),
        headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert field_errors(problem) == {"file": "not UTF-8"}


def test_csv_with_a_byte_order_mark_imports(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/catalog/import",
        content=_csv(GOOD_1).encode("utf-8-sig"),
        headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows_imported"] == 1


def test_buyers_cannot_import(world: World) -> None:
    client = world.client()
    assert_problem(_import(client, world, _csv(GOOD_1), who="buyer_a"), 403, "forbidden")
    assert "lamp-1-black" not in _listing(client, world)


def test_operator_imports_for_a_named_seller(world: World) -> None:
    client = world.client()
    assert_problem(_import(client, world, _csv(GOOD_1), who="operator"), 422, "validation-failed")
    response = _import(client, world, _csv(GOOD_1), who="operator", seller=world.ids["seller_b"])
    assert response.status_code == 200, response.text
    assert _listing(client, world)["lamp-1-black"]["seller"] == world.ids["seller_b"]


def test_rows_after_a_row_that_failed_while_writing_still_import(world: World) -> None:
    """A refused row writes nothing, not even the product it names; a later good row of that product
    creates it, and only once."""
    client = world.client()
    clash = "other-case,Other case,electronics,392690,CN,seller_a-red,120,160,80,15,lazada-sg,9.90,SGD"
    later = "other-case,Other case,electronics,392690,CN,other-case-blue,120,160,80,15,lazada-sg,9.90,SGD"
    response = _import(client, world, _csv(clash, later, GOOD_1), partial="true")
    assert response.status_code == 200, response.text
    assert [e["line"] for e in response.json()["errors"]] == [2]
    assert response.json()["rows_imported"] == 2
    assert response.json()["products_created"] == 2  # other-case once (by the good row), lamp-1
    refs = sorted(p["ref"] for p in _products(client, world, who="seller_a"))
    assert refs == ["lamp-1", "other-case", "seller_a-phone"]
    assert _listing(client, world)["other-case-blue"]["price_minor"] == 990
    assert _listing(client, world)["seller_a-red"]["price_minor"] == 1990
