"""The buyer's deliveries in the storefront (web/shop/local_tracking.py): its own on-demand orders, one
order's state, promise, live ETA and map (store, door, courier), kept current by server-sent events;
another buyer's order is a 404, other roles are refused, a visitor is sent to sign in."""

from __future__ import annotations

import json
import re

import pytest

from entrepot.web.locale import MarketFormat
from entrepot.web.maps import Point
from entrepot.web.shop.local_tracking import status_figures
from tests.api.local_on_demand import Town, shipped_city, town
from tests.web.conftest import console_as
from tests.world import World

__all__ = ["shipped_city", "town"]  # fixtures

SHOP = "/shop/lazada/sg"
MAP_DATA = re.compile(r'<script type="application/json" id="track-data">(.*?)</script>', re.S)


def groups(page: str) -> set[str]:
    found = MAP_DATA.search(page)
    assert found, page
    return {p["group"] for p in json.loads(found.group(1))["points"]}


def test_a_buyer_lists_its_deliveries_and_follows_one_on_the_map(
    world: World, people: dict[str, str], town: Town
) -> None:
    order = town.ok(town.order(), 201)["id"]
    browser = console_as(world, "buyer-a")
    listed = browser.get(f"{SHOP}/deliveries")
    assert listed.status_code == 200 and order in listed.text and "Soup Kitchen" in listed.text
    page = browser.get(f"{SHOP}/deliveries/{order}")
    assert page.status_code == 200, page.text
    assert "placed" in page.text and "Promised by" in page.text
    assert "© OpenStreetMap contributors, ODbL" in page.text and "<script>" not in page.text
    assert groups(page.text) == {"store", "drop_off"}  # no courier yet
    town.ping(0)
    got = town.dispatched(order)
    assert got["state"] == "assigned"
    page = browser.get(f"{SHOP}/deliveries/{order}")
    assert "assigned" in page.text and groups(page.text) == {"store", "drop_off", "courier"}


def test_the_live_figures_say_the_state_eta_and_places() -> None:
    fixed = [Point("s", "S", 60.17, 24.94, "store"), Point("o", "O", 60.16, 24.93, "drop_off")]
    status = {
        "state": "picked_up",
        "eta_at": "2026-01-01T03:30:00+00:00",
        "eta_spread_s": 240,
        "promised_at": "2026-01-01T03:35:00+00:00",
        "courier": {"lat": 60.165, "lon": 24.935, "at": None},
    }
    shown = status_figures(status, fixed, MarketFormat("en_SG", "SGD", "Asia/Singapore"))
    assert shown["state"] == "picked up" and shown["spread"] == "4 minutes"
    assert shown["eta"].endswith("11:30\u202fam") and shown["courier"] == "60.16500, 24.93500"
    assert [p["group"] for p in shown["points"]] == ["store", "drop_off", "courier"]


def test_another_buyers_delivery_is_not_found(world: World, people: dict[str, str], town: Town) -> None:
    order = town.ok(town.order(), 201)["id"]
    other = console_as(world, "buyer-b")
    assert order not in other.get(f"{SHOP}/deliveries").text
    assert other.get(f"{SHOP}/deliveries/{order}").status_code == 404
    assert other.get(f"{SHOP}/deliveries/{order}/live").status_code == 404
    assert other.get(f"{SHOP}/deliveries/dlv_nothing").status_code == 404


def test_an_order_is_not_found_in_another_markets_shop(
    world: World, people: dict[str, str], town: Town
) -> None:
    order = town.ok(town.order(), 201)["id"]
    browser = console_as(world, "buyer-a")
    elsewhere = [
        m for m in re.findall(r'href="(/shop/[a-z0-9-]+/[a-z]{2})"', browser.get("/shop").text) if m != SHOP
    ]
    if not elsewhere:
        pytest.skip("the test world has one shop")
    assert browser.get(f"{elsewhere[0]}/deliveries/{order}").status_code == 404


@pytest.mark.parametrize("who", ["seller-a", "ops", "courier"])
def test_other_roles_are_refused(world: World, people: dict[str, str], town: Town, who: str) -> None:
    order = town.ok(town.order(), 201)["id"]
    assert console_as(world, who).get(f"{SHOP}/deliveries/{order}").status_code == 403


def test_a_visitor_is_sent_to_sign_in(world: World, town: Town) -> None:
    order = town.ok(town.order(), 201)["id"]
    for path in (f"{SHOP}/deliveries", f"{SHOP}/deliveries/{order}"):
        got = world.client().get(path, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/sign-in")
