"""Local services in a real browser (Chromium, axe-core, as test_console.py): the store's seller adds an
item to its menu from the console (a price with too many decimals refused beside its field first); a
buyer orders from the menu through the storefront's form (an address not on the map refused beside its
field first); the order shows on the
operator's board, whose city map is drawn over the roads from this server alone with OpenStreetMap's
attribution; a courier takes it and delivers it through the API, and the buyer's tracking page follows
it live to "delivered" without a reload."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrepot.api.app import create_app
from entrepot.identity import users
from entrepot.platform.db import Database
from tests.api.local_on_demand import Town
from tests.api.local_on_demand import shipped_city as city_fixture
from tests.e2e.conftest import served
from tests.e2e.test_console import PASSWORD, Visit, axe  # noqa: F401 (the module's fixture)
from tests.world import World, build_world

pytestmark = pytest.mark.slow  # a server and a browser: seconds
shipped_city = city_fixture


@pytest.fixture
def town_served(tmp_path: Path, sqlite_template: Path, shipped_city: None) -> Iterator[tuple[Town, str]]:
    shutil.copy(sqlite_template, tmp_path / "entrepot.db")
    db = Database(f"sqlite:///{tmp_path / 'entrepot.db'}")
    world: World = build_world(db)
    town = Town(world)
    with world.db.transaction() as session:
        users.create_user(session, "ops", PASSWORD, "operator", world.clock())
        users.create_user(
            session, "seller-a", PASSWORD, "seller", world.clock(), seller_public_id=world.ids["seller_a"]
        )
        users.create_user(
            session, "buyer-a", PASSWORD, "buyer", world.clock(), buyer_public_id=world.ids["buyer_a"]
        )
    app = create_app(world.settings(run_relay=False), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield town, url
    db.dispose()


def _drawn(visit: Visit, map_id: str, places: int) -> None:
    """The map has the roads (one canvas) and `places` markers, and names OpenStreetMap."""
    element = visit.page.locator(f'[data-local-map="{map_id}"]')
    visit.page.locator(f'[data-local-map="{map_id}"][data-drawn="true"]').wait_for()
    assert element.locator("canvas").count() >= 1
    assert element.locator(".leaflet-interactive").count() == places
    assert "OpenStreetMap" in element.locator(".leaflet-control-attribution").inner_text()


def test_an_order_on_the_board_and_delivered_live_on_the_buyers_page(
    town_served: tuple[Town, str],
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    town, url = town_served
    seller = Visit(browser, url)
    seller.sign_in("seller-a")
    seller.goto(f"/local/stores/{town.store}")
    adding = seller.page.get_by_role("group", name="Add an item")
    adding.get_by_label("Name", exact=True).fill("Lemonade")
    adding.get_by_label("Price (SGD)", exact=True).fill("4.555")
    adding.get_by_role("button", name="Add to the menu").click()
    seller.page.wait_for_load_state()
    price = seller.page.get_by_role("group", name="Add an item").get_by_label("Price (SGD)", exact=True)
    assert price.get_attribute("aria-invalid") == "true"
    seller.check("local-menu-refused", axe)
    price.fill("4.50")
    seller.page.get_by_role("button", name="Add to the menu").click()
    seller.page.get_by_role("status").filter(has_text="Menu item added.").wait_for()
    assert seller.page.get_by_role("group", name="Lemonade").is_visible()
    seller.check("local-menu", axe)
    seller.done()

    buyer = Visit(browser, url)
    buyer.sign_in("buyer-a")
    buyer.goto("/shop/lazada/sg/deliveries")
    buyer.page.get_by_role("link", name="Order from a store nearby").click()
    buyer.page.get_by_role("link", name="Soup Kitchen").click()
    buyer.page.wait_for_load_state()
    buyer.page.get_by_label("soup", exact=True).fill("2")  # the menu's soup, at its price
    buyer.page.get_by_label("Deliver to (street address)", exact=True).fill("Nowhere street 99999")
    buyer.page.get_by_role("button", name="Order for delivery").click()
    buyer.page.wait_for_load_state()
    address = buyer.page.get_by_label("Deliver to (street address)", exact=True)
    assert address.get_attribute("aria-invalid") == "true"
    buyer.check("local-order-refused", axe)
    address.fill("Mikonkatu 18")
    buyer.page.get_by_role("button", name="Order for delivery").click()
    buyer.page.wait_for_url("**/deliveries/lor_*")
    order = buyer.page.url.rsplit("/", 1)[1]
    town.ok(town.ping(0))

    operator = Visit(browser, url)
    operator.sign_in("ops")
    operator.page.get_by_role("navigation", name="Main").get_by_role("link", name="Local services").click()
    operator.page.wait_for_load_state()
    _drawn(operator, "city", 3)  # the store, the courier, the door
    operator.page.locator('[data-live-state="open"]').wait_for()  # /local/live streams the board
    assert (
        operator.page.get_by_role("table", name="On-demand orders in flight, late ones first")
        .get_by_text(order)
        .is_visible()
    )
    operator.check("local-board", axe)
    operator.done()

    buyer.goto(f"/shop/lazada/sg/deliveries/{order}")  # again: the courier is on shift now
    _drawn(buyer, "track", 2)  # no courier yet
    buyer.page.locator('[data-live-state="open"]').wait_for()
    state = buyer.page.locator('[data-live="state"]')
    assert state.inner_text() == "placed"
    got = town.dispatched(order)
    trip = town.ok(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"))
    assert got["trip"] == trip["id"]
    town.ok(town.post(f"/local/trips/{trip['id']}/accept", "rider 1"))
    town.world.clock.now = dt.datetime.fromisoformat(trip["stops"][0]["at"])
    town.ok(town.post(f"/local/orders/{order}/pickup", "rider 1"))
    buyer.page.wait_for_function(
        "() => document.querySelector('[data-live=\"state\"]').textContent === 'picked up'"
    )
    town.ok(
        town.post(
            f"/local/couriers/{town.couriers[0]}/positions", "rider 1", {"lat": 60.1690, "lon": 24.9440}
        )
    )
    buyer.page.wait_for_function(  # the courier's new position, in words and on the map
        "() => document.querySelector('[data-live=\"courier\"]').textContent === '60.16900, 24.94400'"
    )
    assert buyer.page.locator('[data-local-map="track"] .leaflet-interactive').count() == 3
    buyer.check("local-tracking", axe)
    town.ok(town.post(f"/local/orders/{order}/delivery", "rider 1", {"kind": "code", "reference": "4821"}))
    buyer.page.wait_for_function(
        "() => document.querySelector('[data-live=\"state\"]').textContent === 'delivered'"
    )
    buyer.done()
