"""The seller centre's catalog forms (web/catalog_import.py, web/seller_catalog.py), server-rendered on
both databases: the CSV import (all or nothing, each bad row's line, column and problem shown in place,
a size limit, a template to start from), and a SKU's price per market and stock per warehouse from the
product page. Each answers every role as the API's route does, refuses a form without its CSRF token,
and changes nothing when it refuses."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.catalog.domain import CSV_COLUMNS, STOCK_COLUMNS
from entrepot.catalog.models import Price, Product, Sku
from entrepot.inventory.models import Stock
from tests.api.helpers import API, place_ok, stock
from tests.web.conftest import console_as, csrf_of
from tests.world import World

HEADER = ",".join(CSV_COLUMNS)
LAMP_SG = "lamp-1,Desk lamp,home,940520,CN,lamp-1-black,900,300,200,150,lazada-sg,39.90,SGD"
LAMP_CN = "lamp-1,Desk lamp,home,940520,CN,lamp-1-black,900,300,200,150,taobao-cn,129.00,CNY"
FAN_BAD_WEIGHT = "fan-1,Desk fan,home,841451,CN,fan-1-white,heavy,300,200,150,lazada-sg,29.90,SGD"
FAN_GOOD = "fan-1,Desk fan,home,841451,CN,fan-1-white,1200,300,200,150,lazada-sg,29.90,SGD"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _counts(world: World) -> dict[str, int]:
    """Rows in the tables an import writes: the same before and after a refused file."""
    with world.db.transaction() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Product, Sku, Price, Stock)
        }


def _upload(console: TestClient, content: bytes, seller: str = "", csrf: str | None = None) -> httpx.Response:
    """Send the import form as a browser does (multipart, the page's CSRF token unless given)."""
    form_page = console.get("/catalog/import", params={"seller": seller} if seller else None)
    token = csrf_of(form_page) if csrf is None else csrf
    data = {"csrf": token, **({"seller": seller} if seller else {})}
    response: httpx.Response = console.post(
        "/catalog/import",
        data=data,
        files={"file": ("catalog.csv", content, "text/csv")},
        follow_redirects=False,
    )
    return response


def _report_rows(page: str) -> list[tuple[str, str, str]]:
    """(line, column, problem) of the refused rows' table."""
    table = page[page.index('aria-label="Rows refused') :]
    table = table[: table.index("</table>")]
    found = re.findall(
        r'<tr><td class="num">(\d+)</td><td class="mono">([^<]+)</td>'
        r'<td class="prose">([^<]+)</td></tr>',
        table,
    )
    return [(line, column, message) for line, column, message in found]


# --- the CSV import --------------------------------------------------------------------------------------


def test_a_file_with_a_bad_row_imports_nothing_and_says_which_row(
    world: World, people: dict[str, str]
) -> None:
    console = console_as(world, "seller-a")
    before = _counts(world)
    page = _upload(console, _csv(LAMP_SG, FAN_BAD_WEIGHT, LAMP_CN))
    assert page.status_code == 422  # as the API's all-or-nothing answer
    assert "1 of 3 rows are invalid; nothing was imported." in page.text
    assert _report_rows(page.text) == [("3", "weight_g", "&#39;heavy&#39; is not a whole number")]
    assert _counts(world) == before
    assert 'id="f-file"' in page.text  # the form again, to send the mended file


def test_a_good_file_imports_and_counts_what_it_created(world: World, people: dict[str, str]) -> None:
    console = console_as(world, "seller-a")
    before = _counts(world)
    with_stock = ",".join(["stock", "warehouse"])
    rows = (f"{LAMP_SG},12,sg-tuas", f"{LAMP_CN},,", f"{FAN_GOOD},,")
    page = _upload(console, _csv(*rows, header=f"{HEADER},{with_stock}"))
    assert page.status_code == 200, page.text
    assert "Imported 3 rows" in page.text
    counted = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', page.text))
    assert counted == {
        "Rows read": "3",
        "Products created": "2",
        "SKUs created": "2",
        "Prices set (new or updated)": "3",
        "Stock levels set": "1",
    }
    after = _counts(world)
    assert {k: after[k] - before[k] for k in after} == {"Product": 2, "Sku": 2, "Price": 3, "Stock": 1}
    catalog_page = console.get(f"/sellers/{world.ids['seller_a']}").text
    assert "Desk lamp" in catalog_page and "Desk fan" in catalog_page
    assert 'href="/catalog/import"' in catalog_page  # the seller's catalog links to the import


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"product_ref,title\nx,y\n", "expected columns: product_ref"),
        (_csv(LAMP_SG).replace(b"Desk", b"D\xe9sk"), "not UTF-8"),
        (_csv(LAMP_SG.replace("Desk lamp", "Desk\x07lamp")), "line 2.title"),
    ],
    ids=["empty", "missing-columns", "not-utf8", "control-character"],
)
def test_a_file_refused_whole_says_why_beside_the_file_input(
    world: World, people: dict[str, str], content: bytes, message: str
) -> None:
    console = console_as(world, "seller-a")
    before = _counts(world)
    page = _upload(console, content)
    assert page.status_code == 422
    errors = re.findall(r'<p class="error" id="f-file-error-\d+">.*?</p>', page.text)
    assert errors and message in errors[0], page.text
    assert 'aria-invalid="true"' in page.text
    assert _counts(world) == before


def test_a_row_that_conflicts_with_the_catalog_refuses_the_whole_file(
    world: World, people: dict[str, str]
) -> None:
    """seller_a-red belongs to the product seller_a-phone: a row putting it under another product is a
    conflict the service finds while writing, so the file's transaction is rolled back, good rows too."""
    console = console_as(world, "seller-a")
    before = _counts(world)
    moved = "case-2,Other case,electronics,392690,CN,seller_a-red,120,160,80,15,lazada-sg,9.90,SGD"
    page = _upload(console, _csv(LAMP_SG, moved))
    assert page.status_code == 409
    error = re.search(r'<p class="error" id="f-file-error-1">(.*?)</p>', page.text)
    assert error and "line 3: SKU seller_a-red belongs to another product" in error.group(1)
    assert _counts(world) == before


def test_a_file_over_the_size_limit_is_a_field_error(
    world: World, people: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("entrepot.web.catalog_import.IMPORT_MAX_BYTES", 1024)
    console = console_as(world, "seller-a")
    before = _counts(world)
    content = _csv(*[LAMP_SG.replace("lamp-1", f"lamp-{i}") for i in range(20)])
    assert len(content) > 1024
    page = _upload(console, content)
    assert page.status_code == 422
    assert re.search(r'id="f-file-error-1">.*the file is larger than 1 KB', page.text)
    assert "at most 1 KB" in page.text  # the hint says the limit before anyone hits it
    assert _counts(world) == before
    assert _upload(console, _csv(LAMP_SG)).status_code == 200  # under the limit: imported


def test_the_template_has_the_columns_the_import_expects_and_imports_as_it_is(
    world: World, people: dict[str, str]
) -> None:
    console = console_as(world, "seller-a")
    template = console.get("/catalog/import/template.csv")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    assert "attachment" in template.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(template.text)))
    assert rows[0] == [*CSV_COLUMNS, *STOCK_COLUMNS]
    example = dict(zip(rows[0], rows[1], strict=True))
    assert (example["market"], example["currency"], example["price"]) == ("lazada-sg", "SGD", "12.90")
    assert example["warehouse"] in ("sg-tuas", "sg-changi")  # in the seller's country (SG)
    assert _upload(console, template.content).status_code == 200
    assert "Example product" in console.get(f"/sellers/{world.ids['seller_a']}").text


def test_the_import_answers_each_role_as_the_api(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    other = world.ids["seller_b"]
    as_api = api.post(
        f"{API}/catalog/import",
        params={"seller": other},
        content=_csv(LAMP_SG),
        headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
    )
    before = _counts(world)
    seller = console_as(world, "seller-a")
    assert seller.get("/catalog/import", params={"seller": other}).status_code == as_api.status_code == 403
    token = csrf_of(seller.get("/catalog/import"))
    refused = _upload(seller, _csv(LAMP_SG), seller=world.ids["seller_b"], csrf=token)
    assert refused.status_code == 403
    buyer = console_as(world, "buyer-a")
    buyer_api = api.post(
        f"{API}/catalog/import",
        content=_csv(LAMP_SG),
        headers={**world.auth("buyer_a"), "Content-Type": "text/csv"},
    )
    assert buyer.get("/catalog/import").status_code == buyer_api.status_code == 403
    assert console_as(world, "courier").get("/catalog/import").status_code == 403
    assert _counts(world) == before
    # an operator imports for the seller it names (from the seller's page), and only with one named
    ops = console_as(world, "ops")
    assert ops.get("/catalog/import", follow_redirects=False).headers["location"] == "/sellers"
    assert f'href="/catalog/import?seller={other}"' in ops.get(f"/sellers/{other}").text
    assert _upload(ops, _csv(LAMP_SG), seller=other).status_code == 200
    b_page = ops.get(f"/sellers/{other}").text
    assert "Desk lamp" in b_page and "Desk lamp" not in ops.get(f"/sellers/{world.ids['seller_a']}").text


def test_an_import_form_without_its_csrf_token_is_refused(world: World, people: dict[str, str]) -> None:
    console = console_as(world, "seller-a")
    before = _counts(world)
    for token in ("", "not-the-token"):
        assert _upload(console, _csv(LAMP_SG), csrf=token).status_code == 403
    bare = console.post("/catalog/import", files={"file": ("catalog.csv", _csv(LAMP_SG), "text/csv")})
    assert bare.status_code == 403
    assert _counts(world) == before


# --- prices and stock on the product page -----------------------------------------------------------------


def _product_form(console: TestClient, world: World, product: str = "seller_a_product") -> str:
    return csrf_of(console.get(f"/products/{world.ids[product]}"))


def _set_price(
    console: TestClient,
    world: World,
    amount: str,
    sku: str = "seller_a_red",
    market: str = "lazada-sg",
    **form: str,
) -> httpx.Response:
    data = {"csrf": _product_form(console, world), "sku": world.ids[sku], "market": market, "amount": amount}
    response: httpx.Response = console.post(
        f"/products/{world.ids['seller_a_product']}/prices", data={**data, **form}, follow_redirects=False
    )
    return response


def _price_of(world: World, api: TestClient, sku: str, market: str) -> int | None:
    listed = api.get(f"{API}/markets/{market}/skus", headers=world.auth("buyer_a"), params={"limit": 100})
    found = [s["price_minor"] for s in listed.json()["items"] if s["id"] == world.ids[sku]]
    return found[0] if found else None


def test_a_seller_sets_a_price_per_sku_and_market(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    console = console_as(world, "seller-a")
    page = console.get(f"/products/{world.ids['seller_a_product']}").text
    red = world.ids["seller_a_red"]
    assert (
        f'<label for="price-{red}-lazada-sg" class="visually-hidden">'
        "New price of seller_a-red in lazada-sg (SGD)" in page
    )
    assert f'id="price-{red}-lazada-sg" name="amount" inputmode="decimal" size="10" value="19.90"' in page
    done = _set_price(console, world, "21.50")
    assert done.status_code == 303
    assert _price_of(world, api, "seller_a_red", "lazada-sg") == 2150
    shown = console.get(done.headers["location"]).text
    assert "Price of seller_a-red in lazada-sg set." in shown
    assert re.search(r"lazada-sg</td><td class=\"num\">21.50 SGD", shown)
    assert _price_of(world, api, "seller_a_red", "taobao-cn") == 6900  # the other market untouched
    trail = api.get(f"{API}/audit", params={"action": "price."}, headers=world.auth("operator")).json()
    mine = [
        e for e in trail["items"] if e["subject"] == f"{red}@lazada-sg" and e["after"]["amount_minor"] == 2150
    ]
    assert [(e["actor"]["role"], e["actor"]["seller"], e["before"]["amount_minor"]) for e in mine] == [
        ("seller", world.ids["seller_a"], 1990)  # recorded as the console's seller, as the API would be
    ]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "SGD allows at most 2 decimal places"),
        ("0", "must be positive"),
        ("cheap", "is not a number"),
    ],
)
def test_a_bad_price_is_shown_beside_its_form_and_changes_nothing(
    world: World, people: dict[str, str], api: TestClient, amount: str, message: str
) -> None:
    console = console_as(world, "seller-a")
    refused = _set_price(console, world, amount)
    assert refused.status_code == 422
    field = f"price-{world.ids['seller_a_red']}-lazada-sg"
    error = re.search(rf'<p class="error" id="{field}-error-1">(.*?)</p>', refused.text)
    assert error and message in error.group(1)
    assert re.search(
        rf'id="{field}" name="amount"[^>]*value="{re.escape(amount)}" aria-invalid="true"', refused.text
    )
    assert refused.text.count('class="error"') == 1  # only beside the form that was sent
    assert _price_of(world, api, "seller_a_red", "lazada-sg") == 1990


def test_prices_answer_each_role_as_the_api(world: World, people: dict[str, str], api: TestClient) -> None:
    red, product = world.ids["seller_a_red"], world.ids["seller_a_product"]
    body = {"amount_minor": 100, "currency": "SGD"}
    for name, key in (("seller-b", "seller_b"), ("buyer-a", "buyer_a")):
        expected = api.put(
            f"{API}/skus/{red}/prices/lazada-sg", json=body, headers=world.auth(key)
        ).status_code
        console = console_as(world, name)
        data = {"csrf": csrf_of(console.get("/orders")), "sku": red, "market": "lazada-sg", "amount": "1.00"}
        assert console.post(f"/products/{product}/prices", data=data).status_code == expected, name
    assert expected == 403  # the buyer's, last
    # seller_b through its own product's form with seller_a's SKU: not found, as the API
    seller_b = console_as(world, "seller-b")
    token = _product_form(seller_b, world, "seller_b_product")
    data = {"csrf": token, "sku": red, "market": "lazada-sg", "amount": "1.00"}
    assert seller_b.post(f"/products/{world.ids['seller_b_product']}/prices", data=data).status_code == 404
    # a SKU of another product of the same seller is not this product's: not found
    ops = console_as(world, "ops")
    data = {"csrf": csrf_of(ops.get(f"/products/{product}")), "sku": world.ids["seller_b_red"]}
    assert (
        ops.post(
            f"/products/{product}/prices", data={**data, "market": "lazada-sg", "amount": "1.00"}
        ).status_code
        == 404
    )
    assert _price_of(world, api, "seller_a_red", "lazada-sg") == 1990
    # an operator may set any seller's price, as the API lets it
    assert _set_price(ops, world, "18.00").status_code == 303
    assert _price_of(world, api, "seller_a_red", "lazada-sg") == 1800


def test_price_and_stock_forms_without_their_csrf_token_are_refused(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    console = console_as(world, "seller-a")
    product, red = world.ids["seller_a_product"], world.ids["seller_a_red"]
    for token in ("", "forged"):
        assert _set_price(console, world, "5.00", csrf=token).status_code == 403
        stock_form = {"csrf": token, "sku": red, "warehouse": "sg-tuas", "on_hand": "99"}
        assert console.post(f"/products/{product}/stock", data=stock_form).status_code == 403
    assert (
        console.post(
            f"/products/{product}/prices", data={"sku": red, "market": "lazada-sg", "amount": "5"}
        ).status_code
        == 403
    )
    assert _price_of(world, api, "seller_a_red", "lazada-sg") == 1990
    assert stock(api, world, "seller_a_red")["sg-tuas"] == (10, 0)


def _set_stock(
    console: TestClient, world: World, warehouse: str, on_hand: str, sku: str = "seller_a_red"
) -> httpx.Response:
    data = {
        "csrf": _product_form(console, world),
        "sku": world.ids[sku],
        "warehouse": warehouse,
        "on_hand": on_hand,
    }
    response: httpx.Response = console.post(
        f"/products/{world.ids['seller_a_product']}/stock", data=data, follow_redirects=False
    )
    return response


def test_a_seller_sets_stock_per_sku_and_warehouse(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    console = console_as(world, "seller-a")
    done = _set_stock(console, world, "sg-changi", "42")
    assert done.status_code == 303
    assert stock(api, world, "seller_a_red")["sg-changi"] == (42, 0)
    shown = console.get(done.headers["location"]).text
    assert "Stock of seller_a-red in sg-changi set." in shown
    assert re.search(r"sg-changi</td><td>SG</td><td class=\"num\">42</td>", shown)


def test_stock_below_what_is_reserved_or_not_a_count_is_shown_in_place(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    place_ok(api, world, ("seller_a_red", 3))  # reserves 3 units
    held = {w: level for w, level in stock(api, world, "seller_a_red").items() if level[1]}
    warehouse, (on_hand, reserved) = next(iter(held.items()))
    console = console_as(world, "seller-a")
    field = f"stock-{world.ids['seller_a_red']}-on-hand"
    for typed, status, message in (
        (str(reserved - 1), 409, f"below the {reserved} units reserved"),
        ("many", 422, "a whole number of units"),
        ("-1", 422, "0 to 100,000,000"),  # the whole range, not the bound crossed
    ):
        refused = _set_stock(console, world, warehouse, typed)
        assert refused.status_code == status, typed
        error = re.search(rf'<p class="error" id="{field}-error-1">(.*?)</p>', refused.text)
        assert error and message in error.group(1), refused.text
        assert f'<option value="{warehouse}" selected>' in refused.text  # as it was chosen
    assert stock(api, world, "seller_a_red")[warehouse] == (on_hand, reserved)


def test_stock_answers_each_role_as_the_api(world: World, people: dict[str, str], api: TestClient) -> None:
    red, product = world.ids["seller_a_red"], world.ids["seller_a_product"]
    for name, key in (("seller-b", "seller_b"), ("buyer-a", "buyer_a")):
        expected = api.put(
            f"{API}/skus/{red}/stock/sg-tuas", json={"on_hand": 1}, headers=world.auth(key)
        ).status_code
        console = console_as(world, name)
        data = {"csrf": csrf_of(console.get("/orders")), "sku": red, "warehouse": "sg-tuas", "on_hand": "1"}
        assert console.post(f"/products/{product}/stock", data=data).status_code == expected, name
    assert stock(api, world, "seller_a_red")["sg-tuas"] == (10, 0)
    console = console_as(world, "seller-a")
    data = {"csrf": _product_form(console, world), "sku": red, "warehouse": "nowhere", "on_hand": "1"}
    expected = api.put(
        f"{API}/skus/{red}/stock/nowhere", json={"on_hand": 1}, headers=world.auth("seller_a")
    ).status_code
    assert console.post(f"/products/{product}/stock", data=data).status_code == expected == 404


def test_a_tampered_hidden_field_is_refused_before_any_lookup(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    """A control character in a hidden field (a SKU, a market, a warehouse, a seller) is the API's 422
    for a bad path or query, on both databases (PostgreSQL refuses a NUL byte in a query: an error)."""
    console = console_as(world, "seller-a")
    product = world.ids["seller_a_product"]
    token = _product_form(console, world)
    red = world.ids["seller_a_red"]
    for path, form in (
        ("prices", {"sku": red + "\x00", "market": "lazada-sg", "amount": "1.00"}),
        ("prices", {"sku": red, "market": "lazada-sg\x00", "amount": "1.00"}),
        ("stock", {"sku": red, "warehouse": "sg-tuas\x00", "on_hand": "1"}),
    ):
        refused = console.post(f"/products/{product}/{path}", data={"csrf": token, **form})
        assert refused.status_code == 422, (path, form, refused.text)
    ops = console_as(world, "ops")
    sent = _upload(ops, _csv(LAMP_SG), seller=world.ids["seller_b"])  # the form's token, then tampered
    assert sent.status_code == 200
    token = csrf_of(ops.get("/catalog/import", params={"seller": world.ids["seller_b"]}))
    tampered = ops.post(
        "/catalog/import",
        data={"csrf": token, "seller": world.ids["seller_b"] + "\x00"},
        files={"file": ("catalog.csv", _csv(LAMP_CN), "text/csv")},
    )
    assert tampered.status_code == 422
    assert _price_of(world, api, "seller_a_red", "lazada-sg") == 1990
    assert stock(api, world, "seller_a_red")["sg-tuas"] == (10, 0)
