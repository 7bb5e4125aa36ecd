"""The storefront in a real browser on a 390x844 phone (Debian's Chromium through Playwright, as the
console's tests): a buyer browses a Lazada-like market, adds to the cart, sees the delivery options with
their CO2e, picks the greenest, pays, and sees the order paid and then tracked; two buyers complete a
group buy and both are charged; a buyer cannot open another buyer's order page.

Every main page is checked with axe-core (no serious or critical violation) and photographed at 390 px
and 1280 px under test-artifacts/storefront/. The world is tests/world.py's on a SQLite file, with the
three-ways logistics network of the delivery-options tests (by air, road and sea from Hangzhou), so the
options have promised dates and CO2e."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entrepot.api.app import create_app
from entrepot.identity import users
from entrepot.logistics import service as logistics
from entrepot.platform.db import Database
from tests.api.test_delivery_options import three_ways_network
from tests.e2e.conftest import served
from tests.e2e.test_console import PASSWORD, SERIOUS, Visit, axe  # noqa: F401 (axe: the module's fixture)
from tests.world import T0, World, build_world

pytestmark = pytest.mark.slow  # a server and a browser: seconds
ARTIFACTS = Path(os.environ.get("ENTREPOT_TEST_ARTIFACTS", "test-artifacts")) / "storefront"
PHONE, LAPTOP = (390, 844), (1280, 800)
SHOP = "/shop/lazada/sg"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    """The test world with a logistics network, two buyers who sign in, and a group buy of two."""
    path = tmp_path_factory.mktemp("storefront") / "entrepot.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    world = build_world(db)
    with world.db.transaction() as session:
        logistics.store_network(session, three_ways_network())
        for name, owner in (("buyer-a", "buyer_a"), ("buyer-b", "buyer_b")):
            users.create_user(
                session, name, PASSWORD, "buyer", world.clock(), buyer_public_id=world.ids[owner]
            )
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 1290,
        "team_size": 2,
        "team_window_seconds": 3600,
        "stock": 4,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(days=1)).isoformat(),
    }
    made = world.client().post("/api/v1/group-buys", json=body, headers=world.auth("seller_a"))
    assert made.status_code == 201, made.text
    world.ids["group_buy"] = made.json()["id"]
    yield world
    db.dispose()


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    app = create_app(world.settings(run_relay=False), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield url


class Phone(Visit):
    """A Visit on a phone-sized window, photographed under test-artifacts/storefront."""

    def __init__(self, browser: Any, base_url: str) -> None:
        super().__init__(browser, base_url)
        self.page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})

    def check(self, name: str, axe: Any) -> None:  # noqa: F811
        results = axe.run(self.page)
        serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
        assert not serious, "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in serious
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for label, (width, height) in (("phone", PHONE), ("laptop", LAPTOP)):
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})

    def follow(self, target: Any) -> None:
        target.click()
        self.page.wait_for_load_state()

    def reload_until(self, selector: str, tries: int = 50) -> None:
        """Reload until the page shows `selector`: the provider's webhook and the planner run after the
        answer that led here, so the page can be a moment early."""
        for _ in range(tries):
            if self.page.locator(selector).count():
                return
            self.page.wait_for_timeout(100)
            self.page.reload()
        raise AssertionError(f"{selector} never showed on {self.page.url}")


def test_a_buyer_on_a_phone_buys_with_the_greenest_delivery_and_follows_the_order(
    base_url: str,
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,
) -> None:
    visit = Phone(browser, base_url)
    page = visit.page
    visit.sign_in("buyer-a")
    assert page.url == f"{base_url}/shop"
    visit.check("shops", axe)
    visit.follow(page.get_by_role("link", name="Lazada SG"))
    assert page.url == f"{base_url}{SHOP}"
    assert page.get_by_role("link", name="SG · SGD").is_visible()  # the market and its currency
    page.get_by_role("searchbox", name="Search products").fill("phone")
    visit.follow(page.get_by_role("button", name="Search"))
    assert page.get_by_role("heading", name="Products matching “phone”").is_visible()
    visit.check("browse", axe)

    visit.follow(page.get_by_role("link", name="Phone case seller_a-blue"))  # stocked in Hangzhou only
    assert page.locator(".price.big").inner_text() == "$19.90"
    visit.check("product", axe)
    visit.follow(page.get_by_role("button", name="Add to cart"))
    assert page.get_by_role("status").inner_text() == "Added to your cart."
    assert page.locator(".cart-link .count").inner_text() == "1"
    visit.check("cart", axe)

    visit.follow(page.get_by_role("link", name="Check out"))
    options = page.get_by_role("group", name="Delivery")
    assert options.get_by_role("radio").count() == 3  # by air, by road, by sea
    assert options.get_by_text(re.compile(r"^[\d.,]+ k?g CO2e$")).count() == 3  # grams under a kilogram
    assert options.get_by_text("Arrives by").count() == 3
    greenest = page.locator("label.option.greenest")
    assert greenest.count() == 1 and "Greenest" in greenest.inner_text()
    visit.check("checkout", axe)
    promised_total = greenest.locator(".option-total").inner_text().removeprefix("Total: ")
    greenest.get_by_role("radio").check()
    page.get_by_label("Pay with", exact=True).select_option("card_visa")
    visit.follow(page.get_by_role("button", name="Place order and pay"))
    assert page.get_by_role("status").inner_text() == "Thank you: your order is placed."
    order_id = page.url.split("/orders/", 1)[1].split("?", 1)[0]
    visit.reload_until('[data-status="paid"]')
    assert page.locator('[data-payment="succeeded"]').count() == 1
    assert page.locator(".totals .total dd").inner_text() == promised_total
    assert "Order placed" in page.locator("ol.timeline").first.inner_text()
    assert "greenest" in page.locator(".facts").first.inner_text()
    visit.check("order-paid", axe)

    # the relay plans the shipment when the order is paid (off in this server): the operator's route does
    api = world.client()
    shipped = api.post(f"/api/v1/orders/{order_id}/shipments", headers=world.auth("operator"))
    assert shipped.status_code == 201, shipped.text
    visit.reload_until("section.parcel")
    assert page.locator("section.parcel [data-shipment]").count() == 1
    visit.check("order-tracked", axe)
    world.ids["order_of_buyer_a"] = order_id
    visit.done()


def test_a_buyer_cannot_open_another_buyers_order(base_url: str, browser: Any, world: World) -> None:
    order_id = world.ids.get("order_of_buyer_a")
    if order_id is None:  # run alone: buyer_a's order placed through the API
        api = world.client()
        body = {"market": "lazada-sg", "lines": [{"sku": world.ids["seller_a_red"], "quantity": 1}]}
        placed = api.post(
            "/api/v1/orders",
            json=body,
            headers={**world.auth("buyer_a"), "Idempotency-Key": "e2e-other-order"},
        )
        order_id = placed.json()["id"]
    visit = Phone(browser, base_url)
    visit.sign_in("buyer-b")
    answer = visit.goto(f"{SHOP}/orders/{order_id}")
    assert answer.status == 404  # as GET /api/v1/orders/{id} answers buyer_b
    assert visit.page.get_by_role("heading", name="Not found").is_visible()
    assert visit.page.locator("[data-status], ol.timeline").count() == 0  # nothing of the order shown
    visit.done()


def test_two_buyers_complete_a_group_buy_and_both_are_charged(
    base_url: str,
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,
) -> None:
    first = Phone(browser, base_url)
    first.sign_in("buyer-a")
    first.goto(f"{SHOP}/group-buys/{world.ids['group_buy']}")
    assert first.page.locator(".price.big").inner_text().startswith("$12.90")
    first.check("group-buy", axe)
    first.follow(first.page.get_by_role("button", name="Start a team"))
    assert first.page.get_by_role("status").inner_text() == "You are in the team."
    assert "1 of 2 buyers" in first.page.locator(".team-progress").inner_text()
    first.check("team-open", axe)
    team_url = first.page.url.split("?", 1)[0]

    second = Phone(browser, base_url)  # another browser: buyer-b opens the shared address
    second.sign_in("buyer-b")
    second.page.goto(team_url)
    second.follow(second.page.get_by_role("button", name="Join the team"))
    assert second.page.locator('[data-team-status="completed"]').count() == 1
    assert second.page.locator('[data-payment="captured"]').inner_text() == "Charged"
    second.check("team-complete", axe)
    first.page.reload()
    assert first.page.locator('[data-payment="captured"]').inner_text() == "Charged"
    team = team_url.rsplit("/", 1)[1]
    api = world.client()
    for who in ("buyer_a", "buyer_b"):
        assert (
            api.get(f"/api/v1/group-teams/{team}", headers=world.auth(who)).json()["your_payment"]
            == "captured"
        )
    first.done()
    second.done()


def test_a_flash_sale_counter_follows_the_orders_live(
    base_url: str,
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,
) -> None:
    from playwright.sync_api import expect

    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 5,
        "per_buyer_limit": 2,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=2)).isoformat(),
    }
    api = f"{base_url}/api/v1"
    made = httpx.post(f"{api}/flash-sales", json=body, headers=world.auth("seller_a"), timeout=30)
    assert made.status_code == 201, made.text
    sale = made.json()["id"]
    visit = Phone(browser, base_url)
    page = visit.page
    visit.sign_in("buyer-a")
    visit.goto(f"{SHOP}/flash-sales/{sale}")
    assert page.locator(".price.big").inner_text() == "$9.90"
    expect(page.locator("[data-live-status]")).to_have_text("Updating live.")
    left = page.locator('[data-live="available"]')
    expect(left).to_have_text("5")
    headers = {**world.auth("buyer_b"), "Idempotency-Key": uuid.uuid4().hex}
    taken = httpx.post(
        f"{api}/flash-sales/{sale}/orders",
        json={"quantity": 2, "payment_method": "card"},
        headers=headers,
        timeout=30,
    )
    assert taken.status_code == 201, taken.text
    expect(left).to_have_text("3")  # no reload: the figures came by the page's event stream
    expect(page.locator('[data-live="sold"]')).to_have_text("2")
    assert page.locator('[data-live="time_left"]').inner_text() == "2 hours"
    visit.check("flash-sale", axe)
    visit.done()
