"""Peak days in a real browser (as test_console.py, whose world, server, axe-core check and screenshots
they share): an operator watches a flash sale's board change while orders are placed through the API
(the figures arrive by server-sent events, static/live.js, under the page's CSP); a seller cannot open
another seller's sale; a POST to open a drop without the form's CSRF token is refused and changes
nothing, while the control room's confirmation opens it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from entrepot.identity import users
from tests.api.helpers import API, new_key
from tests.e2e.test_console import PASSWORD, Visit, axe, base_url, world  # noqa: F401 (the module's fixtures)
from tests.e2e.test_console_pages import follow, signed_in_at
from tests.web.conftest import _stock
from tests.world import T0, World

pytestmark = pytest.mark.slow  # a server and a browser: seconds


@pytest.fixture(scope="module")
def peak(world: World, base_url: str) -> dict[str, str]:  # noqa: F811
    """A running flash sale of each seller, seller_a live with a queued drop, and seller-b's user."""
    with world.db.transaction() as session:
        users.create_user(
            session, "seller-b", PASSWORD, "seller", world.clock(), seller_public_id=world.ids["seller_b"]
        )
    _stock(world, "seller_b_red")
    made: dict[str, str] = {}
    with httpx.Client(base_url=base_url + API, timeout=30) as api:
        for seller in ("seller_a", "seller_b"):
            body = {
                "sku": world.ids[f"{seller}_red"],
                "market": "lazada-sg",
                "sale_price_minor": 990,
                "stock": 6,
                "per_buyer_limit": 2,
                "starts_at": T0.isoformat(),
                "ends_at": (T0 + dt.timedelta(hours=2)).isoformat(),
            }
            sale = api.post("/flash-sales", json=body, headers=world.auth(seller))
            assert sale.status_code == 201, sale.text
            made[seller] = sale.json()["id"]
        group = {
            "sku": world.ids["seller_b_red"],
            "market": "lazada-sg",
            "team_price_minor": 1290,
            "team_size": 3,
            "team_window_seconds": 3600,
            "stock": 3,
            "starts_at": T0.isoformat(),
            "ends_at": (T0 + dt.timedelta(days=1)).isoformat(),
        }
        made["group_buy"] = api.post("/group-buys", json=group, headers=world.auth("seller_b")).json()["id"]
        team = api.post(
            f"/group-buys/{made['group_buy']}/teams",
            json={"payment_method": "card"},
            headers=world.auth("buyer_a"),
        )
        assert team.status_code == 201, team.text
        live = api.post(
            "/live-sessions",
            json={"market": "lazada-sg", "host": "Ana", "title": "Singles' Day phone cases"},
            headers=world.auth("seller_a"),
        ).json()
        drop = {"sku": world.ids["seller_a_red"], "sale_price_minor": 500, "stock": 2, "per_buyer_limit": 1}
        added = api.post(f"/live-sessions/{live['id']}/drops", json=drop, headers=world.auth("seller_a"))
        assert added.status_code == 201, added.text
    made["live"], made["drop"] = live["id"], added.json()["drops"][0]["id"]
    return made


def _buy(base_url: str, world: World, sale: str, buyer: str, quantity: int) -> None:  # noqa: F811
    """An order through the API, paid at once (the provider's webhook runs in the server)."""
    headers = {**world.auth(buyer), "Idempotency-Key": new_key()}
    body = {"quantity": quantity, "payment_method": "card"}
    taken = httpx.post(f"{base_url}{API}/flash-sales/{sale}/orders", json=body, headers=headers, timeout=30)
    assert taken.status_code == 201, taken.text


def test_an_operator_watches_a_flash_sale_board_as_orders_arrive(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
    peak: dict[str, str],
) -> None:
    from playwright.sync_api import expect

    visit = signed_in_at(browser, base_url, "ops", "Peak days")
    page = visit.page
    sales = page.get_by_role("table", name="Flash sales, newest first")
    assert sales.get_by_role("link").all_inner_texts() == [peak["seller_b"], peak["seller_a"]]
    visit.check("peak", axe)
    follow(sales.get_by_role("link", name=peak["seller_a"]))
    assert page.get_by_role("heading", name=f"Flash sale {peak['seller_a']}").is_visible()
    sold = page.locator('[data-live="sold"]')
    expect(page.locator("[data-live-status]")).to_have_text("Updating live.")
    expect(sold).to_have_text("0")
    _buy(base_url, world, peak["seller_a"], "buyer_a", 2)
    expect(sold).to_have_text("2")  # no reload: the figures came by the page's event stream
    _buy(base_url, world, peak["seller_a"], "buyer_b", 1)
    expect(sold).to_have_text("3")
    expect(page.locator('[data-live="available"]')).to_have_text("3")
    assert page.locator("#sold-gauge").evaluate("meter => meter.value") == 3
    visit.check("peak-flash-board", axe)
    follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Peak days"))
    follow(page.get_by_role("navigation", name="Peak-day views").get_by_role("link", name="Group buys"))
    follow(
        page.get_by_role("table", name="Group buys, newest first").get_by_role("link", name=peak["group_buy"])
    )
    teams = page.get_by_role("table", name="Teams, newest first")
    assert teams.get_by_role("row").nth(1).get_by_role("cell").all_inner_texts()[1:4] == ["open", "1", "3"]
    visit.check("peak-group-buy", axe)
    follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Peak days"))
    follow(page.get_by_role("navigation", name="Peak-day views").get_by_role("link", name="Livestreams"))
    assert page.get_by_role("table", name="Livestream sessions, newest first").is_visible()
    visit.check("peak-livestreams", axe)
    visit.done()


def test_a_seller_cannot_open_another_sellers_sale(
    base_url: str,  # noqa: F811
    browser: Any,
    peak: dict[str, str],
) -> None:
    visit = signed_in_at(browser, base_url, "seller-a", "Peak days")
    sales = visit.page.get_by_role("table", name="Flash sales, newest first")
    assert sales.get_by_role("link").all_inner_texts() == [peak["seller_a"]]
    assert visit.goto(f"/peak/flash/{peak['seller_b']}").status == 404
    assert visit.goto(f"/peak/flash/{peak['seller_b']}/live").status == 404
    assert visit.goto(f"/peak/flash/{peak['seller_a']}").status == 200
    visit.done()


def test_a_drop_opens_only_through_the_confirmation_with_its_csrf_token(
    base_url: str,  # noqa: F811
    browser: Any,
    axe: Any,  # noqa: F811
    world: World,  # noqa: F811
    peak: dict[str, str],
) -> None:
    from playwright.sync_api import expect

    visit = signed_in_at(browser, base_url, "seller-a", "Peak days")
    page = visit.page
    room, open_path = f"/peak/live/{peak['live']}", f"/peak/live/{peak['live']}/drops/{peak['drop']}/open"
    forged = page.request.post(base_url + open_path, form={"step": "confirm"}, max_redirects=0)
    assert forged.status == 403 and "CSRF token" in forged.text()
    visit.goto(room)
    drops = page.get_by_role("table", name="Drops in queue order")
    assert drops.get_by_role("row").filter(has_text=peak["drop"]).get_by_text("queued").is_visible()
    visit.check("peak-control-room", axe)
    follow(drops.get_by_role("link", name="Open… drop 1"))
    assert page.get_by_role("heading", name="Open drop 1?").is_visible()
    visit.check("peak-drop-open", axe)
    follow(page.get_by_role("button", name="Open drop 1"))
    assert page.url == f"{base_url}{room}?done=opened"
    assert page.locator(".notice").inner_text() == "Drop opened."
    assert drops.get_by_role("row").filter(has_text=peak["drop"]).get_by_text("open", exact=True).is_visible()
    available = page.locator(f'[data-live="{peak["drop"]}.available"]')
    expect(available).to_have_text("2")
    state = httpx.get(
        f"{base_url}{API}/live-sessions/{peak['live']}", headers=world.auth("buyer_b"), timeout=30
    )
    _buy(base_url, world, state.json()["drops"][0]["sale"], "buyer_b", 1)
    expect(available).to_have_text("1")  # the control room's cells follow the drop's sale live
    visit.page.go_back()  # the confirmation again, as a second tab would still show it
    visit.page.wait_for_load_state()
    follow(page.get_by_role("button", name="Open drop 1"))
    assert "only a queued drop of a live session opens" in page.get_by_role("alert").inner_text()
    visit.check("peak-drop-refused", axe)
    visit.done()
