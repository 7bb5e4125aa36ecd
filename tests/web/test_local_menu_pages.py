"""The console's menu editor on a local store's page (web/local_pages.py): its seller (or an operator)
adds items, changes their name, price (typed in the store's currency), description and whether they
are on sale, and archives them, through the API's own service; each mistake is shown beside its field
with nothing written; the CSRF token is required; another seller's store is 404, a buyer is refused
(403)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.local_on_demand import Town, shipped_city, town
from tests.web.conftest import console_as, csrf_of
from tests.world import World

__all__ = ["shipped_city", "town"]  # fixtures


def menu(town: Town, who: str = "seller_a") -> list[tuple[str, int, bool]]:
    got = town.ok(town.get(f"/local/stores/{town.store}/menu", who))
    return [(i["name"], i["price_minor"], i["available"]) for i in got["items"]]


def item_form(**change: str) -> dict[str, str]:
    return {"name": "soup", "price": "12.50", "description": "", "available": "on", **change}


def test_a_seller_adds_changes_and_archives_items_from_the_store_page(
    world: World, people: dict[str, str], town: Town
) -> None:
    browser = console_as(world, "seller-a")
    page = browser.get(f"/local/stores/{town.store}")
    assert page.status_code == 200 and "Add an item" in page.text and 'value="12.50"' in page.text
    token = csrf_of(page)
    base = f"/local/stores/{town.store}/menu"
    added = browser.post(
        base,
        data={"csrf": token, "name": "tea", "price": "4.50", "description": "hot"},
        follow_redirects=False,
    )
    assert added.status_code == 303 and "done=added" in added.headers["location"]
    soup = town.menu["soup"]
    sold_out = item_form(price="13.00")
    del sold_out["available"]  # an unticked box is not sent
    changed = browser.post(f"{base}/{soup}", data={"csrf": token, **sold_out}, follow_redirects=False)
    assert changed.status_code == 303
    archived = browser.post(
        f"{base}/{town.menu['bread']}/archive", data={"csrf": token}, follow_redirects=False
    )
    assert archived.status_code == 303
    assert menu(town) == [("soup", 1300, False), ("tea", 450, True)]
    shown = browser.get(added.headers["location"].replace("added", "archived"))
    assert "Menu item archived." in shown.text and "soup (not on sale)" in shown.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "bread"}, "name", "already"),
        ({"name": " "}, "name", "a name for the item"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"price": "0"}, "price", "above 0"),
        ({"price": "12.505"}, "price", "above 0"),
        ({"price": "lots"}, "price", "as 12.50"),
        ({"price": "999999999"}, "price", "up to 100000000.00 SGD"),
    ],
)
def test_a_mistake_is_shown_beside_its_field_and_nothing_is_written(
    world: World, people: dict[str, str], town: Town, data: dict[str, str], field: str, message: str
) -> None:
    before, was = town.counts(), menu(town)
    browser = console_as(world, "seller-a")
    token = csrf_of(browser.get(f"/local/stores/{town.store}"))
    soup = town.menu["soup"]
    sent = browser.post(f"/local/stores/{town.store}/menu/{soup}", data={"csrf": token, **item_form(**data)})
    assert sent.status_code == 422, sent.text
    error = sent.text.split(f'id="f-{soup}-{field}-error-1">', 1)
    assert len(error) == 2 and message in error[1].split("</p>", 1)[0], sent.text
    assert f'id="f-{soup}-{field}" name="{field}" type="text" value="{data[field]}"' in sent.text  # as typed
    added = browser.post(
        f"/local/stores/{town.store}/menu",
        data={"csrf": token, **item_form(**data), "name": data.get("name", "x")},
    )
    assert added.status_code == 422 and f'id="f-new-{field}-error-1"' in added.text
    assert town.counts() == before and menu(town) == was


def test_the_forms_need_their_csrf_token_and_the_store_s_seller(
    world: World, people: dict[str, str], town: Town
) -> None:
    before, was = town.counts(), menu(town)
    soup = town.menu["soup"]
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/local/stores/{town.store}/menu", {"name": "tea", "price": "1"}),
        (f"/local/stores/{town.store}/menu/{soup}", item_form(price="0.01")),
        (f"/local/stores/{town.store}/menu/{soup}/archive", {}),
    ]
    mine = console_as(world, "seller-a")
    for path, data in posts:
        assert mine.post(path, data=data).status_code == 403
        assert mine.post(path, data={**data, "csrf": "forged"}).status_code == 403
    other = console_as(world, "seller-b")
    assert other.get(f"/local/stores/{town.store}").status_code == 404
    token = csrf_of(other.get("/local"))
    for path, data in posts:
        assert other.post(path, data={**data, "csrf": token}).status_code == 404
    buyer = console_as(world, "buyer-a")
    token = csrf_of(buyer.get(f"/shop/lazada/sg/local-stores/{town.store}"))
    for path, data in posts:
        assert buyer.post(path, data={**data, "csrf": token}).status_code == 403
    assert town.counts() == before and menu(town) == was
    ops = console_as(world, "ops")
    token = csrf_of(ops.get(f"/local/stores/{town.store}"))
    done = ops.post(posts[1][0], data={**posts[1][1], "csrf": token}, follow_redirects=False)
    assert done.status_code == 303 and menu(town)[0] == ("soup", 1, True)
