"""The audit trail for peak-day campaigns and the group's reporting (platform.audit): each change an operator
or a seller makes to a flash sale, a group buy, a livestream session or drop, a GMV definition, guidance, an
investee (registered, stake, impairment, result, results imported) or a programme leaves exactly one entry
with who, what, before and after, written in the change's own transaction; a refused change leaves none.
On SQLite and PostgreSQL (the world fixture)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem
from tests.api.test_audit import _audit, _entries, _key_of
from tests.world import T0, World

Request = Callable[[], httpx.Response]


def one_entry(world: World, request: Request, status: int) -> dict[str, Any]:
    """Make the request; it must answer `status` and leave exactly one entry, which is returned."""
    before = _entries(world)
    answer = request()
    assert answer.status_code == status, answer.text
    assert _entries(world) == before + 1
    [entry] = _audit(world, limit=1)
    return entry


def no_entry(world: World, request: Request, status: int, problem: str) -> None:
    before = _entries(world)
    assert_problem(request(), status, problem)
    assert _entries(world) == before


def _actor(world: World, who: str) -> dict[str, Any]:
    seller = world.ids["seller_a"] if who == "seller_a" else None
    return {
        "role": "seller" if who == "seller_a" else "operator",
        "key": _key_of(world, who),
        "seller": seller,
    }


def _post(client: TestClient, world: World, path: str, body: Any = None, who: str = "operator") -> Request:
    return lambda: client.post(f"{API}{path}", json=body, headers=world.auth(who))


# --- campaigns -------------------------------------------------------------------------------------


def _sale(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "sale_price_minor": 990,
        "stock": 3,
        "per_buyer_limit": 2,
        "starts_at": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
        "reservation_ttl_seconds": 60,
        **overrides,
    }


def test_a_flash_sale_made_by_a_seller_is_one_entry(world: World) -> None:
    client = world.client()
    entry = one_entry(world, _post(client, world, "/flash-sales", _sale(world), "seller_a"), 201)
    assert entry["action"] == "flash_sale.created" and entry["actor"] == _actor(world, "seller_a")
    assert entry["subject"].startswith("fls_") and entry["before"] is None
    assert entry["after"]["sale_price_minor"] == 990 and entry["after"]["stock"] == 3
    assert entry["after"]["sku"] == world.ids["seller_a_red"] and entry["after"]["currency"] == "SGD"
    bad = _sale(world, stock=0)
    no_entry(world, _post(client, world, "/flash-sales", bad, "seller_a"), 422, "validation-failed")
    no_entry(world, _post(client, world, "/flash-sales", _sale(world), "buyer_a"), 403, "forbidden")


def _group_buy(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 1290,
        "team_size": 3,
        "team_window_seconds": 3600,
        "stock": 6,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(days=1)).isoformat(),
        **overrides,
    }


def test_a_group_buy_made_by_an_operator_is_one_entry(world: World) -> None:
    client = world.client()
    entry = one_entry(world, _post(client, world, "/group-buys", _group_buy(world)), 201)
    assert entry["action"] == "group_buy.created" and entry["actor"] == _actor(world, "operator")
    assert entry["subject"].startswith("grp_") and entry["before"] is None
    assert (entry["after"]["team_size"], entry["after"]["team_price_minor"]) == (3, 1290)
    bad = _group_buy(world, team_size=1)
    no_entry(world, _post(client, world, "/group-buys", bad), 422, "validation-failed")


def test_a_livestream_is_one_entry_per_change_from_start_to_end(world: World) -> None:
    client = world.client()
    show = {"market": "lazada-sg", "host": "Ana", "title": "Phone cases"}
    started = one_entry(world, _post(client, world, "/live-sessions", show, "seller_a"), 201)
    ref = started["subject"]
    assert started["action"] == "live_session.started" and started["actor"] == _actor(world, "seller_a")
    assert started["after"] == {**show, "status": "live"}

    drop = {"sku": world.ids["seller_a_red"], "sale_price_minor": 500, "stock": 2, "per_buyer_limit": 1}
    added = [one_entry(world, _post(client, world, f"/live-sessions/{ref}/drops", drop, "seller_a"), 201)]
    added.append(one_entry(world, _post(client, world, f"/live-sessions/{ref}/drops", drop, "seller_a"), 201))
    first, second = (entry["subject"] for entry in added)
    assert added[0]["action"] == "live_drop.added" and added[0]["after"]["session"] == ref
    assert [entry["after"]["position"] for entry in added] == [1, 2]

    # opening makes a flash sale: still one change, one entry, naming the sale
    opened = one_entry(world, _post(client, world, f"/live-sessions/{ref}/drops/{first}/open"), 200)
    assert (opened["action"], opened["subject"], opened["actor"]) == (
        "live_drop.opened",
        first,
        _actor(world, "operator"),
    )
    assert opened["before"] == {"status": "queued"} and opened["after"]["sale"].startswith("fls_")
    closed = one_entry(world, _post(client, world, f"/live-sessions/{ref}/drops/{first}/close"), 200)
    assert (closed["action"], closed["before"], closed["after"]) == (
        "live_drop.closed",
        {"status": "open"},
        {"status": "closed"},
    )
    # refused: another seller's session (404, as the API answers), a closed drop opened again (409)
    other = _post(client, world, f"/live-sessions/{ref}/drops/{second}/open", who="seller_b")
    no_entry(world, other, 404, "not-found")
    no_entry(world, _post(client, world, f"/live-sessions/{ref}/drops/{first}/open"), 409, "drop-not-queued")

    one_entry(world, _post(client, world, f"/live-sessions/{ref}/drops/{second}/open"), 200)
    ended = one_entry(world, _post(client, world, f"/live-sessions/{ref}/end", who="seller_a"), 200)
    assert (ended["action"], ended["subject"]) == ("live_session.ended", ref)
    assert ended["before"] == {"status": "live", "open_drops": [second]}
    assert ended["after"] == {"status": "ended", "closed_drops": [second]}
    no_entry(world, _post(client, world, f"/live-sessions/{ref}/end", who="seller_a"), 409, "session-ended")


# --- reporting -------------------------------------------------------------------------------------


def _reporting(world: World, tmp_path: Any) -> TestClient:
    return world.client(reporting_snapshot_dir=str(tmp_path / "snapshot"), run_relay=False)


def test_a_gmv_definition_change_shows_the_one_it_replaced(world: World, tmp_path: Any) -> None:
    client = _reporting(world, tmp_path)

    def put(definition: str) -> Request:
        body = {"definition": definition}
        url = f"{API}/reports/gmv-definitions/lazada"
        return lambda: client.put(url, json=body, headers=world.auth("operator"))

    first = one_entry(world, put("paid-gross"), 200)
    assert (first["action"], first["subject"], first["before"]) == ("gmv_definition.set", "lazada", None)
    second = one_entry(world, put("confirmed-gross"), 200)
    assert second["before"] == {"definition": "paid-gross"}
    assert second["after"] == {"definition": "confirmed-gross"}
    no_entry(world, put("bogus"), 422, "validation-failed")


def test_guidance_issued_again_shows_the_band_it_revised(world: World, tmp_path: Any) -> None:
    client = _reporting(world, tmp_path)
    band = {
        "scope": "lazada",
        "period": "FY2022",
        "low_pct": "20",
        "high_pct": "23",
        "issued_on": "2021-05-13",
    }
    first = one_entry(world, _post(client, world, "/reports/guidance", band), 201)
    assert (first["action"], first["subject"], first["before"]) == (
        "guidance.issued",
        "revenue/lazada/FY2022",
        None,
    )
    revised = {**band, "low_pct": "18", "high_pct": "21", "issued_on": "2021-11-18"}
    second = one_entry(world, _post(client, world, "/reports/guidance", revised), 201)
    assert second["before"] == {"low_pct": "20", "high_pct": "23", "issued_on": "2021-05-13"}
    assert (second["after"]["low_pct"], second["after"]["high_pct"]) == ("18", "21")
    upside_down = {**band, "low_pct": "30", "issued_on": "2021-12-01"}
    no_entry(world, _post(client, world, "/reports/guidance", upside_down), 422, "validation-failed")


def test_an_investees_changes_are_one_entry_each(world: World, tmp_path: Any) -> None:
    client = _reporting(world, tmp_path)
    investee = {
        "code": "ant-group",
        "name": "Ant Group",
        "currency": "CNY",
        "lag_quarters": 1,
        "share": "0.33",
        "valid_from": "2021-04-01",
        "source": "filing",
    }
    made = one_entry(world, _post(client, world, "/reports/investees", investee), 201)
    assert (made["action"], made["subject"], made["before"]) == ("investee.created", "ant-group", None)
    assert made["after"]["stake"] == {"share": "0.33", "valid_from": "2021-04-01", "source": "filing"}

    stakes = "/reports/investees/ant-group/stakes"
    same_day = {"share": "0.32", "valid_from": "2021-04-01", "source": "restated"}
    restated = one_entry(world, _post(client, world, stakes, same_day), 201)
    assert restated["action"] == "investee_stake.set"
    assert restated["before"] == {"share": "0.33", "valid_from": "2021-04-01", "source": "filing"}
    assert restated["after"] == same_day
    no_entry(world, _post(client, world, stakes, {**same_day, "share": "1.5"}), 422, "validation-failed")

    impairment = {"on": "2021-11-30", "currency": "CNY", "amount": "10", "source": "test"}
    impaired = one_entry(
        world, _post(client, world, "/reports/investees/ant-group/impairments", impairment), 201
    )
    assert impaired["action"] == "investee_impairment.added"
    assert (impaired["after"]["amount_minor"], impaired["after"]["currency"]) == (1000, "CNY")
    wrong_currency = {**impairment, "currency": "USD"}
    no_entry(
        world,
        _post(client, world, "/reports/investees/ant-group/impairments", wrong_currency),
        422,
        "validation-failed",
    )

    results = "/reports/investees/ant-group/results"
    result = {"period": "FY2022Q2", "currency": "CNY", "net_income": "1000.01", "source": "first"}
    first = one_entry(world, _post(client, world, results, result), 201)
    assert (first["action"], first["subject"], first["before"]) == (
        "investee_result.recorded",
        "ant-group/FY2022Q2",
        None,
    )
    second = one_entry(
        world, _post(client, world, results, {**result, "net_income": "5", "source": "again"}), 201
    )
    assert second["before"] == {"net_income_minor": 100001, "currency": "CNY", "source": "first"}
    assert second["after"] == {"net_income_minor": 500, "currency": "CNY", "source": "again"}


def test_a_results_import_is_one_entry_and_a_refused_file_none(world: World, tmp_path: Any) -> None:
    client = _reporting(world, tmp_path)
    investee = {
        "code": "ant-group",
        "name": "Ant Group",
        "currency": "CNY",
        "lag_quarters": 1,
        "share": "0.33",
        "valid_from": "2021-04-01",
        "source": "filing",
    }
    assert (
        client.post(f"{API}/reports/investees", json=investee, headers=world.auth("operator")).status_code
        == 201
    )
    headers = {**world.auth("operator"), "content-type": "text/csv"}
    good = (
        "investee,period,currency,net_income,source\n"
        "ant-group,FY2022Q1,CNY,-5,loss\nant-group,FY2022Q2,CNY,7,x\n"
    )

    def send(text: str) -> Request:
        return lambda: client.post(f"{API}/reports/investee-results", content=text, headers=headers)

    no_entry(world, send(good + "ant-group,FY2022Q3,USD,5,wrong currency\n"), 422, "validation-failed")
    imported = one_entry(world, send(good), 201)
    assert (imported["action"], imported["actor"]) == ("investee_results.imported", _actor(world, "operator"))
    assert imported["after"] == {
        "rows": 2,
        "replaced": 0,
        "investees": ["ant-group"],
        "periods": ["FY2022Q1", "FY2022Q2"],
    }
    assert one_entry(world, send(good), 201)["after"]["replaced"] == 2


def test_a_programme_and_its_spend_are_one_entry_each(world: World, tmp_path: Any) -> None:
    client = _reporting(world, tmp_path)
    body = {
        "code": "tech-cn",
        "name": "Tech",
        "category": "technology",
        "countries": ["CN"],
        "source": "test",
    }
    made = one_entry(world, _post(client, world, "/reports/programmes", body), 201)
    assert (made["action"], made["subject"], made["before"]) == ("programme.created", "tech-cn", None)
    assert made["after"] == {"name": "Tech", "category": "technology", "countries": "CN", "source": "test"}
    no_entry(
        world,
        _post(client, world, "/reports/programmes", {**body, "code": "x1", "category": "charity"}),
        422,
        "validation-failed",
    )
    spend = {"period": "FY2022", "currency": "CNY", "committed": "100", "spent": "40", "source": "test"}
    first = one_entry(world, _post(client, world, "/reports/programmes/tech-cn/spend", spend), 201)
    assert (first["action"], first["subject"], first["before"]) == (
        "programme_spend.recorded",
        "tech-cn/FY2022",
        None,
    )
    again = one_entry(
        world, _post(client, world, "/reports/programmes/tech-cn/spend", {**spend, "spent": "60"}), 201
    )
    assert again["before"]["spent_minor"] == 4000 and again["after"]["spent_minor"] == 6000
    negative = {**spend, "spent": "-1"}
    no_entry(
        world, _post(client, world, "/reports/programmes/tech-cn/spend", negative), 422, "validation-failed"
    )


def test_an_import_of_published_actuals_is_one_entry_and_a_refused_file_none(
    world: World, tmp_path: Any
) -> None:
    client = _reporting(world, tmp_path)
    headers = {**world.auth("operator"), "Content-Type": "text/csv"}
    good = "metric,scope,period,currency,value,source\ngmv,lazada,FY2025,SGD,1234.5,annual report\n"

    def send(text: str) -> Request:
        return lambda: client.post(f"{API}/reports/external-actuals", content=text, headers=headers)

    no_entry(world, send(good + "gmv,nowhere,FY2025,SGD,1,no such unit\n"), 422, "validation-failed")
    entry = one_entry(world, send(good), 201)
    assert (entry["action"], entry["subject"], entry["before"]) == (
        "actuals.imported",
        "external_actuals",
        None,
    )
    assert entry["after"] == {"rows": 1, "metrics": ["gmv"], "scopes": ["lazada"], "periods": ["FY2025"]}
