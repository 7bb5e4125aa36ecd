"""Ordering from a local store in the storefront (web/shop/local_ordering.py): the shop's stores, a
store's form placing an order through the API's own function (the buyer lands on its tracking page with
the promised time), each mistake shown beside its field with nothing written, the CSRF token required,
only buyers ordering, a visitor sent to sign in."""

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
GOOD = {"item": "soup", "quantity": "2", "price": "12.50", "address": "Mikonkatu 18"}


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
    sent = browser.post(
        f"{SHOP}/local-stores/{town.store}",
        data={**GOOD, "csrf": csrf_of(form), "key": key_of(form)},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    order = sent.headers["location"].rsplit("/", 1)[1]
    placed = town.ok(town.get(f"/local/orders/{order}", "buyer_a"))
    assert placed["total_minor"] == 2500 and placed["items"][0]["name"] == "soup"
    again = browser.post(  # the same form sent again (a second click): the same order, nothing more
        f"{SHOP}/local-stores/{town.store}",
        data={**GOOD, "csrf": csrf_of(form), "key": key_of(form)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == sent.headers["location"]
    assert town.counts()["local_orders"] == 1
    page = browser.get(sent.headers["location"])
    assert "Promised by" in page.text and "Mikonkatu 18" in page.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"address": "Nowhere street 99999"}, "address", "not on the map"),
        ({"address": " "}, "address", "a street address"),
        ({"quantity": "0"}, "quantity", "from 1 to 100"),
        ({"quantity": "two"}, "quantity", "from 1 to 100"),
        ({"price": "12.505"}, "price", "above zero"),
        ({"price": "-1"}, "price", "above zero"),
        ({"item": ""}, "item", "what to bring"),
    ],
)
def test_a_mistake_is_shown_beside_its_field_and_nothing_is_written(
    world: World, people: dict[str, str], town: Town, change: dict[str, str], field: str, message: str
) -> None:
    before = town.counts()
    browser = console_as(world, "buyer-a")
    token = csrf_of(browser.get(f"{SHOP}/local-stores/{town.store}"))
    sent = browser.post(f"{SHOP}/local-stores/{town.store}", data={**GOOD, **change, "csrf": token})
    assert sent.status_code == 422, sent.text
    assert f'id="f-{field}" name="{field}"' in sent.text
    error = sent.text.split(f'id="f-{field}-error-1">', 1)
    assert len(error) == 2 and message in error[1].split("</p>", 1)[0], sent.text
    assert town.counts() == before


def test_the_form_needs_its_csrf_token(world: World, people: dict[str, str], town: Town) -> None:
    before = town.counts()
    browser = console_as(world, "buyer-a")
    for data in (GOOD, {**GOOD, "csrf": "forged"}):
        assert browser.post(f"{SHOP}/local-stores/{town.store}", data=data).status_code == 403
    assert town.counts() == before


@pytest.mark.parametrize("who", ["seller-a", "ops"])
def test_only_buyers_order(world: World, people: dict[str, str], town: Town, who: str) -> None:
    before = town.counts()
    browser = console_as(world, who)
    token = csrf_of(browser.get(f"{SHOP}/local-stores/{town.store}"))
    assert browser.post(f"{SHOP}/local-stores/{town.store}", data={**GOOD, "csrf": token}).status_code == 403
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
    sent = browser.post(f"{SHOP}/local-stores/{town.store}", data={**GOOD, "csrf": token})
    assert sent.status_code == 422, sent.text
    assert 'role="alert"' in sent.text and "clos" in sent.text
    assert town.counts() == before
