"""A flash sale's page in the shop: its price and live counter (units left and sold, the phase, the time
left) in the market's formats, the same figures in the page and in its server-sent feed; another
market's sale is not found in this shop."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from entrepot.campaigns.flash import queries as flash_queries
from entrepot.web.locale import MarketFormat
from entrepot.web.shop.flash import counter
from tests.web.conftest import console_as
from tests.world import T0, World

SHOP = "/shop/lazada/sg"


def _sale(api: TestClient, world: World) -> str:
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 5,
        "per_buyer_limit": 2,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=1, minutes=30)).isoformat(),
    }
    response = api.post("/api/v1/flash-sales", json=body, headers=world.auth("seller_a"))
    assert response.status_code == 201, response.text
    ref: str = response.json()["id"]
    return ref


def test_the_page_shows_the_sale_and_its_live_counter(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    ref = _sale(api, world)
    buyer = console_as(world, "buyer-a")
    page = buyer.get(f"{SHOP}/flash-sales/{ref}")
    assert page.status_code == 200
    assert "$9.90" in page.text and 'data-live-source="/shop/lazada/sg/flash-sales/' in page.text
    assert '<dd data-live="available">5</dd>' in page.text and "1 hour, 30 minutes" in page.text
    assert "On sale now" in page.text and '<script src="/static/live.js" defer>' in page.text
    assert buyer.get(f"/shop/taobao/cn/flash-sales/{ref}").status_code == 404


def test_the_counter_is_formatted_the_market_way() -> None:
    board = flash_queries.Board(
        stock=20000,
        available=12345,
        reserved=0,
        sold=7655,
        waiting_units=0,
        in_line=0,
        phase="open",
        ends_at=T0 + dt.timedelta(minutes=12),
    )
    vietnam = counter(board, MarketFormat("vi_VN", "VND", "Asia/Ho_Chi_Minh"), T0)
    assert vietnam["available"] == "12.345" and vietnam["time_left"] == "12 phút"
    ended = counter(
        flash_queries.Board(5, 0, 0, 5, 0, 0, "sold_out", T0 + dt.timedelta(minutes=5)),
        MarketFormat("en_SG", "SGD", "Asia/Singapore"),
        T0,
    )
    assert ended["phase"] == "Sold out" and ended["time_left"] == "-"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_feed_sends_the_page_s_figures(world: World, people: dict[str, str], api: TestClient) -> None:
    ref = _sale(api, world)
    buyer = console_as(world, "buyer-a")
    with buyer.stream("GET", f"{SHOP}/flash-sales/{ref}/live") as feed:
        assert feed.headers["content-type"].startswith("text/event-stream")
        for line in feed.iter_lines():
            if line.startswith("data: "):
                figures = json.loads(line.removeprefix("data: "))
                break
    assert figures["available"] == "5" and figures["phase"] == "On sale now"
    assert buyer.get(f"/shop/taobao/cn/flash-sales/{ref}/live").status_code == 404
