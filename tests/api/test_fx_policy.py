"""FX never stops checkout: on any day, with no new rate files, every market takes orders whose USD and
CNY amounts are marked provisional; loading rates (ECB files, operator rates) re-states them, with an
audit record; the operator sees how old each currency's rate is."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.bootstrap import refresh_rates
from entrepot.catalog import service as catalog
from entrepot.kernel.fx import load_ecb
from entrepot.kernel.money import Money
from entrepot.ordering.models import FxRestatement, Order
from entrepot.organization import service as organization
from entrepot.organization.domain import MarketSpec
from entrepot.organization.models import FxPublishedRate
from entrepot.platform.outbox import relay_once
from tests.api.helpers import API, assert_problem, get_order, place_ok
from tests.world import World

BUNDLED_NEWEST = load_ecb().newest_day("USD")
ANY_DAYS = [dt.date(2026, 12, 15), dt.date(2027, 6, 1), dt.date(2030, 1, 1)]


def _at(world: World, day: dt.date) -> None:
    world.clock.now = dt.datetime.combine(day, dt.time(4, 0), dt.UTC)


def _open_vietnam(world: World) -> None:
    """A VND market (operator rates only, the newest in November 2025) selling seller_a's red case."""
    now = world.clock()
    with world.db.transaction() as s:
        vn = MarketSpec("VN", "VND", "vi_VN", "Asia/Ho_Chi_Minh", Decimal("0.10"))
        organization.create_market(s, "lazada", vn, True, 15_000, 30_000, now)
        organization.set_manual_rate(s, "VND", dt.date(2025, 11, 3), Decimal("26300"), "test")
        sku = catalog.get_sku(s, world.ids["seller_a_red"])
        catalog.set_price(s, sku, "lazada-vn", 350_000, "VND")


def _ecb_csv(day: dt.date, usd: str, cny: str, sgd: str) -> bytes:
    return f"Date,USD,CNY,SGD,\n{day.isoformat()},{usd},{cny},{sgd},\n".encode()


def _load(client: TestClient, world: World, body: bytes, kind: str = "ecb", who: str = "operator") -> Any:
    headers = {**world.auth(who), "Content-Type": "text/csv"}
    return client.post(f"{API}/fx/rates?kind={kind}", content=body, headers=headers)


def _relay(client: TestClient, world: World) -> None:
    relay_once(world.db, client.app.state.relay_registry, world.clock())  # type: ignore[attr-defined]


@pytest.mark.parametrize("day", ANY_DAYS, ids=str)
def test_every_market_takes_orders_on_any_day_with_provisional_usd_and_cny(
    world: World, day: dt.date
) -> None:
    _open_vietnam(world)
    _at(world, day)
    client = world.client()
    for market in ("lazada-sg", "taobao-cn", "lazada-vn"):
        order = place_ok(client, world, ("seller_a_red", 1), market=market)
        assert order["fx"]["provisional"] is True, (market, order["fx"])
        assert dt.date.fromisoformat(order["fx"]["rate_date"]) <= BUNDLED_NEWEST
        assert order["usd"]["total_minor"] > 0 and order["cny"]["total_minor"] > 0


def test_an_order_within_the_staleness_limit_is_not_provisional(world: World) -> None:
    order = place_ok(world.client(), world, ("seller_a_red", 1))
    assert order["fx"]["provisional"] is False


def test_loaded_ecb_rates_restate_provisional_orders_with_an_audit_record(world: World) -> None:
    day = dt.date(2027, 6, 1)
    _at(world, day)
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 2))
    assert order["fx"]["provisional"] is True
    loaded = _load(client, world, _ecb_csv(day - dt.timedelta(days=1), "1.2000", "8.4000", "1.5000"))
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {"rates": 3, "stored": 3, "newest": "2027-05-31"}
    _relay(client, world)
    restated = get_order(client, world, order["id"])
    total = Money(restated["total_minor"], "SGD")
    # SGD -> USD crosses through the euro: 1.2 / 1.5 = 0.8 USD per SGD; -> CNY: 8.4 / 1.5 = 5.6
    assert restated["fx"] | {"source": ""} == {
        "rate_date": "2027-05-31",
        "usd_per_unit": "0.8000000000",
        "cny_per_unit": "5.6000000000",
        "provisional": False,
        "source": "",
    }
    assert restated["usd"]["total_minor"] == round(total.minor * Decimal("0.8"))
    assert restated["cny"]["total_minor"] == round(total.minor * Decimal("5.6"))
    with world.db.transaction() as s:
        [audit] = s.scalars(select(FxRestatement)).all()
        assert (audit.old_rate_date, audit.new_rate_date) == (BUNDLED_NEWEST, dt.date(2027, 5, 31))
        assert audit.old_total_usd_minor == order["usd"]["total_minor"]
        assert audit.new_total_usd_minor == restated["usd"]["total_minor"]
    _relay(client, world)  # a second look re-states nothing more
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FxRestatement)) == 1


def test_an_order_whose_day_still_has_no_fresh_rate_stays_provisional(world: World) -> None:
    _at(world, dt.date(2027, 6, 1))
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1))
    # a rate for a day more than the staleness limit before the order date does not make it fresh
    assert _load(client, world, _ecb_csv(dt.date(2027, 3, 1), "1.1", "8.0", "1.4")).status_code == 200
    _relay(client, world)
    assert get_order(client, world, order["id"])["fx"]["provisional"] is True


def test_operator_rates_restate_provisional_vnd_orders(world: World) -> None:
    _open_vietnam(world)
    day = dt.date(2027, 6, 1)
    _at(world, day)
    client = world.client()
    order = place_ok(client, world, ("seller_a_red", 1), market="lazada-vn")
    assert _load(client, world, _ecb_csv(day, "1.2000", "8.4000", "1.5000")).status_code == 200
    _relay(client, world)
    assert get_order(client, world, order["id"])["fx"]["provisional"] is True  # VND's own rate is old
    operator_file = b"currency,on,per_usd,note\nVND,2027-06-01,25000,state bank\n"
    loaded = _load(client, world, operator_file, kind="operator")
    assert loaded.status_code == 200, loaded.text
    _relay(client, world)
    restated = get_order(client, world, order["id"])
    assert restated["fx"]["provisional"] is False
    assert restated["usd"]["total_minor"] == round(Decimal(restated["total_minor"]) / 25000 * 100)


@pytest.mark.parametrize(
    ("body", "kind", "problem"),
    [
        (b"Date,USD\n2027-13-01,1.2\n", "ecb", "not a date"),
        (b"Date,USD\n2027-06-01,-3\n", "ecb", "not a plausible rate"),
        (b"<Envelope><Cube", "ecb", "not well-formed XML"),
        (b"currency,on,per_usd\nVND,2027-06-01,25000\nXXQ,2027-06-01,3\n", "operator", "line 3"),
        (b"currency,on,per_usd\nVND,2027-06-01,-1\n", "operator", "line 2"),
        (b"currency,when,rate\n", "operator", "needs the columns"),
        (b"\xff\xfe", "operator", "UTF-8"),
    ],
)
def test_a_bad_rate_file_is_refused_and_changes_nothing(
    world: World, body: bytes, kind: str, problem: str
) -> None:
    client = world.client()
    refused = _load(client, world, body, kind)
    assert problem in assert_problem(refused, 422, "validation-failed")["detail"]
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FxPublishedRate)) == 0
        assert organization.manual_rates(s, "VND", dt.date(2030, 1, 1)) == []


def test_only_an_operator_loads_rates_or_reads_their_status(world: World) -> None:
    client = world.client()
    assert_problem(
        _load(client, world, _ecb_csv(dt.date(2027, 1, 4), "1", "8", "1.4"), who="seller_a"), 403, "forbidden"
    )
    assert client.get(f"{API}/fx/status", headers=world.auth("buyer_a")).status_code == 403


def test_status_and_health_say_which_currencies_are_stale(world: World) -> None:
    day = dt.date(2027, 6, 1)
    _at(world, day)
    client = world.client()
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    status = {s["currency"]: s for s in client.get(f"{API}/fx/status", headers=world.auth("operator")).json()}
    assert set(status) == {"CNY", "SGD", "USD"}
    assert status["USD"] == {
        "currency": "USD",
        "newest": BUNDLED_NEWEST.isoformat(),
        "source": "ECB",
        "age_days": (day - BUNDLED_NEWEST).days,
        "stale": True,
    }
    ctx.stale_currencies = refresh_rates(ctx)
    assert client.get("/healthz").json()["warnings"] == ["stale FX rates: CNY, SGD, USD"]
    _load(client, world, _ecb_csv(day, "1.2", "8.4", "1.5"))
    ctx.stale_currencies = refresh_rates(ctx)
    assert client.get("/healthz").json()["warnings"] == []


def test_status_on_a_day_before_the_newest_rates_gives_the_age_of_the_rate_that_day_uses(
    world: World,
) -> None:
    """With the clock before the newest rates held (a replay, a test world), a rate dated later says nothing
    of that day: the status names the newest on or before it, never a negative age."""
    day = dt.date(2025, 11, 11)  # a Tuesday: the ECB's newest rate on or before it is that day's or earlier
    _at(world, day)
    client = world.client()
    status = client.get(f"{API}/fx/status", headers=world.auth("operator")).json()
    for currency in status:
        assert currency["age_days"] is not None and 0 <= currency["age_days"] <= 4, currency
        assert dt.date.fromisoformat(currency["newest"]) <= day, currency
    assert not any(c["stale"] for c in status)


def test_rates_loaded_through_one_server_reach_another(world: World) -> None:
    day = dt.date(2027, 6, 1)
    _at(world, day)
    loading, other = world.client(), world.client()
    _load(loading, world, _ecb_csv(day, "1.2", "8.4", "1.5"))
    before = place_ok(other, world, ("seller_a_red", 1))
    assert before["fx"]["provisional"] is True  # the other server has not looked yet
    refresh_rates(other.app.state.ctx)  # type: ignore[attr-defined]
    after = place_ok(other, world, ("seller_a_red", 1))
    assert (after["fx"]["provisional"], after["fx"]["rate_date"]) == (False, day.isoformat())
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Order).where(Order.fx_provisional)) == 1


def test_a_new_rate_never_reaches_the_rates_of_another_database(world: World) -> None:
    _at(world, dt.date(2027, 6, 1))
    client = world.client()
    _load(client, world, _ecb_csv(dt.date(2027, 6, 1), "1.2", "8.4", "1.5"))
    assert load_ecb().newest_day("USD") == BUNDLED_NEWEST
