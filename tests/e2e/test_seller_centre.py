"""The seller centre's catalog in a real browser (as test_console.py, whose world, server, axe-core check
and screenshots under test-artifacts/console/ it shares): a seller imports a catalog CSV with one bad
row, sees that row's error with nothing imported, mends it, imports, and sees its new products; then
sets a price and the stock of a SKU from the product page, a wrong price shown beside its form first."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.api.app import create_app
from entrepot.catalog.domain import CSV_COLUMNS
from tests.e2e.test_console import Visit, axe, base_url, world  # noqa: F401 (the module's fixtures)
from tests.e2e.test_console_pages import follow
from tests.world import World

pytestmark = pytest.mark.slow  # a server and a browser: seconds

HEADER = ",".join(CSV_COLUMNS)
LAMP = "lamp-1,Desk lamp,home,940520,CN,lamp-1-black,900,300,200,150,lazada-sg,39.90,SGD"
FAN = "fan-1,Desk fan,home,841451,CN,fan-1-white,{weight},300,200,150,lazada-sg,29.90,SGD"


def _file(*rows: str) -> dict[str, Any]:
    """A CSV as the file chooser gives it to the page."""
    text = "\n".join([HEADER, *rows]) + "\n"
    return {"name": "catalog.csv", "mimeType": "text/csv", "buffer": text.encode()}


def _product_refs(of: World) -> list[str]:
    api = TestClient(create_app(of.settings(), of.db))
    answer = api.get("/api/v1/products", params={"limit": 100}, headers=of.auth("seller_a"))
    return sorted(p["ref"] for p in answer.json()["items"])


def test_a_seller_imports_a_catalog_after_mending_its_bad_row(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("seller-a")
    follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog"))
    follow(page.get_by_role("link", name="Import CSV"))
    assert page.get_by_role("heading", name="Import a catalog CSV", level=1).is_visible()
    assert page.get_by_role("link", name="Download a template CSV").is_visible()
    visit.check("seller-import", axe)
    before = _product_refs(world)

    # past the application's body limit (1 MB), which would answer a bare 413: the page's script says
    # why in place before sending
    chooser = page.get_by_label("Catalog CSV for seller_a")
    chooser.set_input_files({"name": "huge.csv", "mimeType": "text/csv", "buffer": b"x" * 1_200_000})
    page.get_by_role("button", name="Import").click()
    too_large = page.locator("#f-file-error-size")
    too_large.wait_for()
    assert "the file is larger than 488 KB: split it, or use the API" in too_large.inner_text()
    assert chooser.get_attribute("aria-invalid") == "true"
    assert page.url.endswith("/catalog/import")

    page.get_by_label("Catalog CSV for seller_a").set_input_files(_file(LAMP, FAN.format(weight="heavy")))
    follow(page.get_by_role("button", name="Import"))
    assert (
        page.get_by_role("alert").get_by_text("1 of 2 rows are invalid; nothing was imported.").is_visible()
    )
    refused = page.get_by_role("table", name="Rows refused, by line of the file (line 1 is the header)")
    row = refused.get_by_role("row").filter(has_text="weight_g")
    assert row.get_by_role("cell").all_inner_texts() == ["3", "weight_g", "'heavy' is not a whole number"]
    assert _product_refs(world) == before  # not even the good row
    visit.check("seller-import-refused", axe)

    page.get_by_label("Catalog CSV for seller_a").set_input_files(_file(LAMP, FAN.format(weight="1200")))
    follow(page.get_by_role("button", name="Import"))
    assert page.get_by_role("status").get_by_text("Imported 2 rows").is_visible()
    counts = page.get_by_role("table", name="What the import created and set")
    assert (
        counts.get_by_role("row").filter(has_text="Products created").get_by_role("cell").inner_text() == "2"
    )
    visit.check("seller-import-done", axe)
    assert _product_refs(world) == sorted([*before, "fan-1", "lamp-1"])

    follow(page.get_by_role("link", name="See the catalog's products"))
    products = page.get_by_role("table", name="Products of seller_a")
    assert products.get_by_role("link", name="Desk lamp").is_visible()
    assert products.get_by_role("link", name="Desk fan").is_visible()
    visit.done()


def test_a_seller_sets_a_price_and_stock_on_the_product_page(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    visit = Visit(browser, base_url)
    page = visit.page
    visit.sign_in("seller-a")
    visit.goto(f"/products/{world.ids['seller_a_product']}")
    price = page.get_by_label("New price of seller_a-blue in taobao-cn (CNY)")
    price.fill("69.001")
    follow(page.get_by_role("button", name="Set the price of seller_a-blue in taobao-cn"))
    assert (
        page.get_by_label("New price of seller_a-blue in taobao-cn (CNY)").get_attribute("aria-invalid")
        == "true"
    )
    assert "CNY allows at most 2 decimal places" in page.locator(".error").inner_text()
    visit.check("product-price-refused", axe)

    page.get_by_label("New price of seller_a-blue in taobao-cn (CNY)").fill("72.50")
    follow(page.get_by_role("button", name="Set the price of seller_a-blue in taobao-cn"))
    assert page.get_by_role("status").inner_text() == "Price of seller_a-blue in taobao-cn set."
    prices = page.get_by_role("table", name="Prices of seller_a-blue per market")
    assert prices.get_by_role("row").filter(has_text="taobao-cn").get_by_text("72.50 CNY").is_visible()

    form = page.get_by_role("form", name="Set the stock of seller_a-blue")
    form.get_by_label("Warehouse").select_option("sg-changi")
    form.get_by_label("Units on hand of seller_a-blue").fill("40")
    follow(form.get_by_role("button", name="Set stock of seller_a-blue"))
    assert page.get_by_role("status").inner_text() == "Stock of seller_a-blue in sg-changi set."
    stock = page.get_by_role("table", name="Stock of seller_a-blue per warehouse")
    assert (
        stock.get_by_role("row").filter(has_text="sg-changi").get_by_role("cell").nth(2).inner_text() == "40"
    )
    visit.check("product-forms", axe)
    visit.done()
