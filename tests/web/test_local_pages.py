"""The console's Local services section (web/local_pages.py): the operators' board with the city map,
a dispatch round run from the page (CSRF), a seller's own stores and orders (another seller's store: 404),
every other role refused and a visitor sent to sign in."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from entrepot.local_services.models import LocalStore, OnDemandOrder
from entrepot.web.local_pages import order_rows
from entrepot.web.templating import clock
from tests.api.local_on_demand import Town, shipped_city, town
from tests.web.conftest import console_as, csrf_of
from tests.world import World

__all__ = ["shipped_city", "town"]  # fixtures

MAP_DATA = re.compile(r'<script type="application/json" id="city-data">(.*?)</script>', re.S)


def placed(town: Town) -> str:
    ref: str = town.ok(town.order(), 201)["id"]
    return ref


def test_the_operator_sees_stores_couriers_orders_and_the_map(
    world: World, people: dict[str, str], town: Town
) -> None:
    order = placed(town)
    town.ok(town.ping(0))
    page = console_as(world, "ops").get("/local")
    assert page.status_code == 200, page.text
    assert "Soup Kitchen" in page.text and "rider 1" in page.text and order in page.text
    assert "© OpenStreetMap contributors, ODbL" in page.text
    assert 'src="/static/local_map.js"' in page.text and "<script>" not in page.text  # no inline script
    found = MAP_DATA.search(page.text)
    assert found
    groups = {p["group"] for p in json.loads(found.group(1))["points"]}
    assert groups == {"store", "courier", "drop_off"}
    assert 'href="/local"' in page.text  # in the navigation


def test_a_dispatch_round_from_the_page_assigns_the_order(
    world: World, people: dict[str, str], town: Town
) -> None:
    order = placed(town)
    town.ping(0), town.ping(1)
    got = town.ok(town.get(f"/local/orders/{order}", "operator"))
    world.clock.now = max(world.clock.now, dt.datetime.fromisoformat(got["ready_at"]))
    browser = console_as(world, "ops")
    token = csrf_of(browser.get("/local"))
    done = browser.post("/local/dispatch-rounds", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    shown = browser.get(done.headers["location"])
    assert "Dispatch round run: 1 trips offered, 1 orders assigned" in shown.text
    assert town.ok(town.get(f"/local/orders/{order}", "operator"))["state"] == "assigned"


def test_a_round_without_the_csrf_token_is_refused_and_runs_nothing(
    world: World, people: dict[str, str], town: Town
) -> None:
    order = placed(town)
    town.ping(0)
    browser = console_as(world, "ops")
    for data in ({}, {"csrf": "forged"}):
        assert browser.post("/local/dispatch-rounds", data=data).status_code == 403
    assert town.ok(town.get(f"/local/orders/{order}", "operator"))["state"] == "placed"


def test_a_seller_may_not_run_a_round(world: World, people: dict[str, str], town: Town) -> None:
    browser = console_as(world, "seller-a")
    token = csrf_of(browser.get("/sign-in"))
    assert browser.post("/local/dispatch-rounds", data={"csrf": token}).status_code == 403


def test_a_seller_sees_its_own_stores_and_orders_only(
    world: World, people: dict[str, str], town: Town
) -> None:
    order = placed(town)
    own = console_as(world, "seller-a")
    board = own.get("/local")
    assert board.status_code == 200 and "Soup Kitchen" in board.text and order in board.text
    assert "rider 1" not in board.text and "Run a dispatch round" not in board.text
    store = own.get(f"/local/stores/{town.store}")
    assert store.status_code == 200 and order in store.text
    other = console_as(world, "seller-b")
    assert "Soup Kitchen" not in other.get("/local").text and order not in other.get("/local").text
    assert other.get(f"/local/stores/{town.store}").status_code == 404


@pytest.mark.parametrize("who", ["buyer-a", "courier"])
def test_other_roles_are_refused(world: World, people: dict[str, str], town: Town, who: str) -> None:
    browser = console_as(world, who)
    assert browser.get("/local").status_code == 403
    assert browser.get(f"/local/stores/{town.store}").status_code == 403


def test_a_visitor_is_sent_to_sign_in(world: World, town: Town) -> None:
    for path in ("/local", f"/local/stores/{town.store}", "/local/live"):
        got = world.client().get(path, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/sign-in")


def test_bad_round_figures_in_the_address_are_refused(
    world: World, people: dict[str, str], town: Town
) -> None:
    assert console_as(world, "ops").get("/local?offered=-1").status_code in (400, 422)


def test_late_orders_come_first_the_latest_first_then_by_promise() -> None:
    at = dt.datetime(2025, 11, 11, 3, 0, tzinfo=dt.UTC)

    def order(ref: str, promised_min: int, eta_min: int) -> OnDemandOrder:
        promised, eta = at + dt.timedelta(minutes=promised_min), at + dt.timedelta(minutes=eta_min)
        return OnDemandOrder(public_id=ref, state="assigned", promised_at=promised, eta_at=eta)

    found = [
        (order("on-time-later", 40, 30), "st", None),
        (order("a-bit-late", 20, 25), "st", None),
        (order("on-time-sooner", 30, 20), "st", None),
        (order("very-late", 30, 50), "st", "trp"),
    ]
    store = LocalStore(public_id="st", name="Soup Kitchen", time_zone="Europe/Helsinki")
    rows = order_rows(found, {"st": store})
    assert [r.ref for r in rows] == ["very-late", "a-bit-late", "on-time-sooner", "on-time-later"]
    assert rows[0].late_s == 20 * 60 and rows[0].store == "Soup Kitchen" and rows[0].trip == "trp"
    assert clock(rows[0].promised_at, rows[0].time_zone) == "05:30 EET"  # 03:30 UTC, on the city's clocks


def test_the_board_and_a_stores_page_show_the_citys_time(
    world: World, people: dict[str, str], town: Town
) -> None:
    placed(town)
    with world.db.transaction() as session:
        store = session.scalars(select(LocalStore).where(LocalStore.public_id == town.store)).one()
        order = session.scalars(select(OnDemandOrder).where(OnDemandOrder.store_id == store.id)).one()
        promised = clock(order.promised_at, store.time_zone)
    assert promised.endswith(" +08")  # the town's store is in Singapore: 11:xx there, not 03:xx UTC
    for path in ("/local", f"/local/stores/{town.store}"):
        assert promised in console_as(world, "ops").get(path).text


def test_the_operator_reads_any_stores_page(world: World, people: dict[str, str], town: Town) -> None:
    order = placed(town)
    page = console_as(world, "ops").get(f"/local/stores/{town.store}")
    assert page.status_code == 200 and order in page.text and "10:00-22:00" in page.text
    assert console_as(world, "ops").get("/local/stores/lst_nothing").status_code == 404
