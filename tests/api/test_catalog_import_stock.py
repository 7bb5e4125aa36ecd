"""The catalog CSV's optional stock columns: a row with `stock` and `warehouse` sets the units on hand, so
an imported SKU can be quoted and ordered at once; a bad count or warehouse is a row error like any other,
and without the columns the import leaves stock alone."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from entrepot.catalog.domain import CSV_COLUMNS
from tests.api.helpers import API
from tests.world import World

HEADER = ",".join(CSV_COLUMNS)
ROW = "tea-1,Oolong tea 100 g,tea,090230,CN,oolong-100,150,120,80,60,lazada-sg,12.90,SGD"


def _import(client: TestClient, world: World, text: str, **params: Any) -> Any:
    headers = {**world.auth("seller_a"), "Content-Type": "text/csv"}
    return client.post(f"{API}/catalog/import", content=text.encode(), params=params, headers=headers)


def _available(client: TestClient, world: World, code: str) -> int | None:
    page = client.get(f"{API}/markets/lazada-sg/skus", params={"limit": 200}, headers=world.auth("buyer_a"))
    return next((s["available"] for s in page.json()["items"] if s["code"] == code), None)


def test_stock_column_makes_an_imported_sku_orderable(world: World) -> None:
    client = world.client()
    answer = _import(client, world, f"{HEADER},stock,warehouse\n{ROW},25,sg-tuas\n")
    assert answer.status_code == 200, answer.text
    assert answer.json()["stock_set"] == 1
    assert _available(client, world, "oolong-100") == 25
    sku = next(
        s["id"]
        for s in client.get(f"{API}/markets/lazada-sg/skus", headers=world.auth("buyer_a")).json()["items"]
        if s["code"] == "oolong-100"
    )
    body = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 2}]}
    order = client.post(
        f"{API}/orders", json=body, headers={**world.auth("buyer_a"), "Idempotency-Key": "stock-col-0001"}
    )
    assert order.status_code == 201, order.text
    # importing the file again sets the count again (it is the count on hand, not an addition)
    again = _import(client, world, f"{HEADER},stock,warehouse\n{ROW},30,sg-tuas\n")
    assert again.status_code == 200, again.text
    assert _available(client, world, "oolong-100") == 28  # 30 on hand, 2 reserved by the order


def test_without_the_columns_stock_is_left_alone(world: World) -> None:
    client = world.client()
    answer = _import(client, world, f"{HEADER}\n{ROW}\n")
    assert answer.status_code == 200, answer.text
    assert answer.json()["stock_set"] == 0
    assert _available(client, world, "oolong-100") == 0
    blank = _import(client, world, f"{HEADER},stock,warehouse\n{ROW},,\n")
    assert blank.status_code == 200 and blank.json()["stock_set"] == 0


def test_bad_stock_rows_are_reported_and_nothing_is_written(world: World) -> None:
    client = world.client()
    rows = [
        f"{ROW},many,sg-tuas",  # not a number
        f"{ROW},5,",  # a count without a warehouse
        f"{ROW},,sg-tuas",  # a warehouse without a count
        f"{ROW},5,nowhere",  # an unknown warehouse
        f"{ROW},-1,sg-tuas",
        f"{ROW},100000001,sg-tuas",  # past inventory's bound
    ]
    answer = _import(client, world, "\n".join([f"{HEADER},stock,warehouse", *rows]) + "\n")
    assert answer.status_code == 422, answer.text
    problems = {r["line"]: r["errors"] for r in answer.json()["rows"]}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7]
    assert problems[3] == [{"field": "warehouse", "message": problems[3][0]["message"]}]
    assert problems[5][0]["message"] == "no warehouse 'nowhere'"
    assert _available(client, world, "oolong-100") is None  # no product, no price, no stock


def test_a_count_below_what_is_reserved_refuses_the_row(world: World) -> None:
    client = world.client()
    assert _import(client, world, f"{HEADER},stock,warehouse\n{ROW},5,sg-tuas\n").status_code == 200
    sku = next(
        s["id"]
        for s in client.get(f"{API}/markets/lazada-sg/skus", headers=world.auth("buyer_a")).json()["items"]
        if s["code"] == "oolong-100"
    )
    body = {"market": "lazada-sg", "lines": [{"sku": sku, "quantity": 4}]}
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "stock-col-0002"}
    assert client.post(f"{API}/orders", json=body, headers=headers).status_code == 201
    partial = _import(client, world, f"{HEADER},stock,warehouse\n{ROW},2,sg-tuas\n", partial="true")
    assert partial.status_code == 200, partial.text
    assert partial.json()["rows_imported"] == 0
    assert "below the 4 units reserved" in partial.json()["errors"][0]["errors"][0]["message"]
    assert _available(client, world, "oolong-100") == 1
