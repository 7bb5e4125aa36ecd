"""Ordering from a local store in the storefront (web/shop/local_ordering.py): the shop's stores, a
store's menu with prices in its currency and a quantity per item, placing an order through the API's own
function (priced from the menu; the buyer lands on its tracking page with the promised time), each
mistake shown beside its item or field with nothing written, the CSRF token required, only buyers
ordering, a visitor sent to sign in."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.local_on_demand import Town, shipped_city, town
from tests.web.conftest import console_as, csrf_of
from tests.world import World

__all__ = ["shipped_city", "town"]  # fixtures

SHOP = "/shop/lazada/sg"
KEY = re.compile(r'name="key" value="([^"]+)"')
ADDRESS = {"address": "Mikonkatu 18"}


def menu_form(town: Town, **quantities: str) -> dict[str, object]:
    """The form's rows as the page sends them: every item of the menu, in its order, with its quantity."""
    refs = list(town.menu.values())
    by_ref = {town.menu[name]: n for name, n in quantities.items()}
    return {"item": refs, "quantity": [by_ref.get(ref, "0") for ref in refs], **ADDRESS}


def good(town: Town) -> dict[str, object]:
    return menu_form(town, soup="2")


def key_of(form: httpx.Response) -> str:
    found = KEY.search(form.text)
    assert found, form.text
    return found.group(1)


def test_a_buyer_orders_from_a_store_and_lands_on_its_tracking(
    world: World, people: dict[str, str], town: Town
) -> None:
    browser = console_as(world, "buyer-a")
    listed = browser.get(f"{SHOP}/local-stores")
    assert listed.status_code == 200 and f"/local-stores/{town.store}" in listed.text
    form = browser.get(f"{SHOP}/local-stores/{town.store}")
    assert form.status_code == 200 and "Soup Kitchen" in form.text
    assert "12.50" in form.text and "3.49" in form.text  # the menu, priced in the store's currency
    sent = browser.post(
        f"{SHOP}/local-stores/{town.store}",
        data={**good(town), "csrf": csrf_of(form), "key": key_of(form)},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    order = sent.headers["location"].rsplit("/", 1)[1]
    placed = town.ok(town.get(f"/local/orders/{order}", "buyer_a"))
    assert placed["total_minor"] == 2500 and placed["items"][0]["name"] == "soup"
    again = browser.post(  # the same form sent again (a second click): the same order, nothing more
        f"{SHOP}/local-stores/{town.store}",
        data={**good(town), "csrf": csrf_of(form), "key": key_of(form)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == sent.headers["location"]
    assert town.counts()["local_orders"] == 1
    page = browser.get(sent.headers["location"])
    assert "Promised by" in page.text and "Mikonkatu 18" in page.text


def test_the_buyer_sets_no_price(world: World, people: dict[str, str], town: Town) -> None:
    browser = console_as(world, "buyer-a")
    form = browser.get(f"{SHOP}/local-stores/{town.store}")
    assert 'name="price"' not in form.text
    data = {**good(town), "price": "0.01", "csrf": csrf_of(form)}
    sent = browser.post(f"{SHOP}/local-stores/{town.store}", data=data, follow_redirects=False)
    placed = town.ok(town.get(f"/local/orders/{sent.headers['location'].rsplit('/', 1)[1]}", "buyer_a"))
    assert placed["total_minor"] == 2500  # the menu's price, whatever the request carried


def _error_of(page: str, field: str) -> str:
    error = page.split(f'id="f-{field}-error-1">', 1)
    assert len(error) == 2, page
    return error[1].split("</p>", 1)[0]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"address": "Nowhere street 99999"}, "address", "not on the map"),
        ({"address": " "}, "address", "a street address"),
        ({"soup": "101"}, "qty-soup", "from 0 to 100"),
        ({"soup": "two"}, "qty-soup", "from 0 to 100"),
        ({"soup": "-1"}, "qty-soup", "from 0 to 100"),
        ({"soup": "0"}, "items", "at least one item"),
        ({"soup": "40"}, "items", "at most 16 items"),
    ],
)
def test_a_mistake_is_shown_beside_its_field_and_nothing_is_written(
    world: World, people: dict[str, str], town: Town, change: dict[str, str], field: str, message: str
) -> None:
    before = town.counts()
    browser = console_as(world, "buyer-a")
    token = csrf_of(browser.get(f"{SHOP}/local-stores/{town.store}"))
    quantities = {"soup": change.get("soup", "2")}
    rest = {k: v for k, v in change.items() if k != "soup"}
    data = {**menu_form(town, **quantities), **rest, "csrf": token}
    sent = browser.post(f"{SHOP}/local-stores/{town.store}", data=data)
    assert sent.status_code == 422, sent.text
    field = field.replace("soup", town.menu["soup"])
    assert message in _error_of(sent.text, field), sent.text
    assert town.counts() == before


def test_an_item_sold_out_meanwhile_is_refused_beside_it(
    world: World, people: dict[str, str], town: Town
) -> None:
    browser = console_as(world, "buyer-a")
    token = csrf_of(browser.get(f"{SHOP}/local-stores/{town.store}"))
    bread = town.menu["bread"]
    edit = town.client.patch(
        f"/api/v1/local/stores/{town.store}/menu/{bread}",
        json={"available": False},
        headers=town.keys["seller_a"],
    )
    assert edit.status_code == 200, edit.text
    before = town.counts()
    sent = browser.post(
        f"{SHOP}/local-stores/{town.store}", data={**menu_form(town, soup="1", bread="1"), "csrf": token}
    )
    assert sent.status_code == 422 and "bread is not available now" in _error_of(sent.text, "items")
    assert town.counts() == before
    assert f'id="f-qty-{bread}"' not in sent.text  # the menu shown again is what is on sale now


def test_the_form_needs_its_csrf_token(world: World, people: dict[str, str], town: Town) -> None:
    before = town.counts()
    browser = console_as(world, "buyer-a")
    for data in (good(town), {**good(town), "csrf": "forged"}):
        assert browser.post(f"{SHOP}/local-stores/{town.store}", data=data).status_code == 403
    assert town.counts() == before


@pytest.mark.parametrize("who", ["seller-a", "ops"])
def test_only_buyers_order(world: World, people: dict[str, str], town: Town, who: str) -> None:
    before = town.counts()
    browser = console_as(world, who)
    token = csrf_of(browser.get(f"{SHOP}/local-stores/{town.store}"))
    assert (
        browser.post(f"{SHOP}/local-stores/{town.store}", data={**good(town), "csrf": token}).status_code
        == 403
    )
    assert town.counts() == before


def test_an_unknown_store_is_not_found_and_a_visitor_signs_in(
    world: World, people: dict[str, str], town: Town
) -> None:
    assert console_as(world, "buyer-a").get(f"{SHOP}/local-stores/lst_nothing").status_code == 404
    got = world.client().get(f"{SHOP}/local-stores/{town.store}", follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"].startswith("/sign-in")


def test_a_closed_store_refuses_the_order_and_says_why(
    world: World, people: dict[str, str], town: Town
) -> None:
    before = town.counts()
    world.clock.now = world.clock.now.replace(hour=15)  # 23:00 in Singapore: closed since 22:00
    browser = console_as(world, "buyer-a")
    token = csrf_of(browser.get(f"{SHOP}/local-stores/{town.store}"))
    sent = browser.post(f"{SHOP}/local-stores/{town.store}", data={**good(town), "csrf": token})
    assert sent.status_code == 422, sent.text
    assert 'role="alert"' in sent.text and "clos" in sent.text
    assert town.counts() == before
