"""Inventory: stock by warehouse, low stock and the reservations holding stock, filtered by warehouse
and market, in cursor pages; operators see all, a seller its own SKUs, buyers and carriers 403 (as the
API's stock route)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import ProductSpec, SkuSpec
from entrepot.inventory import service as inventory
from tests.api.helpers import place_ok
from tests.web.conftest import console_as
from tests.world import World


def _lines(page: str) -> list[tuple[str, str, int]]:
    """(warehouse, SKU code, available) of each row."""
    rows = re.findall(
        r'<tr[^>]*>\s*<td class="mono">([^<]+)</td>\s*<td>[A-Z]{2}</td>\s*<td class="mono">([^<]+)</td>'
        r'.*?<td class="num">\d+</td>\s*<td class="num">\d+</td>\s*<td class="num">(\d+)</td>',
        page,
        re.S,
    )
    return [(w, s, int(a)) for w, s, a in rows]


@pytest.fixture
def taobao_only(world: World) -> str:
    """A SKU of seller_a priced in taobao-cn only, with 2 units in cn-hangzhou: its code."""
    with world.db.transaction() as session:
        seller = catalog.get_seller(session, world.ids["seller_a"])
        spec = ProductSpec("a-mug", "Mug", "home", "691200", "CN")
        catalog.create_product(session, seller, spec, [SkuSpec("a-mug-1", 300, 100, 100, 100)], world.clock())
        sku = next(s for s in catalog.seller_skus(session, seller.id) if s.code == "a-mug-1")
        catalog.set_price(session, sku, "taobao-cn", 2500, "CNY")
        inventory.set_on_hand(session, sku, inventory.get_warehouse(session, "cn-hangzhou"), 2)
    return "a-mug-1"


def test_stock_by_warehouse_and_market(world: World, people: dict[str, str], taobao_only: str) -> None:
    console = console_as(world, "ops")
    everything = _lines(console.get("/inventory").text)
    assert ("sg-tuas", "seller_a-red", 10) in everything and ("cn-hangzhou", taobao_only, 2) in everything
    hangzhou = _lines(console.get("/inventory?warehouse=cn-hangzhou").text)
    assert {w for w, _, _ in hangzhou} == {"cn-hangzhou"} and len(hangzhou) == 3
    lazada = _lines(console.get("/inventory?market=lazada-sg").text)
    assert taobao_only not in {s for _, s, _ in lazada} and len(lazada) == 3
    assert console.get("/inventory?market=nowhere").status_code == 404


def test_low_stock_is_at_most_five_available_or_as_asked(
    world: World, people: dict[str, str], taobao_only: str
) -> None:
    console = console_as(world, "ops")
    low = _lines(console.get("/inventory/low").text)
    assert sorted(low) == [
        ("cn-hangzhou", taobao_only, 2),
        ("cn-hangzhou", "seller_a-blue", 3),
        ("cn-hangzhou", "seller_a-red", 5),
    ]
    assert _lines(console.get("/inventory/low?at_most=2&market=taobao-cn").text) == [
        ("cn-hangzhou", taobao_only, 2)
    ]
    assert console.get("/inventory/low?at_most=-1").status_code == 422


def test_reservations_holding_stock_link_to_their_orders(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    order = place_ok(api, world, ("seller_a_blue", 2))["id"]  # placed, not paid: its units are held
    page = console_as(world, "ops").get("/inventory/reservations").text
    assert f'<a href="/orders/{order}">{order}</a>' in page and "seller_a-blue" in page
    assert order not in console_as(world, "ops").get("/inventory/reservations?warehouse=sg-tuas").text
    assert order not in console_as(world, "seller-b").get("/inventory/reservations").text
    assert _lines(console_as(world, "ops").get("/inventory?warehouse=cn-hangzhou").text)[-1][2] == 1


def test_each_role_sees_stock_as_the_api_lets_it(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    assert _lines(console_as(world, "seller-b").get("/inventory").text) == []  # seller_b has no stock
    assert len(_lines(console_as(world, "seller-a").get("/inventory").text)) == 3
    red = world.ids["seller_a_red"]
    for name, key in (("buyer-a", "buyer_a"), ("seller-a", "seller_a")):
        expected = (
            403 if api.get(f"/api/v1/skus/{red}/stock", headers=world.auth(key)).status_code == 403 else 200
        )
        for path in ("/inventory", "/inventory/low", "/inventory/reservations"):
            assert console_as(world, name).get(path).status_code == expected, (name, path)
    assert console_as(world, "courier").get("/inventory").status_code == 403


def test_stock_pages_go_on_from_the_last_line(
    world: World, people: dict[str, str], taobao_only: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("entrepot.web.inventory.PAGE_SIZE", 2)
    console = console_as(world, "ops")
    seen: list[tuple[str, str, int]] = []
    path: str | None = "/inventory?market=taobao-cn"
    while path:
        page = console.get(path).text
        seen += _lines(page)
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        path = following.group(1).replace("&amp;", "&") if following else None
        assert path is None or "market=taobao-cn" in path
    assert len(seen) == len(set(seen)) == 4


def test_the_views_keep_the_warehouse_and_market_asked_for(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "ops").get("/inventory?warehouse=sg-tuas&market=lazada-sg").text
    assert 'href="/inventory/low?warehouse=sg-tuas&amp;market=lazada-sg"' in page


def test_the_filters_offer_warehouses_and_markets_by_their_codes(
    world: World, people: dict[str, str]
) -> None:
    page = console_as(world, "ops").get("/inventory?warehouse=sg-tuas").text
    assert '<option value="sg-tuas" selected>sg-tuas</option>' in page
    assert '<option value="lazada-sg">lazada-sg</option>' in page
