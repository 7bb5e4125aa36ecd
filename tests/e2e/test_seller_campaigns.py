"""A seller's campaigns made in a real browser (issue 21's journey "a seller creates a flash sale and
watches it"), on test_console.py's world, server, axe-core check and screenshots: the seller opens the
new flash sale form from Peak days, is told in place what is wrong with its first try, creates the sale
and watches its board's counters change while orders for it are placed through the API. The group buy's
form and an operator's first step (naming the seller) are checked and photographed too.

"Two buyers complete a group buy and both are charged" is test_storefront.py's journey already."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.e2e.test_console import Visit, axe, base_url, world  # noqa: F401 (the module's fixtures)
from tests.e2e.test_console_pages import follow, signed_in_at
from tests.e2e.test_console_peak import _buy
from tests.world import T0, World

pytestmark = pytest.mark.slow  # a server and a browser: seconds
LOCAL = "%Y-%m-%dT%H:%M"  # what a datetime-local input is filled with


def _fill_flash_sale(page: Any, world: World, per_buyer_limit: str) -> None:  # noqa: F811
    page.get_by_label("SKU", exact=True).select_option(world.ids["seller_a_red"])
    page.get_by_label("Market", exact=True).select_option("lazada-sg")
    page.get_by_label("Sale price of one unit", exact=True).fill("9.90")
    page.get_by_label("Units for the sale", exact=True).fill("5")
    page.get_by_label("Most units a buyer may hold", exact=True).fill(per_buyer_limit)
    page.get_by_label("Starts (UTC)", exact=True).fill(T0.strftime(LOCAL))  # open now: the server's clock
    page.get_by_label("Ends (UTC)", exact=True).fill((T0 + dt.timedelta(hours=2)).strftime(LOCAL))


def test_a_seller_creates_a_flash_sale_and_watches_its_board(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    visit = signed_in_at(browser, base_url, "seller-a", "Peak days")
    page = visit.page
    visit.check("peak-seller", axe)  # the lists with the new-campaign buttons
    follow(page.get_by_role("main").get_by_role("link", name="New flash sale"))
    assert page.get_by_role("heading", name="New flash sale", level=1).is_visible()
    markets = page.get_by_label("Market", exact=True).locator("option").all_inner_texts()
    assert "lazada-sg · SGD · UTC+08:00 now (Asia/Singapore)" in markets
    visit.check("peak-new-flash-sale", axe)

    _fill_flash_sale(page, world, per_buyer_limit="6")  # more than the sale's stock
    follow(page.get_by_role("button", name="Create the flash sale"))
    assert "1 up to the sale's stock" in page.locator("#f-per_buyer_limit-error-1").inner_text()
    assert page.get_by_label("Sale price of one unit", exact=True).input_value() == "9.90"  # kept, to mend
    visit.check("peak-new-flash-sale-refused", axe)

    page.get_by_label("Most units a buyer may hold", exact=True).fill("2")
    follow(page.get_by_role("button", name="Create the flash sale"))
    sale = re.fullmatch(rf"{re.escape(base_url)}/peak/flash/(fls_\w+)\?done=created", page.url)
    assert sale, page.url
    assert page.get_by_role("status").filter(has_text="Flash sale created").is_visible()
    sold, available = page.locator('[data-live="sold"]'), page.locator('[data-live="available"]')
    expect(page.locator("[data-live-status]")).to_have_text("Updating live.")
    expect(sold).to_have_text("0")
    expect(available).to_have_text("5")
    _buy(base_url, world, sale.group(1), "buyer_a", 2)
    expect(sold).to_have_text("2")  # no reload: the figures came by the board's event stream
    _buy(base_url, world, sale.group(1), "buyer_b", 1)
    expect(sold).to_have_text("3")
    expect(available).to_have_text("2")
    visit.check("peak-new-flash-sale-board", axe)

    follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Peak days"))
    sales = page.get_by_role("table", name="Flash sales, newest first")
    assert sales.get_by_role("link", name=sale.group(1)).is_visible()
    follow(page.get_by_role("main").get_by_role("link", name="New group buy"))
    assert page.get_by_role("heading", name="New group buy", level=1).is_visible()
    visit.check("peak-new-group-buy", axe)
    visit.done()


def test_an_operator_names_the_seller_before_the_form(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, base_url, "ops", "Peak days")
    page = visit.page
    follow(page.get_by_role("main").get_by_role("link", name="New flash sale"))
    page.get_by_label("Seller", exact=True).fill("sel_nobody")
    follow(page.get_by_role("button", name="Continue"))
    assert "no seller sel_nobody" in page.locator("#f-seller-error-1").inner_text()
    visit.check("peak-new-seller-refused", axe)
    page.get_by_label("Seller", exact=True).fill(world.ids["seller_a"])
    follow(page.get_by_role("button", name="Continue"))
    skus = page.get_by_label("SKU", exact=True).locator("option").evaluate_all("os => os.map(o => o.value)")
    assert skus == [world.ids["seller_a_red"], world.ids["seller_a_blue"]]
    visit.done()
