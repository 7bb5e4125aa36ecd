"""The storefront in the console's app: a buyer browses and searches a market, fills the cart, checks
out with a delivery option and pays; the same services and the same refusals as the API (another
buyer's order is a 404, carts belong to buyers, no form without its CSRF token)."""

from __future__ import annotations

import html
import re

import httpx
from fastapi.testclient import TestClient

from tests.web.conftest import console_as, csrf_of
from tests.world import World

SHOP = "/shop/lazada/sg"
KEY = re.compile(r'name="key" value="([^"]+)"')


def _add(buyer: TestClient, sku: str, quantity: str = "1") -> httpx.Response:
    csrf = csrf_of(buyer.get(f"{SHOP}/products/{sku}"))
    response: httpx.Response = buyer.post(
        f"{SHOP}/cart/lines", data={"csrf": csrf, "sku": sku, "quantity": quantity}, follow_redirects=False
    )
    return response


def _checkout(
    buyer: TestClient, option: str = "standard-cheapest", method: str = "card_visa"
) -> httpx.Response:
    page = buyer.get(f"{SHOP}/checkout")
    key = KEY.search(page.text)
    assert key, page.text
    form = {"csrf": csrf_of(page), "key": key.group(1), "delivery_option": option, "payment_method": method}
    response: httpx.Response = buyer.post(f"{SHOP}/checkout", data=form, follow_redirects=False)
    return response


def _order_of(response: httpx.Response) -> str:
    found = re.search(r"/orders/(ord_[0-9a-z]+)", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def test_a_signed_in_buyer_lands_in_the_shops(world: World, people: dict[str, str]) -> None:
    buyer = console_as(world, "buyer-a")
    assert buyer.get("/", follow_redirects=False).headers["location"] == "/shop"
    shops = buyer.get("/shop").text
    assert f'href="{SHOP}"' in shops and 'href="/shop/taobao/cn"' in shops


def test_browsing_searches_titles_and_pages_with_prices_in_the_market_currency(
    world: World, people: dict[str, str]
) -> None:
    buyer = console_as(world, "buyer-a")
    page = buyer.get(SHOP, params={"q": "phone"}).text
    assert page.count('class="product-card"') == 4 and "$19.90" in page  # en_SG writes S$ as $
    assert "seller_a-red" in page and "15 in stock" in page and "Out of stock" in page
    assert 'class="product-card"' not in buyer.get(SHOP, params={"q": "kettle"}).text
    assert 'class="product-card"' not in buyer.get(SHOP, params={"q": "%"}).text  # no wildcard
    one_a_page = console_as(world, "buyer-a", page_size_max=1)  # cursor pages, as the API's
    first = one_a_page.get(SHOP).text
    assert first.count('class="product-card"') == 1 and "seller_a-red" in first
    next_page = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_page
    second = one_a_page.get(html.unescape(next_page.group(1))).text
    assert "seller_a-blue" in second and "seller_a-red" not in second and "First page" in second
    cny = buyer.get("/shop/taobao/cn").text
    assert "¥69.00" in cny and 'lang="zh"' in cny
    assert buyer.get("/shop/lazada/xx").status_code == 404
    assert buyer.get(f"{SHOP}/products/sku_nope").status_code == 404


def test_a_buyer_fills_the_cart_changes_it_and_sees_errors_in_place(
    world: World, people: dict[str, str]
) -> None:
    buyer = console_as(world, "buyer-a")
    red, blue = world.ids["seller_a_red"], world.ids["seller_a_blue"]
    added = _add(buyer, red, "2")
    assert added.status_code == 303 and added.headers["location"] == f"{SHOP}/cart?added={red}"
    assert _add(buyer, red, "1").status_code == 303  # adds up: 3
    assert _add(buyer, blue).status_code == 303
    cart = buyer.get(f"{SHOP}/cart").text
    assert 'value="3"' in cart and 'class="count">4<' in cart
    refused = _add(buyer, red, "two")
    assert refused.status_code == 422 and 'id="f-quantity-error-1"' in refused.text
    too_many = _add(buyer, red, "100000")
    assert too_many.status_code == 422 and "0 to " in too_many.text and 'aria-invalid="true"' in too_many.text
    csrf = csrf_of(buyer.get(f"{SHOP}/cart"))
    buyer.post(f"{SHOP}/cart/lines/{blue}", data={"csrf": csrf, "quantity": "0"})
    wrong = buyer.post(f"{SHOP}/cart/lines/{red}", data={"csrf": csrf, "quantity": "-1"})
    assert wrong.status_code == 422 and 'id="q-1-error"' in wrong.text
    cart = buyer.get(f"{SHOP}/cart").text
    assert blue not in cart and 'class="count">3<' in cart


def test_a_buyer_checks_out_pays_and_reads_the_order_another_buyer_cannot(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    buyer = console_as(world, "buyer-a")
    _add(buyer, world.ids["seller_a_red"], "2")
    checkout = buyer.get(f"{SHOP}/checkout").text
    assert 'name="delivery_option" value="standard-greenest" checked' in checkout and "Greenest" in checkout
    assert "Total: $41.79" in checkout  # the card's total is what placing the order with it charges
    cart_id = buyer.cookies.get("entrepot_cart")
    page = buyer.get(f"{SHOP}/checkout")
    key = KEY.search(page.text)
    assert key and cart_id
    form = {"csrf": csrf_of(page), "key": key.group(1), "payment_method": "card_visa"}
    placed = buyer.post(f"{SHOP}/checkout", data=form, follow_redirects=False)
    assert placed.status_code == 303
    order_id = _order_of(placed)
    buyer.cookies.set("entrepot_cart", cart_id, path=SHOP)  # a second click, sent before the first's answer
    again = buyer.post(f"{SHOP}/checkout", data=form, follow_redirects=False)
    assert again.status_code == 303 and _order_of(again) == order_id  # the same order, replayed
    buyer.cookies.delete("entrepot_cart", path=SHOP)
    body = api.get(f"/api/v1/orders/{order_id}", headers=world.auth("buyer_a")).json()
    assert body["status"] == "paid" and body["payments"][0]["status"] == "succeeded"
    page = buyer.get(placed.headers["location"]).text
    assert 'data-status="paid"' in page and "$41.79" in page and "Order placed" in page
    assert 'class="count">0<' in page  # the cart became the order
    other = console_as(world, "buyer-b")
    assert other.get(f"{SHOP}/orders/{order_id}").status_code == 404  # as GET /api/v1/orders/{id}
    assert order_id not in other.get(f"{SHOP}/orders").text
    assert order_id in buyer.get(f"{SHOP}/orders").text
    assert buyer.get(f"/shop/taobao/cn/orders/{order_id}").status_code == 404  # another shop's page


def test_a_refused_checkout_shows_why_and_orders_nothing(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    buyer = console_as(world, "buyer-a")
    _add(buyer, world.ids["seller_a_red"])
    refused = _checkout(buyer, option="teleport-now")
    assert refused.status_code == 422 and 'id="option-error"' in refused.text
    no_method = _checkout(buyer, method="cash_in_envelope")
    assert no_method.status_code == 422 and 'id="pay-error"' in no_method.text
    assert api.get("/api/v1/orders", headers=world.auth("buyer_a")).json()["items"] == []


def test_forms_need_their_csrf_token_and_carts_belong_to_buyers(world: World, people: dict[str, str]) -> None:
    buyer = console_as(world, "buyer-a")
    red = world.ids["seller_a_red"]
    refused = buyer.post(f"{SHOP}/cart/lines", data={"sku": red, "quantity": "1"}, follow_redirects=False)
    assert refused.status_code == 403
    assert buyer.post(f"{SHOP}/checkout", data={}, follow_redirects=False).status_code == 403
    assert 'class="count">0<' in buyer.get(SHOP).text
    seller = console_as(world, "seller-a")
    assert seller.get(SHOP).status_code == 200  # anyone signed in browses, as GET /markets/{m}/skus
    assert _add(seller, red).status_code == 403  # carts belong to buyers, as POST /carts
    signed_out = world.client()
    assert signed_out.get(SHOP, follow_redirects=False).headers["location"] == f"/sign-in?next={SHOP}"
