"""New flash sales and group buys in the console (web/peak_forms.py), through the services the API's
POST /flash-sales and POST /group-buys call: a seller on its own SKUs only (another seller's SKU is
refused with the API's status and words), an operator for a seller it names, buyers and carriers 403;
no CSRF token, no campaign; bad input shows each field's error beside it and writes nothing."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.campaigns.flash.models import FlashSale
from entrepot.campaigns.group_buys.models import GroupBuy
from entrepot.inventory.models import Reservation
from tests.api.helpers import API
from tests.web.conftest import _stock, console_as, csrf_of
from tests.world import T0, World

LOCAL = "%Y-%m-%dT%H:%M"  # a datetime-local input's value


def _rows(world: World) -> list[int]:
    """Flash sales, group buys and stock reservations: what creating a campaign writes."""
    with world.db.transaction() as session:
        return [
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (FlashSale, GroupBuy, Reservation)
        ]


def _flash_form(world: World, owner: str = "seller_a", **overrides: str) -> dict[str, str]:
    return {
        "sku": world.ids[f"{owner}_red"],
        "market": "lazada-sg",
        "price": "9.90",
        "stock": "5",
        "per_buyer_limit": "2",
        "reservation_ttl_seconds": "600",
        "starts_at": (T0 + dt.timedelta(minutes=10)).strftime(LOCAL),
        "ends_at": (T0 + dt.timedelta(hours=2)).strftime(LOCAL),
        **overrides,
    }


def _group_form(world: World, owner: str = "seller_a", **overrides: str) -> dict[str, str]:
    return {
        "sku": world.ids[f"{owner}_red"],
        "market": "lazada-sg",
        "price": "12.90",
        "team_size": "2",
        "team_window_seconds": "3600",
        "stock": "4",
        "starts_at": T0.strftime(LOCAL),
        "ends_at": (T0 + dt.timedelta(days=1)).strftime(LOCAL),
        **overrides,
    }


def _post(console: TestClient, path: str, form: dict[str, str], csrf: bool = True) -> Any:
    token = {"csrf": csrf_of(console.get(path))} if csrf else {}
    return console.post(path, data={**token, **form}, follow_redirects=False)


def _errors(page: str, name: str) -> list[str]:
    """The errors shown beside a field (components.html's and peak_fields.html's markup)."""
    found = re.findall(
        rf'<p class="error" id="f-{name}-error-\d+"><span[^>]*>Error: </span>([^<]*)</p>', page
    )
    return [html.unescape(e) for e in found]


def _options(page: str, name: str) -> list[str]:
    select_ = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', page, re.S)
    assert select_, page
    return re.findall(r'<option value="([^"]*)"', select_.group(0))


def test_a_seller_creates_a_flash_sale_on_its_own_sku_and_lands_on_its_board(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    console = console_as(world, "seller-a")
    form = console.get("/peak/flash/new")
    assert form.status_code == 200
    assert _options(form.text, "sku") == [world.ids["seller_a_red"], world.ids["seller_a_blue"]]
    assert _options(form.text, "market") == ["lazada-sg", "taobao-cn"]
    assert "lazada-sg · SGD · UTC+08:00 now (Asia/Singapore)" in form.text  # the market's clock, stated
    assert 'type="datetime-local"' in form.text and "Starts (UTC)" in form.text
    made = _post(console, "/peak/flash/new", _flash_form(world))
    assert made.status_code == 303, made.text
    sale = re.fullmatch(r"/peak/flash/(fls_\w+)\?done=created", made.headers["location"])
    assert sale, made.headers["location"]
    read = api.get(f"{API}/flash-sales/{sale.group(1)}", headers=world.auth("seller_a")).json()
    assert {k: read[k] for k in ("sku", "market", "sale_price_minor", "stock", "per_buyer_limit")} == {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 5,
        "per_buyer_limit": 2,
    }
    assert dt.datetime.fromisoformat(read["starts_at"]) == T0 + dt.timedelta(minutes=10)  # typed in UTC
    [entry] = api.get(f"{API}/audit", params={"limit": 1}, headers=world.auth("operator")).json()["items"]
    assert (entry["action"], entry["subject"]) == ("flash_sale.created", sale.group(1))
    assert (
        entry["actor"]["role"] == "seller" and entry["actor"]["seller"] == world.ids["seller_a"]
    )  # who signed in
    board = console.get(made.headers["location"])
    assert board.status_code == 200 and "Flash sale created" in board.text
    assert f'data-live-source="/peak/flash/{sale.group(1)}/live"' in board.text


def test_another_sellers_sku_is_refused_as_the_api_refuses_it(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    _stock(world, "seller_b_red")
    before = _rows(world)
    page = _post(
        console_as(world, "seller-a"), "/peak/flash/new", _flash_form(world, sku=world.ids["seller_b_red"])
    )
    body = {
        "sku": world.ids["seller_b_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 5,
        "per_buyer_limit": 2,
        "starts_at": (T0 + dt.timedelta(minutes=10)).isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=2)).isoformat(),
    }
    answer = api.post(f"{API}/flash-sales", json=body, headers=world.auth("seller_a"))
    assert page.status_code == answer.status_code == 422
    assert _errors(page.text, "sku") == [e["message"] for e in answer.json()["errors"] if e["field"] == "sku"]
    assert _errors(page.text, "sku") == [f"no SKU {world.ids['seller_b_red']} of yours is sold in lazada-sg"]
    group = _post(console_as(world, "seller-a"), "/peak/group-buys/new", _group_form(world, "seller_b"))
    assert group.status_code == 422 and _errors(group.text, "sku")
    assert _rows(world) == before


@pytest.mark.parametrize("name", ["buyer-a", "courier"])
def test_buyers_and_carriers_may_not_create_campaigns(
    world: World, people: dict[str, str], name: str
) -> None:
    console = console_as(world, name)
    token = csrf_of(console.get("/", follow_redirects=True))  # the sign-out form's: a real session's token
    before = _rows(world)
    for path, form in (("/peak/flash/new", _flash_form(world)), ("/peak/group-buys/new", _group_form(world))):
        assert console.get(path).status_code == 403, path
        refused = console.post(path, data={"csrf": token, **form}, follow_redirects=False)
        assert refused.status_code == 403, (path, refused.text)
    assert _rows(world) == before


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    world: World, people: dict[str, str]
) -> None:
    console = console_as(world, "seller-a")
    before = _rows(world)
    for path, form in (("/peak/flash/new", _flash_form(world)), ("/peak/group-buys/new", _group_form(world))):
        for token in (None, "forged"):
            sent = form | ({"csrf": token} if token else {})
            refused = console.post(path, data=sent, follow_redirects=False)
            assert refused.status_code == 403 and "CSRF token" in refused.text, (path, token)
    assert _rows(world) == before


def test_bad_flash_sale_input_shows_each_fields_error_in_place_and_writes_nothing(
    world: World, people: dict[str, str]
) -> None:
    console = console_as(world, "seller-a")
    before = _rows(world)
    typed = _post(console, "/peak/flash/new", _flash_form(world, price="9.999", stock="five", ends_at=""))
    assert typed.status_code == 422
    assert _errors(typed.text, "price") == ["SGD allows at most 2 decimal places"]
    assert _errors(typed.text, "stock") == [
        "Input should be a valid integer, unable to parse string as an integer"
    ]
    assert _errors(typed.text, "ends_at") == ["Field required"]
    assert 'value="9.999"' in typed.text and 'value="five"' in typed.text  # kept as typed, to mend
    ruled = _post(
        console,
        "/peak/flash/new",
        _flash_form(world, per_buyer_limit="6", ends_at=(T0 + dt.timedelta(minutes=5)).strftime(LOCAL)),
    )
    assert ruled.status_code == 422  # the service's rules, as the API answers them
    assert _errors(ruled.text, "per_buyer_limit") == ["1 up to the sale's stock"]
    assert _errors(ruled.text, "ends_at") == ["must be after starts_at"]
    assert 'aria-invalid="true"' in ruled.text and "invalid flash sale" in ruled.text
    short = _post(console, "/peak/flash/new", _flash_form(world, stock="50"))
    assert short.status_code == 409 and "no warehouse holds 50 units" in short.text  # the summary
    tampered = _post(console, "/peak/flash/new", _flash_form(world, market="nowhere-xx"))
    assert tampered.status_code == 404 and "no market" in tampered.text
    controls = _post(console, "/peak/flash/new", _flash_form(world, market="lazada-sg\x00", sku="sku_\x00"))
    assert controls.status_code == 422  # refused by the API's schema, before any lookup
    assert _errors(controls.text, "market") and _errors(controls.text, "sku")
    assert _errors(controls.text, "price") == []  # typed, and read once the market is one
    hidden = _post(console, "/peak/flash/new", _flash_form(world, seller="sel_\x00"))
    assert hidden.status_code == 422
    assert _rows(world) == before


def test_a_group_buy_made_in_the_browser_and_its_refusals(world: World, people: dict[str, str]) -> None:
    console = console_as(world, "seller-a")
    before = _rows(world)
    bad = _post(console, "/peak/group-buys/new", _group_form(world, team_size="1", price="-1"))
    assert bad.status_code == 422
    assert _errors(bad.text, "team_size") == ["2 to 100"]
    (price,) = _errors(bad.text, "price")
    assert price == "0.00 up to 100000000.00 SGD, got -1"  # in the units typed
    assert _rows(world) == before
    made = _post(console, "/peak/group-buys/new", _group_form(world))
    assert made.status_code == 303, made.text
    assert re.fullmatch(r"/peak/group-buys/grp_\w+\?done=created", made.headers["location"])
    page = console.get(made.headers["location"])
    assert page.status_code == 200 and "Group buy created" in page.text and "12.90 SGD" in page.text
    assert _rows(world) == [before[0], before[1] + 1, before[2] + 1]


def test_an_operator_names_the_seller_first(world: World, people: dict[str, str], api: TestClient) -> None:
    console = console_as(world, "ops")
    first = console.get("/peak/flash/new")
    assert first.status_code == 200 and 'name="seller"' in first.text and 'name="sku"' not in first.text
    unknown = console.get("/peak/flash/new?seller=sel_nope")
    assert unknown.status_code == 404 and _errors(unknown.text, "seller") == ["no seller sel_nope"]
    seller_b = world.ids["seller_b"]
    form = console.get(f"/peak/flash/new?seller={seller_b}")
    assert _options(form.text, "sku") == [world.ids["seller_b_red"], world.ids["seller_b_blue"]]
    _stock(world, "seller_b_red")
    made = _post(
        console, f"/peak/flash/new?seller={seller_b}", _flash_form(world, "seller_b", seller=seller_b)
    )
    assert made.status_code == 303, made.text
    sale = made.headers["location"].split("/")[3].split("?")[0]
    assert console_as(world, "seller-b").get(f"/peak/flash/{sale}").status_code == 200  # seller_b's own
    assert console_as(world, "seller-a").get(f"/peak/flash/{sale}").status_code == 404


def test_the_peak_lists_offer_the_new_campaign_forms(world: World, people: dict[str, str]) -> None:
    for name in ("seller-a", "ops"):
        console = console_as(world, name)
        for path in ("/peak", "/peak/group-buys", "/peak/live"):
            page = console.get(path).text
            assert 'href="/peak/flash/new">New flash sale</a>' in page, (name, path)
            assert 'href="/peak/group-buys/new">New group buy</a>' in page, (name, path)


def test_a_seller_without_a_priced_sku_is_told_to_price_one_first(
    world: World, people: dict[str, str]
) -> None:
    from entrepot.catalog import service as catalog
    from entrepot.catalog.domain import ProductSpec, SkuSpec
    from entrepot.identity import users
    from tests.web.conftest import PASSWORD

    with world.db.transaction() as session:
        seller = catalog.create_seller(session, "seller_c", "SG", ["lazada"], world.clock())
        spec = ProductSpec("seller_c-mug", "Mug", "home", "691200", "SG")
        catalog.create_product(
            session, seller, spec, [SkuSpec("seller_c-mug", 300, 90, 90, 100)], world.clock()
        )
        users.create_user(
            session, "seller-c", PASSWORD, "seller", world.clock(), seller_public_id=seller.public_id
        )
    console = console_as(world, "seller-c")
    for path in ("/peak/flash/new", "/peak/group-buys/new"):
        page = console.get(path)
        assert page.status_code == 200 and "has a price in a market yet" in page.text, path
        assert 'name="sku"' not in page.text  # no form to fill
