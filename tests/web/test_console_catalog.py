"""Sellers and the catalog: the sellers list (operators only, a search by name, cursor pages), a
seller's page (its own for a seller, 404 for another's, as the API), a product's page (SKUs, prices per
market, stock per warehouse; buyers 403, another seller's 404)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from entrepot.catalog import service as catalog
from tests.web.conftest import console_as
from tests.world import World


def _seller_links(page: str) -> list[str]:
    return re.findall(r'<a href="/sellers/(sel_[^"]+)">', page)


def test_operators_search_sellers_by_name_and_page_through_them(
    world: World, people: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    console = console_as(world, "ops")
    everyone = console.get("/sellers").text
    assert _seller_links(everyone) == [world.ids["seller_a"], world.ids["seller_b"]]
    assert _seller_links(console.get("/sellers?q=LER_B").text) == [world.ids["seller_b"]]
    assert _seller_links(console.get("/sellers?q=%25").text) == []  # typed as is, not a wildcard
    assert "lazada, taobao" in everyone
    monkeypatch.setattr("entrepot.web.catalog.PAGE_SIZE", 1)
    first = console.get("/sellers").text
    assert _seller_links(first) == [world.ids["seller_a"]]
    following = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert following is not None
    second = console.get(following.group(1).replace("&amp;", "&")).text
    assert _seller_links(second) == [world.ids["seller_b"]]
    searched = re.search(r'<a rel="next" href="([^"]+)"', console.get("/sellers?q=seller_b").text)
    assert searched is not None and "q=seller_b" in searched.group(1)  # the next page keeps the search
    assert "No sellers match." in console.get(searched.group(1).replace("&amp;", "&")).text


def test_the_sellers_list_answers_each_role_as_the_api(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    for name, key in (("seller-a", "seller_a"), ("buyer-a", "buyer_a")):
        expected = api.get("/api/v1/sellers", headers=world.auth(key)).status_code
        assert console_as(world, name).get("/sellers").status_code == expected == 403
    assert console_as(world, "courier").get("/sellers").status_code == 403


def test_a_seller_page_shows_its_commissions_and_products(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "ops").get(f"/sellers/{world.ids['seller_a']}").text
    commissions = page[page.index('aria-label="Commission rates') : page.index('id="products"')]
    assert re.search(r"lazada</td><td>\*</td><td class=\"num\">5.0%", commissions)
    assert re.search(r"lazada</td><td>electronics</td><td class=\"num\">2.0%", commissions)
    assert f'href="/products/{world.ids["seller_a_product"]}"' in page
    assert world.ids["seller_b_product"] not in page


def test_a_seller_sees_its_own_page_and_not_anothers(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    seller = console_as(world, "seller-a")
    assert (
        seller.get("/catalog", follow_redirects=False).headers["location"]
        == f"/sellers/{world.ids['seller_a']}"
    )
    assert seller.get(f"/sellers/{world.ids['seller_a']}").status_code == 200
    other = f"/sellers/{world.ids['seller_b']}"
    assert api.get(f"/api/v1{other}", headers=world.auth("seller_a")).status_code == 404
    assert seller.get(other).status_code == 404
    assert console_as(world, "buyer-a").get("/catalog").status_code == 403
    assert console_as(world, "ops").get("/catalog", follow_redirects=False).headers["location"] == "/sellers"


def test_a_product_page_shows_skus_prices_and_stock(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "seller-a").get(f"/products/{world.ids['seller_a_product']}").text
    red = page[page.index("seller_a-red</span></h2>") : page.index("seller_a-blue</span></h2>")]
    assert re.search(r"lazada-sg</td><td class=\"num\">19.90 SGD", red)
    assert re.search(r"taobao-cn</td><td class=\"num\">69.00 CNY", red)
    assert re.search(r"sg-tuas</td><td>SG</td><td class=\"num\">10</td><td class=\"num\">0</td>", red)
    assert re.search(r"cn-hangzhou</td><td>CN</td><td class=\"num\">5</td>", red)


def test_a_product_page_answers_each_role_as_the_api(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    product = world.ids["seller_a_product"]
    for name, key in (
        ("seller-a", "seller_a"),
        ("seller-b", "seller_b"),
        ("buyer-a", "buyer_a"),
        ("ops", "operator"),
    ):
        expected = api.get(f"/api/v1/products/{product}", headers=world.auth(key)).status_code
        assert console_as(world, name).get(f"/products/{product}").status_code == expected, name
    assert console_as(world, "seller-b").get(f"/products/{product}").status_code == 404
    assert console_as(world, "buyer-a").get(f"/products/{product}").status_code == 403


def test_seller_search_is_the_apis(world: World, people: dict[str, str], api: TestClient) -> None:
    with world.db.transaction() as session:
        assert [s.name for s in catalog.list_sellers(session, None, 10, "A")] == ["seller_a"]
    for q in ("_A", "%", " seller ", "nobody"):
        found = api.get("/api/v1/sellers", params={"q": q}, headers=world.auth("operator")).json()["items"]
        shown = _seller_links(console_as(world, "ops").get("/sellers", params={"q": q}).text)
        assert shown == [s["id"] for s in found], q
