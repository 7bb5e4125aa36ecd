"""Peak days in the console: the lists of flash sales, group buys and livestreams (filters and cursor
pages), a flash sale's board, a group buy's teams and the livestream control room. Operators see every
campaign, a seller its own (another seller's is a 404, as the API answers another seller's live
session), buyers and carriers 403; opening or closing a drop needs the form's CSRF token, and a refusal
is shown in place with the API's status."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import API, new_key
from tests.web.conftest import _stock, console_as, csrf_of
from tests.world import T0, World


def _sale(api: TestClient, world: World, seller: str, **overrides: Any) -> str:
    body = {
        "sku": world.ids[f"{seller}_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 5,
        "per_buyer_limit": 2,
        "starts_at": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
        **overrides,
    }
    response = api.post(f"{API}/flash-sales", json=body, headers=world.auth(seller))
    assert response.status_code == 201, response.text
    sale: str = response.json()["id"]
    return sale


@pytest.fixture
def sales(world: World, people: dict[str, str], api: TestClient) -> dict[str, str]:
    """A flash sale of each seller, both starting a minute after T0: seller -> sale id."""
    _stock(world, "seller_b_red")
    return {seller: _sale(api, world, seller) for seller in ("seller_a", "seller_b")}


def _take(api: TestClient, world: World, sale: str, buyer: str, quantity: int = 1) -> Any:
    headers = {**world.auth(buyer), "Idempotency-Key": new_key()}
    body = {"quantity": quantity, "payment_method": "card"}
    return api.post(f"{API}/flash-sales/{sale}/orders", json=body, headers=headers)


def _listed(page: str, prefix: str) -> set[str]:
    return set(re.findall(rf'href="/peak/[a-z-]+/({prefix}_[A-Za-z0-9]+)"', page))


def test_operators_list_every_sale_a_seller_its_own_buyers_and_carriers_none(
    world: World, sales: dict[str, str]
) -> None:
    assert _listed(console_as(world, "ops").get("/peak").text, "fls") == set(sales.values())
    assert _listed(console_as(world, "seller-a").get("/peak").text, "fls") == {sales["seller_a"]}
    assert _listed(console_as(world, "seller-b").get("/peak").text, "fls") == {sales["seller_b"]}
    for name in ("buyer-a", "courier"):
        console = console_as(world, name)
        for path in ("/peak", "/peak/group-buys", "/peak/live", f"/peak/flash/{sales['seller_a']}"):
            assert console.get(path).status_code == 403, (name, path)


def test_sales_filtered_by_window_and_market_in_cursor_pages(world: World, sales: dict[str, str]) -> None:
    console = console_as(world, "ops", page_size_max=1)
    first = console.get("/peak?market=lazada-sg&state=upcoming")
    assert _listed(first.text, "fls") == {sales["seller_b"]}  # newest first, one a page
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following and "state=upcoming" in following.group(1)
    second = console.get(following.group(1).replace("&amp;", "&"))
    assert _listed(second.text, "fls") == {sales["seller_a"]}
    assert _listed(console.get("/peak?state=running").text, "fls") == set()
    assert _listed(console.get("/peak?market=taobao-cn").text, "fls") == set()
    world.clock.advance(minutes=2)
    assert _listed(console_as(world, "ops").get("/peak?state=running").text, "fls") == set(sales.values())
    assert console.get("/peak?state=live").status_code == 422  # a livestream's status, not a window's
    assert console.get("/peak?cursor=nonsense").status_code == 422


def test_a_board_for_its_seller_and_operators_only(
    world: World, sales: dict[str, str], api: TestClient
) -> None:
    sale = sales["seller_a"]
    world.clock.advance(minutes=2)
    assert _take(api, world, sale, "buyer_a", 2).status_code == 201
    page = console_as(world, "seller-a").get(f"/peak/flash/{sale}")
    assert page.status_code == 200
    figures = dict(re.findall(r'<span data-live="([a-z_]+)">([^<]*)</span>', page.text))
    assert {k: figures[k] for k in ("stock", "available", "sold", "in_line", "phase")} == {
        "stock": "5",
        "available": "3",
        "sold": "2",
        "in_line": "0",
        "phase": "open",
    }
    assert 'data-live-source="/peak/flash/' + sale + '/live"' in page.text
    assert console_as(world, "ops").get(f"/peak/flash/{sale}").status_code == 200
    other = console_as(world, "seller-b")
    for path in (f"/peak/flash/{sale}", f"/peak/flash/{sale}/live"):
        refused = other.get(path)
        assert refused.status_code == 404 and f"no flash sale {sale}" in refused.text
    assert other.get("/peak/flash/fls_nope").status_code == 404  # the same answer as another's
    assert console_as(world, "buyer-a").get(f"/peak/flash/{sale}/live").status_code == 403


@pytest.fixture
def group_buy(world: World, people: dict[str, str], api: TestClient) -> str:
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 1290,
        "team_size": 3,
        "team_window_seconds": 3600,
        "stock": 6,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(days=1)).isoformat(),
    }
    response = api.post(f"{API}/group-buys", json=body, headers=world.auth("seller_a"))
    assert response.status_code == 201, response.text
    ref: str = response.json()["id"]
    return ref


def test_a_group_buys_teams_with_members_threshold_and_time_left(
    world: World, group_buy: str, api: TestClient
) -> None:
    team = api.post(
        f"{API}/group-buys/{group_buy}/teams", json={"payment_method": "card"}, headers=world.auth("buyer_a")
    )
    assert team.status_code == 201, team.text
    world.clock.advance(minutes=20)
    assert _listed(console_as(world, "seller-a").get("/peak/group-buys").text, "grp") == {group_buy}
    assert _listed(console_as(world, "seller-b").get("/peak/group-buys").text, "grp") == set()
    page = console_as(world, "ops").get(f"/peak/group-buys/{group_buy}")
    assert page.status_code == 200
    row = re.search(rf'<td class="mono">{team.json()["id"]}</td>(.*?)</tr>', page.text, re.S)
    assert row, page.text
    cells = re.findall(r"<td[^>]*>(?:<span[^>]*>)?([^<]*)", row.group(1))
    assert cells == ["open", "1", "3", "2025-11-11 04:00 UTC", "40 min"]
    assert console_as(world, "seller-b").get(f"/peak/group-buys/{group_buy}").status_code == 404
    assert console_as(world, "courier").get(f"/peak/group-buys/{group_buy}").status_code == 403


@pytest.fixture
def live_session(world: World, people: dict[str, str], api: TestClient) -> tuple[str, str]:
    """seller_a live in Singapore with one queued drop: (session id, drop id)."""
    seller = world.auth("seller_a")
    body = {"market": "lazada-sg", "host": "Ana", "title": "Singles' Day phone cases"}
    ref = api.post(f"{API}/live-sessions", json=body, headers=seller).json()["id"]
    drop = {"sku": world.ids["seller_a_red"], "sale_price_minor": 500, "stock": 2, "per_buyer_limit": 1}
    added = api.post(f"{API}/live-sessions/{ref}/drops", json=drop, headers=seller)
    assert added.status_code == 201, added.text
    return ref, added.json()["drops"][0]["id"]


def _drop_status(api: TestClient, world: World, ref: str) -> str:
    status: str = api.get(f"{API}/live-sessions/{ref}", headers=world.auth("operator")).json()["drops"][0][
        "status"
    ]
    return status


def test_the_control_room_opens_and_closes_a_drop_after_confirming(
    world: World, live_session: tuple[str, str], api: TestClient
) -> None:
    ref, drop = live_session
    console = console_as(world, "seller-a")
    assert _listed(console.get("/peak/live").text, "live") == {ref}
    room = console.get(f"/peak/live/{ref}")
    assert room.status_code == 200 and f'href="/peak/live/{ref}/drops/{drop}/open"' in room.text
    confirm = console.get(f"/peak/live/{ref}/drops/{drop}/open")
    assert confirm.status_code == 200 and "Open drop 1?" in confirm.text
    token = csrf_of(confirm)
    path = f"/peak/live/{ref}/drops/{drop}/open"
    assert console.post(path, data={}, follow_redirects=False).status_code == 403  # no CSRF token
    assert console.post(path, data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    assert _drop_status(api, world, ref) == "queued"
    opened = console.post(path, data={"csrf": token}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/peak/live/{ref}?done=opened"
    assert _drop_status(api, world, ref) == "open"
    again = console.post(path, data={"csrf": token}, follow_redirects=False)  # a second tab's old form
    assert again.status_code == 409
    assert 'role="alert"' in again.text and "only a queued drop of a live session opens" in again.text
    assert "drop 1?" in again.text  # the same confirmation, with the problem in place
    closed = console.post(
        f"/peak/live/{ref}/drops/{drop}/close", data={"csrf": token}, follow_redirects=False
    )
    assert closed.status_code == 303 and _drop_status(api, world, ref) == "closed"


def test_another_seller_or_a_buyer_cannot_run_the_session(
    world: World, live_session: tuple[str, str], api: TestClient
) -> None:
    ref, drop = live_session
    other = console_as(world, "seller-b")
    assert _listed(other.get("/peak/live").text, "live") == set()
    token = csrf_of(other.get("/peak"))
    for path in (f"/peak/live/{ref}", f"/peak/live/{ref}/live", f"/peak/live/{ref}/drops/{drop}/open"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/peak/live/{ref}/drops/{drop}/open", data={"csrf": token}).status_code == 404
    buyer = console_as(world, "buyer-a")
    token = csrf_of(buyer.get("/orders"))
    assert buyer.post(f"/peak/live/{ref}/drops/{drop}/open", data={"csrf": token}).status_code == 403
    assert _drop_status(api, world, ref) == "queued"
    operator = console_as(world, "ops")
    token = csrf_of(operator.get(f"/peak/live/{ref}/drops/{drop}/open"))
    assert operator.post(f"/peak/live/{ref}/drops/{drop}/open", data={"csrf": token}).status_code == 200
    assert _drop_status(api, world, ref) == "open"


def test_the_pages_cost_the_same_statements_for_one_campaign_or_many(
    world: World, people: dict[str, str], api: TestClient, live_session: tuple[str, str], group_buy: str
) -> None:
    """No page loads something per row: the lists, the board and the control room cost as many SQL
    statements with one sale, team or drop as with four."""
    from tests.statements import count_statements

    ref, _ = live_session
    sale = _sale(api, world, "seller_a")
    console = console_as(world, "ops")
    paths = (
        "/peak",
        "/peak/group-buys",
        "/peak/live",
        f"/peak/flash/{sale}",
        f"/peak/group-buys/{group_buy}",
    )
    paths += (f"/peak/live/{ref}",)

    def counts() -> dict[str, int]:
        seen = {}
        for path in paths:
            assert console.get(path).status_code == 200  # warms the connections up
            with count_statements(world.db.engine) as statements:
                assert console.get(path).status_code == 200
            seen[path] = len(statements)
        return seen

    few = counts()
    drop = {"sku": world.ids["seller_a_red"], "sale_price_minor": 500, "stock": 1, "per_buyer_limit": 1}
    _stock(world, "seller_b_red")
    for _ in range(3):
        _sale(api, world, "seller_b", stock=2)
        assert api.post(
            f"{API}/live-sessions/{ref}/drops", json=drop, headers=world.auth("seller_a")
        ).is_success
        api.post(
            f"{API}/live-sessions",
            json={"market": "lazada-sg", "host": "B", "title": "t"},
            headers=world.auth("seller_a"),
        )
    for buyer in ("buyer_a", "buyer_b"):  # two teams of one member each
        opened = api.post(
            f"{API}/group-buys/{group_buy}/teams", json={"payment_method": "card"}, headers=world.auth(buyer)
        )
        assert opened.status_code == 201, opened.text
    assert counts() == few != {}
