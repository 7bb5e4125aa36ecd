"""The console's reference pages in a real browser (as test_console.py, whose world, server, axe-core
check and screenshots they share): the organisation on either side of the 1 Oct 2021 reorganisation,
markets and FX, sellers and the catalog, inventory, and the operator's API keys and users."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_console import Visit, axe, base_url, world  # noqa: F401 (the module's fixtures)
from tests.world import World

pytestmark = pytest.mark.slow  # a server and a browser: seconds


def follow(target: Any) -> None:
    """Click a link or a button and wait for the page it leads to."""
    target.click()
    target.page.wait_for_load_state()


def signed_in_at(browser: Any, url: str, username: str, link: str) -> Visit:
    """A browser signed in as `username` that has followed the main navigation's `link`."""
    visit = Visit(browser, url)
    visit.sign_in(username)
    follow(visit.page.get_by_role("navigation", name="Main").get_by_role("link", name=link))
    return visit


def _parent_in_tree(page: Any, code: str) -> str:
    """The code of the unit whose list holds `code` in the organisation's tree."""
    parent: str = page.locator(f'.tree li[data-code="{code}"]').evaluate(
        "li => li.parentElement.closest('li[data-code]').dataset.code"
    )
    return parent


def test_an_operator_sees_lazada_move_on_1_october_2021(base_url: str, browser: Any, axe: Any) -> None:  # noqa: F811
    visit = signed_in_at(browser, base_url, "ops", "Organisation")
    page = visit.page
    assert page.get_by_label("On", exact=True).input_value() == "2025-11-11"  # today in China
    page.get_by_label("On", exact=True).fill("2021-09-30")
    follow(page.get_by_role("button", name="Show"))
    assert page.get_by_role("heading", name="As it stood on 2021-09-30").is_visible()
    assert _parent_in_tree(page, "lazada") == "commerce"
    visit.check("organisation-2021-09-30", axe)
    page.get_by_label("On", exact=True).fill("2021-10-01")
    follow(page.get_by_role("button", name="Show"))
    assert _parent_in_tree(page, "lazada") == "international-commerce-division"
    assert page.locator('.tree li[data-code="lazada"]').get_by_text("moved here this day").is_visible()
    moves = page.get_by_role("table", name="Moves, newest first")
    assert moves.get_by_role("row").filter(has_text="lazada").get_by_text("commerce", exact=True).is_visible()
    visit.check("organisation-2021-10-01", axe)
    visit.done()


def test_markets_and_fx_rates_on_a_day(base_url: str, browser: Any, axe: Any) -> None:  # noqa: F811
    visit = signed_in_at(browser, base_url, "ops", "Markets")
    page = visit.page
    markets = page.get_by_role("table", name="Markets with their currency, locale and time zone")
    assert markets.get_by_role("row").filter(has_text="lazada-sg").get_by_text("Asia/Singapore").is_visible()
    rates = page.get_by_role("table", name="US dollar rates on 2025-11-11")
    assert rates.get_by_role("row").filter(has_text="SGD").get_by_text("ECB/ECB").is_visible()
    assert page.get_by_role("table", name="Newest rate per currency").is_visible()
    visit.check("markets", axe)
    visit.done()


def test_an_operator_finds_a_seller_and_opens_a_product(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, base_url, "ops", "Sellers")
    page = visit.page
    page.get_by_label("Name contains", exact=True).fill("seller_a")
    follow(page.get_by_role("button", name="Apply"))
    sellers = page.get_by_role("table", name="Sellers, in the order they joined")
    assert sellers.get_by_role("link").all_inner_texts() == ["seller_a"]
    visit.check("sellers", axe)
    follow(sellers.get_by_role("link", name="seller_a"))
    assert page.get_by_role("heading", name="seller_a", level=1).is_visible()
    assert page.get_by_role("table", name="Commission rates by marketplace and category").is_visible()
    visit.check("seller", axe)
    follow(page.get_by_role("link", name="Phone case"))
    stock = page.get_by_role("table", name="Stock of seller_a-red per warehouse")
    assert stock.get_by_role("row").filter(has_text="sg-tuas").is_visible()
    prices = page.get_by_role("table", name="Prices of seller_a-red per market")
    assert prices.get_by_role("row").filter(has_text="lazada-sg").get_by_text("19.90 SGD").is_visible()
    visit.check("product", axe)
    visit.done()


def test_a_seller_opens_its_own_catalog_and_not_the_sellers_list(
    base_url: str,  # noqa: F811
    browser: Any,
    world: World,  # noqa: F811
) -> None:
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("seller-a")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Sellers").count() == 0
    follow(nav.get_by_role("link", name="Catalog"))
    assert page.url == f"{base_url}/sellers/{world.ids['seller_a']}"
    assert visit.goto("/sellers").status == 403
    assert visit.goto(f"/sellers/{world.ids['seller_b']}").status == 404
    visit.done()


def test_an_operator_reads_stock_low_stock_and_reservations(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, base_url, "ops", "Inventory")
    page = visit.page
    page.get_by_label("Warehouse", exact=True).select_option("sg-tuas")
    follow(page.get_by_role("button", name="Apply"))
    stock = page.get_by_role("table", name="Stock by warehouse")
    assert stock.get_by_role("row").filter(has_text="seller_a-red").is_visible()
    assert stock.get_by_role("row").filter(has_text="cn-hangzhou").count() == 0
    visit.check("inventory", axe)
    views = page.get_by_role("navigation", name="Inventory views")
    follow(views.get_by_role("link", name="Low stock"))
    assert page.get_by_label("Warehouse", exact=True).input_value() == "sg-tuas"  # the view keeps it
    follow(page.get_by_role("search", name="Filter stock").get_by_role("link", name="Clear"))
    low = page.get_by_role("table", name="Stock lines with at most 5 available")
    assert low.get_by_role("row").filter(has_text="seller_a-blue").is_visible()  # 3 in cn-hangzhou, 1 held
    visit.check("inventory-low", axe)
    follow(views.get_by_role("link", name="Reservations"))
    held = page.get_by_role("table", name="Reservations holding stock, oldest first")
    assert held.get_by_role("link", name=world.ids["order_unpaid"]).is_visible()
    visit.check("inventory-reservations", axe)
    visit.done()


def test_an_operator_makes_and_revokes_a_key_and_manages_users(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("ops")
    nav = page.get_by_role("navigation", name="Main")
    follow(nav.get_by_role("link", name="API keys"))
    assert page.get_by_role("table", name="API keys, newest first").is_visible()
    visit.check("api-keys", axe)
    follow(page.get_by_role("link", name="New API key…"))
    page.get_by_label("Name", exact=True).fill("nightly export")
    page.get_by_label("Role", exact=True).select_option("seller")
    follow(page.get_by_role("button", name="Make the key"))
    assert "required for seller keys only" in page.locator("#f-seller-error-1").inner_text()
    visit.check("api-key-refused", axe)
    page.get_by_label("Seller (seller role only)", exact=True).fill(world.ids["seller_a"])
    follow(page.get_by_role("button", name="Make the key"))
    secret = page.get_by_label("The key", exact=True).input_value()
    assert secret.startswith("ek_")
    visit.check("api-key-made", axe)
    follow(page.get_by_role("link", name="Back to the keys"))
    assert secret not in page.content()
    follow(page.get_by_role("link", name="Revoke nightly export", exact=False))
    visit.check("api-key-revoke", axe)
    follow(page.get_by_role("button", name="Revoke nightly export"))
    assert "no longer works" in page.get_by_role("status").inner_text()

    follow(nav.get_by_role("link", name="Users"))
    follow(page.get_by_role("link", name="New user…"))
    page.get_by_label("User name", exact=True).fill("analyst")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Role", exact=True).select_option("operator")
    follow(page.get_by_role("button", name="Make the user"))
    assert page.locator("#f-password-error-1").is_visible()
    visit.check("user-refused", axe)
    page.get_by_label("Password", exact=True).fill("long enough pass")
    follow(page.get_by_role("button", name="Make the user"))
    assert page.get_by_role("status").inner_text() == "Made the user analyst."
    visit.check("users", axe)
    follow(page.get_by_role("link", name="New password for analyst"))
    visit.check("user-password", axe)
    page.get_by_label("New password", exact=True).fill("another long pass")
    follow(page.get_by_role("button", name="Set the password"))
    assert "new password" in page.get_by_role("status").inner_text()
    visit.done()
