"""The console in a real browser (Debian's Chromium, driven by Playwright, as test_api_docs.py): an
operator signs in, reads the overview, opens an order and refunds it after confirming; a seller cannot
open operator pages nor another seller's order; a POST without its CSRF token is refused.

Each main page is checked with axe-core (axe-playwright-python bundles it: nothing is fetched) and fails
on a serious or critical violation, and is photographed at 1280 px and at 390 px under
test-artifacts/console/ for a person to look at. The server runs in this process on a free port, over
the test world (tests/world.py) on a SQLite file, with two paid orders and a console user per role.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from entrepot.api.app import create_app
from entrepot.identity import users
from entrepot.platform.db import Database
from tests.api.helpers import pay, place_ok
from tests.e2e.conftest import served, unavailable
from tests.world import World, build_world

pytestmark = pytest.mark.slow  # a server and a browser: seconds
PASSWORD = "correct horse battery"
ARTIFACTS = Path(os.environ.get("ENTREPOT_TEST_ARTIFACTS", "test-artifacts")) / "console"
WIDTHS = {"laptop": (1280, 800), "phone": (390, 844)}
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    """The test world on a file of its own, with a paid order from each seller and console users."""
    path = tmp_path_factory.mktemp("console") / "entrepot.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    world = build_world(db)
    api = world.client()
    with world.db.transaction() as session:
        for name, role, owner in (("ops", "operator", None), ("seller-a", "seller", "seller_a")):
            seller = world.ids[owner] if owner else None
            users.create_user(session, name, PASSWORD, role, world.clock(), seller_public_id=seller)
    for _ in range(2):
        order = place_ok(api, world, ("seller_a_red", 2))
        assert pay(api, world, order["id"]).status_code == 202
        world.ids.setdefault("order_a", order["id"])
    world.ids["order_unpaid"] = place_ok(api, world, ("seller_a_blue", 1))["id"]
    yield world
    db.dispose()


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    """A real server on a free port, in a thread of this process, on the world's database and clock."""
    app = create_app(world.settings(run_relay=False), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield url


@pytest.fixture(scope="module")
def axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError as exc:
        unavailable(f"axe-playwright-python is not installed ({exc}); `pip install -e '.[dev]'`")
    return Axe()


class Visit:
    """A page in the browser that records what a person would notice: script errors, and requests to
    any other host (the console fetches nothing from elsewhere)."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.base_url = base_url
        self.page = browser.new_page(viewport=dict(zip(("width", "height"), WIDTHS["laptop"], strict=True)))
        self.problems: list[str] = []
        self.elsewhere: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("response", self._response)
        host = urlsplit(base_url).netloc
        self.page.on(
            "request", lambda r: self.elsewhere.append(r.url) if urlsplit(r.url).netloc != host else None
        )

    def _console(self, message: Any) -> None:
        # a page answered 403, 404 or 422 on purpose logs "Failed to load resource": _response judges those
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(message.text)

    def _response(self, response: Any) -> None:
        """A stylesheet, image or icon that fails is a fault; a page may answer 4xx by design."""
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} {response.url}")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def sign_in(self, username: str) -> None:
        self.goto("/")
        self.page.get_by_label("User name", exact=True).fill(username)
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.page.wait_for_load_state()

    def check(self, name: str, axe: Any) -> None:
        """No serious or critical accessibility violation; screenshots at each width."""
        results = axe.run(self.page)
        serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
        assert not serious, "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in serious
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for label, (width, height) in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["laptop"], strict=True)))

    def done(self) -> None:
        assert not self.elsewhere, f"the page asked other hosts: {self.elsewhere}"
        assert not self.problems, (
            f"errors in the page (a script refused by the CSP shows here): {self.problems}"
        )
        self.page.close()


def test_an_operator_reads_the_overview_and_refunds_an_order(
    base_url: str, browser: Any, axe: Any, world: World
) -> None:
    visit = Visit(browser, base_url)
    page = visit.page
    visit.goto("/")
    visit.check("sign-in", axe)
    visit.sign_in("ops")
    assert page.url == f"{base_url}/overview"
    assert page.get_by_role("heading", name="Overview", level=1).is_visible()
    figures = page.locator(".cards").first  # the day's figures (the live card comes after)
    assert "Orders on 2025-11-11" in figures.inner_text() and "100.0%" in figures.inner_text()
    assert page.get_by_role("cell", name="lazada-sg").is_visible()
    visit.check("overview", axe)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    page.wait_for_load_state()
    assert page.get_by_role("table", name="Orders, newest first").is_visible()
    visit.check("orders", axe)
    page.get_by_label("Status", exact=True).select_option("paid")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert world.ids["order_unpaid"] not in page.inner_text("main")

    order_id = world.ids["order_a"]
    page.get_by_role("link", name=order_id).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"Order {order_id}").is_visible()
    timeline = page.locator("ol.timeline").inner_text()
    assert "placed" in timeline and "paid" in timeline
    visit.check("order", axe)

    page.get_by_role("link", name="Refund…").click()
    page.wait_for_load_state()
    page.get_by_label("Amount (SGD)", exact=True).fill(
        "100.00"
    )  # more than was paid: the service's field error
    page.get_by_label("Reason", exact=True).fill("arrived scratched")
    page.get_by_role("button", name="Review the refund").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Refund 100.00 SGD").click()
    page.wait_for_load_state()
    assert "at most 4179" in page.locator("#f-amount-error-1").inner_text()
    visit.check("refund-refused", axe)

    page.get_by_label("Amount (SGD)", exact=True).fill("5.00")
    page.get_by_role("button", name="Review the refund").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Confirm the refund").is_visible()
    visit.check("refund-confirm", axe)
    page.get_by_role("button", name="Refund 5.00 SGD").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{base_url}/orders/{order_id}")
    assert page.get_by_role("status").inner_text() == "Refunded 5.00 SGD."
    assert "refunded" in page.locator("ol.timeline").inner_text()
    visit.check("order-refunded", axe)
    api = TestClient(create_app(world.settings(), world.db))
    assert (
        api.get(f"/api/v1/orders/{order_id}", headers=world.auth("operator")).json()["refunded_minor"] == 500
    )

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert visit.goto("/orders").url.startswith(f"{base_url}/sign-in")
    visit.done()


def test_a_seller_cannot_open_operator_pages_nor_another_sellers_order(
    base_url: str, browser: Any, axe: Any, world: World
) -> None:
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("seller-a")
    assert page.url == f"{base_url}/orders"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").count() == 0
    forbidden = visit.goto("/overview")
    assert forbidden.status == 403
    assert page.get_by_role("heading", name="Forbidden").is_visible()
    visit.check("forbidden", axe)
    assert visit.goto(f"/orders/{world.ids['order_a']}").status == 200  # its own
    other = place_other_sellers_order(world)
    assert visit.goto(f"/orders/{other}").status == 404
    csrf_less = page.request.post(f"{base_url}/sign-out", form={"nothing": "here"})
    assert csrf_less.status == 403
    assert visit.goto("/orders").status == 200  # still signed in: the refused POST did nothing
    visit.done()


def place_other_sellers_order(world: World) -> str:
    """An order of seller_b (whose SKUs need stock first), placed through the API."""
    from entrepot.catalog import service as catalog
    from entrepot.inventory import service as inventory

    with world.db.transaction() as session:
        sku = catalog.get_sku(session, world.ids["seller_b_red"])
        inventory.set_on_hand(session, sku, inventory.get_warehouse(session, "sg-tuas"), 5)
    order_id: str = place_ok(world.client(), world, ("seller_b_red", 1))["id"]
    return order_id
