"""The console's pages apply the API's authorisation and call its services: what each role may open
(and the status it gets otherwise, the same as the API's), the orders list and its cursor pages, an
order with its timeline, a refund with its confirmation step, and the overview's figures."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from entrepot.ordering import queries
from tests.api.helpers import pay, place_ok
from tests.web.conftest import console_as, csrf_of
from tests.world import World

# console user -> the API key of the same role and owner in the world
SAME_AS = {
    "ops": "operator",
    "seller-a": "seller_a",
    "seller-b": "seller_b",
    "buyer-a": "buyer_a",
    "buyer-b": "buyer_b",
}


def test_sellers_and_buyers_cannot_open_the_operators_overview(world: World, people: dict[str, str]) -> None:
    for name in ("seller-a", "buyer-a", "courier"):
        page = console_as(world, name).get("/overview")
        assert page.status_code == 403, name
        assert "this needs an operator key" in page.text
        assert page.headers["content-type"].startswith("text/html")


def test_an_order_page_answers_each_role_as_the_api_does(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    """seller-a sees its order and not seller-b's (404, as if it did not exist); buyer-b sees neither of
    buyer_a's orders; a carrier has no access to orders (403)."""
    for name, key in SAME_AS.items():
        console = console_as(world, name)
        for order_id in paid_orders.values():
            expected = api.get(f"/api/v1/orders/{order_id}", headers=world.auth(key)).status_code
            assert console.get(f"/orders/{order_id}").status_code == expected, (name, order_id)
    seller = console_as(world, "seller-a")
    assert seller.get(f"/orders/{paid_orders['seller_b']}").status_code == 404
    assert console_as(world, "buyer-b").get(f"/orders/{paid_orders['seller_a']}").status_code == 404
    assert console_as(world, "courier").get("/orders").status_code == 403
    assert console_as(world, "courier").get(f"/orders/{paid_orders['seller_a']}").status_code == 403


def test_a_seller_lists_only_its_own_orders(
    world: World, people: dict[str, str], paid_orders: dict[str, str]
) -> None:
    page = console_as(world, "seller-a").get("/orders").text
    assert paid_orders["seller_a"] in page and paid_orders["seller_b"] not in page
    everything = console_as(world, "ops").get("/orders").text
    assert all(order_id in everything for order_id in paid_orders.values())


def test_buyers_may_not_refund_and_sellers_only_their_own(
    world: World, people: dict[str, str], paid_orders: dict[str, str]
) -> None:
    buyer = console_as(world, "buyer-a")
    own = paid_orders["seller_a"]
    assert buyer.get(f"/orders/{own}/refund").status_code == 403
    assert "Refund…" not in buyer.get(f"/orders/{own}").text
    form = {"csrf": csrf_of(buyer.get("/orders")), "amount": "1.00", "reason": "x", "step": "confirm"}
    assert buyer.post(f"/orders/{own}/refund", data=form).status_code == 403
    seller = console_as(world, "seller-a")
    form["csrf"] = csrf_of(seller.get("/orders"))
    assert seller.post(f"/orders/{paid_orders['seller_b']}/refund", data=form).status_code == 404


def _order(api: TestClient, world: World, order_id: str) -> dict[str, object]:
    body: dict[str, object] = api.get(f"/api/v1/orders/{order_id}", headers=world.auth("operator")).json()
    return body


def test_an_operator_refunds_an_order_after_confirming(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    order_id = paid_orders["seller_a"]
    console = console_as(world, "ops")
    detail = console.get(f"/orders/{order_id}")
    assert detail.status_code == 200
    assert re.search(
        r"<span class=\"event\">placed</span>.*<span class=\"event\">paid</span>", detail.text, re.S
    )
    form_page = console.get(f"/orders/{order_id}/refund")
    assert 'value="41.79"' in form_page.text  # all of it is left to refund: 2 x S$19.90 and S$1.99 shipping
    csrf = csrf_of(form_page)
    review = console.post(
        f"/orders/{order_id}/refund",
        data={"csrf": csrf, "amount": "5.50", "reason": "scratched", "step": "review"},
    )
    assert review.status_code == 200 and "Confirm the refund" in review.text
    assert _order(api, world, order_id)["refunded_minor"] == 0  # reviewing does nothing
    done = console.post(
        f"/orders/{order_id}/refund",
        data={"csrf": csrf, "amount": "5.50", "reason": "scratched", "step": "confirm"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/orders/{order_id}?refunded=550"
    assert _order(api, world, order_id)["refunded_minor"] == 550
    after = console.get(done.headers["location"]).text
    assert (
        "Refunded 5.50 SGD" in after
        and "scratched" in after
        and '<span class="event">refunded</span>' in after
    )
    assert console.get(f"/orders/{order_id}?refunded=lots").status_code == 422


@pytest.mark.parametrize("typed", ["1_0", "\u0661\u0660", " 10 ", "10.0"])
def test_the_refund_confirmed_is_the_amount_that_will_be_refunded(
    world: World, people: dict[str, str], paid_orders: dict[str, str], typed: str
) -> None:
    console = console_as(world, "ops")
    csrf = csrf_of(console.get(f"/orders/{paid_orders['seller_a']}/refund"))
    review = console.post(
        f"/orders/{paid_orders['seller_a']}/refund",
        data={"csrf": csrf, "amount": typed, "reason": "scratched", "step": "review"},
    )
    assert review.status_code == 200 and "Refund <strong>10.00 SGD</strong>" in review.text
    assert 'name="amount" value="10.00"' in review.text  # and that is what the confirmation sends


@pytest.mark.parametrize(
    ("amount", "reason", "field", "message"),
    [
        ("41.80", "too much", "amount", "at most 4179"),  # the service's own field error
        ("1.005", "three decimals", "amount", "at most 2 decimal places"),
        ("lots", "not a number", "amount", "a number"),
        ("1.00", "   ", "reason", "String should have at least 1 character"),
    ],
)
def test_a_refused_refund_shows_the_problems_field_errors_in_place(
    world: World,
    people: dict[str, str],
    paid_orders: dict[str, str],
    api: TestClient,
    amount: str,
    reason: str,
    field: str,
    message: str,
) -> None:
    order_id = paid_orders["seller_a"]
    console = console_as(world, "ops")
    csrf = csrf_of(console.get(f"/orders/{order_id}/refund"))
    refused = console.post(
        f"/orders/{order_id}/refund",
        data={"csrf": csrf, "amount": amount, "reason": reason, "step": "confirm"},
    )
    assert refused.status_code == 422
    error = re.search(rf'id="f-{field}-error-1">(.*?)</p>', refused.text, re.S)
    assert error and message in error.group(1), refused.text
    assert f'id="f-{field}"' in refused.text and 'aria-invalid="true"' in refused.text
    assert _order(api, world, order_id)["refunded_minor"] == 0


def test_the_orders_list_filters_and_pages_with_a_cursor(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    placed = [place_ok(api, world, ("seller_a_red", 1))["id"] for _ in range(3)]  # left unpaid
    console = console_as(world, "ops")
    only_placed = console.get("/orders?status=placed")
    assert all(order_id in only_placed.text for order_id in placed)
    assert not any(order_id in only_placed.text for order_id in paid_orders.values())
    assert 'value="placed" selected' in only_placed.text  # the filter keeps its value

    from entrepot.web import orders as pages

    pages_seen: list[str] = []
    original = pages.PAGE_SIZE
    pages.PAGE_SIZE = 2
    try:
        url = "/orders?status=placed"
        while url:
            page = console.get(url).text
            pages_seen.append(page)
            found = re.search(r'<a rel="next" href="([^"]+)"', page)
            url = found.group(1).replace("&amp;", "&") if found else ""
    finally:
        pages.PAGE_SIZE = original
    assert len(pages_seen) == 2
    assert "status=placed" in pages_seen[0] and "First page" in pages_seen[1]
    shown = [order_id for page in pages_seen for order_id in placed if order_id in page]
    assert sorted(shown) == sorted(placed)  # each once, none lost between pages
    assert console.get("/orders?cursor=not-a-cursor").status_code == 422


def test_the_overview_shows_todays_orders_gmv_payments_and_the_outbox(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    declined = place_ok(api, world, ("seller_a_red", 1))
    world_with_declines = world.client(payment_decline_rate=1.0)
    assert pay(world_with_declines, world, declined["id"]).status_code == 202
    page = console_as(world, "ops").get(f"/overview?on={world.clock().date().isoformat()}")
    assert page.status_code == 200
    cards = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text))
    assert cards[f"Orders on {world.clock().date().isoformat()}"] == "3"
    assert cards["Payment success, 7 days"] == "66.7%"  # 2 paid, 1 declined
    assert "2 succeeded, 1 failed, 0 pending" in page.text
    assert cards["Outbox lag"] == "1 d 0 h"  # the world's seeding events, a day old, wait for a relay
    assert "lazada-sg" in page.text and "taobao-cn" not in page.text  # markets with orders only
    assert cards["GMV, last 12 months"] == cards[f"GMV on {world.clock().date().isoformat()}"]
    assert "3 orders" in page.text  # the twelve months' count: today's three
    live = dict(re.findall(r'<dt>(.*?)</dt><dd><span data-live="\w+">(.*?)</span></dd>', page.text))
    assert live["Orders a minute, last 5 minutes"] == "0.6"  # three placed at the world's now
    world.clock.advance(minutes=5)
    later = console_as(world, "ops").get(f"/overview?on={world.clock().date().isoformat()}").text
    assert '<span data-live="orders_per_minute">0.0</span>' in later  # five minutes on: none since
    a_year_on = console_as(world, "ops").get("/overview?on=2026-11-10").text
    assert "No orders in these 12 months." not in a_year_on  # 2025-11-11 is within its 365 days
    empty = console_as(world, "ops").get("/overview?on=2020-01-01")
    assert "No orders in these 12 months." in empty.text  # the day asked for, even when empty


def test_a_quiet_week_opens_the_overview_on_the_latest_day_with_orders_and_says_so(
    world: World, people: dict[str, str], paid_orders: dict[str, str]
) -> None:
    world.clock.advance(days=30)  # the orders of 2025-11-11 are now a month old
    page = console_as(world, "ops").get("/overview").text
    cards = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert cards["Orders on 2025-11-11"] == "2"
    assert "No orders in the 7 days to 2025-12-11: showing 2025-11-11" in page
    assert '<a href="/overview?on=2025-12-11">Show 2025-12-11</a>' in page
    asked = console_as(world, "ops").get("/overview?on=2025-12-11").text  # a day asked for is shown as it is
    assert "Orders on 2025-12-11</dt><dd>0<" in asked and "the latest day with orders" not in asked


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0 s"), (59, "59 s"), (61, "1 min"), (3_700, "1 h 1 min"), (90_000, "1 d 1 h")]
)
def test_durations_read_in_their_two_largest_units(seconds: int, shown: str) -> None:
    from entrepot.web.templating import duration

    assert duration(seconds) == shown


def test_the_overviews_today_is_the_day_in_china_as_the_orders_are_dated(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    world.clock.advance(hours=14)  # 17:00 UTC: 01:00 on the 12th in Singapore and China
    place_ok(api, world, ("seller_a_red", 1))
    page = console_as(world, "ops").get("/overview")
    cards = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text))
    assert cards["Orders on 2025-11-12"] == "1"  # the order placed a minute ago, dated the 12th in SG


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-03", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_a_day_out_of_range_is_refused_not_an_error(world: World, people: dict[str, str], day: str) -> None:
    assert console_as(world, "ops").get(f"/overview?on={day}").status_code == 422


def test_a_long_history_shows_its_newest_events(
    world: World, people: dict[str, str], paid_orders: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "TIMELINE_LIMIT", 2)  # placed, paid: only 'paid' and the newest fit
    console = console_as(world, "ops")
    csrf = csrf_of(console.get(f"/orders/{paid_orders['seller_a']}/fulfil"))
    console.post(f"/orders/{paid_orders['seller_a']}/fulfil", data={"csrf": csrf})
    page = console.get(f"/orders/{paid_orders['seller_a']}").text
    events = re.findall(r'<span class="event">(\w+)</span>', page)
    assert events == ["paid", "fulfilled"]
