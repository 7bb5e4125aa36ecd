"""The console's reference pages in a real browser (as test_console.py, whose world, server, axe-core
check and screenshots they share): the organisation on either side of the 1 Oct 2021 reorganisation,
markets and FX, sellers and the catalog, inventory, and the operator's API keys and users."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_console import Visit, axe, base_url, world  # noqa: F401 (the module's fixtures)

pytestmark = pytest.mark.slow  # a server and a browser: seconds


def _parent_in_tree(page: Any, code: str) -> str:
    """The code of the unit whose list holds `code` in the organisation's tree."""
    parent: str = page.locator(f'.tree li[data-code="{code}"]').evaluate(
        "li => li.parentElement.closest('li[data-code]').dataset.code"
    )
    return parent


def test_an_operator_sees_lazada_move_on_1_october_2021(base_url: str, browser: Any, axe: Any) -> None:  # noqa: F811
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("ops")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organisation").click()
    page.wait_for_load_state()
    assert page.get_by_label("On", exact=True).input_value() == "2025-11-11"  # today in China
    page.get_by_label("On", exact=True).fill("2021-09-30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="As it stood on 2021-09-30").is_visible()
    assert _parent_in_tree(page, "lazada") == "commerce"
    visit.check("organisation-2021-09-30", axe)
    page.get_by_label("On", exact=True).fill("2021-10-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert _parent_in_tree(page, "lazada") == "international-commerce-division"
    assert page.locator('.tree li[data-code="lazada"]').get_by_text("moved here this day").is_visible()
    moves = page.get_by_role("table", name="Moves, newest first")
    assert moves.get_by_role("row").filter(has_text="lazada").get_by_text("commerce", exact=True).is_visible()
    visit.check("organisation-2021-10-01", axe)
    visit.done()


def test_markets_and_fx_rates_on_a_day(base_url: str, browser: Any, axe: Any) -> None:  # noqa: F811
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("ops")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Markets").click()
    page.wait_for_load_state()
    markets = page.get_by_role("table", name="Markets with their currency, locale and time zone")
    assert markets.get_by_role("row").filter(has_text="lazada-sg").get_by_text("Asia/Singapore").is_visible()
    rates = page.get_by_role("table", name="US dollar rates on 2025-11-11")
    assert rates.get_by_role("row").filter(has_text="SGD").get_by_text("ECB/ECB").is_visible()
    assert page.get_by_role("table", name="Newest rate per currency").is_visible()
    visit.check("markets", axe)
    visit.done()
