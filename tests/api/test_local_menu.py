"""A store's menu (issue 22): its seller adds, changes, marks unavailable and archives items; buyers and
other sellers see only what is on sale; orders are priced from the menu at placement and keep the name
and price they were placed at; an order naming an item not on sale (unknown, another store's, unavailable,
archived) or a price of its own is refused and writes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import API, assert_problem, field_errors
from tests.api.local_on_demand import Town, shipped_city, store_body, town

__all__ = ["shipped_city", "town"]  # fixtures


def menu_of(town: Town, who: str, store: str | None = None) -> dict[str, Any]:
    return town.ok(town.get(f"/local/stores/{store or town.store}/menu", who))


def names(town: Town, who: str, store: str | None = None) -> list[str]:
    return [i["name"] for i in menu_of(town, who, store)["items"]]


def patch(town: Town, item: str, who: str = "seller_a", **change: Any) -> Any:
    path = f"{API}/local/stores/{town.store}/menu/{item}"
    return town.client.patch(path, json=change, headers=town.keys[who])


def delete(town: Town, item: str, who: str = "seller_a", store: str | None = None) -> Any:
    path = f"{API}/local/stores/{store or town.store}/menu/{item}"
    return town.client.delete(path, headers=town.keys[who])


def test_a_seller_keeps_its_menu_and_everyone_else_sees_what_is_on_sale(town: Town) -> None:
    body = {"name": "tea", "price_minor": 450, "description": "green, hot", "position": 0}
    tea = town.ok(town.post(f"/local/stores/{town.store}/menu", "seller_a", body), 201)
    assert (tea["currency"], tea["available"], tea["archived"], tea["description"]) == (
        "SGD",
        True,
        False,
        "green, hot",
    )
    assert names(town, "seller_a") == ["tea", "soup", "bread"]  # position 0 first, then in the order added
    soup = town.menu["soup"]
    sold_out = town.ok(patch(town, soup, available=False))
    assert sold_out["available"] is False and sold_out["price_minor"] == 1250
    for who in ("buyer_a", "seller_b", "rider 1"):
        assert names(town, who) == ["tea", "bread"], who
    assert names(town, "operator") == ["tea", "soup", "bread"]

    changed = town.ok(patch(town, tea["id"], name="sencha", price_minor=520, description=""))
    assert (changed["name"], changed["price_minor"], changed["description"]) == ("sencha", 520, None)
    gone = town.ok(delete(town, town.menu["bread"]))
    assert gone["archived"] is True and gone["available"] is False
    assert names(town, "seller_a") == ["sencha", "soup"]
    assert_problem(patch(town, town.menu["bread"], price_minor=1), 404, "not-found")
    again = town.add_item("bread", 399)  # an archived item's name is free again
    assert again != town.menu["bread"] and names(town, "buyer_a") == ["sencha", "bread"]
    trail = town.ok(town.client.get(f"{API}/audit", params={"subject": soup}, headers=town.keys["operator"]))
    assert [e["action"] for e in trail["items"]] == ["local_menu_item.changed", "local_menu_item.added"]


def test_only_the_store_s_seller_or_an_operator_changes_its_menu(town: Town) -> None:
    soup = town.menu["soup"]
    town.ok(patch(town, soup, available=False))
    before, seen = town.counts(), menu_of(town, "seller_a")
    new = {"name": "tea", "price_minor": 1}
    assert_problem(town.post(f"/local/stores/{town.store}/menu", "seller_b", new), 404, "not-found")
    assert_problem(patch(town, soup, "seller_b", price_minor=1), 404, "not-found")
    assert_problem(delete(town, soup, "seller_b"), 404, "not-found")
    for who in ("buyer_a", "rider 1"):
        assert_problem(town.post(f"/local/stores/{town.store}/menu", who, new), 403, "forbidden")
        assert_problem(patch(town, soup, who, price_minor=1), 403, "forbidden")
        assert_problem(delete(town, soup, who), 403, "forbidden")
    assert town.counts() == before and menu_of(town, "seller_a") == seen
    theirs = town.ok(town.post("/local/stores", "seller_b", store_body(name="B's")), 201)["id"]
    their_soup = town.add_item("soup", 900, store=theirs, who="seller_b")
    assert_problem(patch(town, their_soup, price_minor=1), 404, "not-found")  # not on seller_a's store
    assert_problem(delete(town, town.menu["bread"], "seller_b", store=theirs), 404, "not-found")
    by_operator = town.ok(patch(town, soup, "operator", price_minor=1300))
    assert by_operator["price_minor"] == 1300


def test_bad_menu_input_is_a_precise_problem_and_writes_nothing(town: Town) -> None:
    before = town.counts()
    path = f"/local/stores/{town.store}/menu"
    cases = [
        (town.post(path, "seller_a", {"name": "soup", "price_minor": 990}), "name"),
        (town.post(path, "seller_a", {"name": "tea", "price_minor": 0}), "price_minor"),
        (town.post(path, "seller_a", {"name": "tea", "price_minor": 10**12}), "price_minor"),  # > SGD's
        (town.post(path, "seller_a", {"name": "", "price_minor": 100}), "name"),
        (town.post(path, "seller_a", {"name": "tea", "price_minor": 100, "currency": "EUR"}), "currency"),
        (patch(town, town.menu["bread"], name="soup"), "name"),
        (patch(town, town.menu["bread"], price_minor=-5), "price_minor"),
    ]
    for response, field in cases:
        problem = assert_problem(response, 422, "validation-failed")
        assert field in field_errors(problem), problem
    assert town.counts() == before
    assert [(i["name"], i["price_minor"]) for i in menu_of(town, "seller_a")["items"]] == [
        ("soup", 1250),
        ("bread", 349),
    ]


def test_an_order_is_priced_from_the_menu_and_a_later_price_change_leaves_it_as_it_was(town: Town) -> None:
    town.ping(0)
    placed = town.ok(town.order(items=town.lines(soup=2, bread=1)), 201)
    assert placed["items"] == [
        {"item": town.menu["soup"], "name": "soup", "quantity": 2, "unit_price_minor": 1250},
        {"item": town.menu["bread"], "name": "bread", "quantity": 1, "unit_price_minor": 349},
    ]
    assert placed["total_minor"] == 2849
    town.ok(patch(town, town.menu["soup"], name="leek soup", price_minor=1500))
    assert town.ok(town.get(f"/local/orders/{placed['id']}", "buyer_a")) == placed
    later = town.ok(town.order(), 201)
    assert (later["items"][0]["name"], later["total_minor"]) == ("leek soup", 3000)


def test_an_order_naming_an_item_not_on_sale_is_refused_and_writes_nothing(town: Town) -> None:
    theirs = town.ok(town.post("/local/stores", "seller_b", store_body(name="B's")), 201)["id"]
    their_tea = town.add_item("tea", 300, store=theirs, who="seller_b")
    town.ok(patch(town, town.menu["bread"], available=False))
    archived = town.add_item("cake", 600)
    town.ok(delete(town, archived))
    before = town.counts()
    soup = {"item": town.menu["soup"], "quantity": 1}
    for line, why in [
        ({"item": town.menu["bread"], "quantity": 1}, "not available now"),
        ({"item": their_tea, "quantity": 1}, "not on this store's menu"),
        ({"item": "itm_nosuchitem", "quantity": 1}, "not on this store's menu"),
        ({"item": archived, "quantity": 1}, "not available now"),
    ]:
        problem = assert_problem(town.order(items=[soup, line]), 422, "validation-failed")
        assert list(field_errors(problem)) == ["items[1].item"], problem
        assert why in field_errors(problem)["items[1].item"]
    assert town.counts() == before


def test_the_buyer_names_no_price_nor_name(town: Town) -> None:
    before = town.counts()
    for extra in ({"unit_price_minor": 1}, {"name": "soup"}):
        line = {"item": town.menu["soup"], "quantity": 1, **extra}
        problem = assert_problem(town.order(items=[line]), 422, "validation-failed")
        assert any(extra.keys() & {f.rsplit(".", 1)[-1]} for f in field_errors(problem)), problem
    old_body = [{"name": "pizza", "quantity": 1, "unit_price_minor": 1}]
    assert_problem(town.order(items=old_body), 422, "validation-failed")
    assert town.counts() == before
