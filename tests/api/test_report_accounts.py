"""Group accounts over HTTP: Ant Group as a 33 % equity-method investee recorded a quarter in arrears,
imported results (JSON and CSV) marked external, impairments and ownership changes dated; segment results
with every figure's source; Cainiao's revenue abroad; programmes by category. Bad input is a problem and
writes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem, field_errors
from tests.world import World


def _scenario(client: TestClient, world: World) -> None:
    response = client.post(f"{API}/reports/scenarios/group-facts", headers=world.auth("operator"))
    assert response.status_code == 201, response.text


def _get(client: TestClient, world: World, path: str, **params: str) -> Any:
    response = client.get(f"{API}{path}", params=params, headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    return response.json()


def test_ant_is_a_33_percent_investee_without_sourced_results(world: World) -> None:
    client = world.client()
    _scenario(client, world)
    [ant] = _get(client, world, "/reports/investees")
    assert (ant["code"], ant["lag_quarters"], ant["results"]) == ("ant-group", 1, 0)
    assert [s["share"] for s in ant["stakes"]] == ["0.33"]
    share = _get(client, world, "/reports/investees/share", period="FY2022")
    assert [(r["recorded_in"], r["results_of"]) for r in share["rows"]] == [
        ("FY2022Q1", "FY2021Q4"),
        ("FY2022Q2", "FY2022Q1"),
        ("FY2022Q3", "FY2022Q2"),
        ("FY2022Q4", "FY2022Q3"),
    ]
    assert all(r["group_share"] is None and "not sourced" in r["source"] for r in share["rows"])
    assert {r["share_pct"] for r in share["rows"]} == {"33"}


def test_a_result_is_recorded_a_quarter_later_at_the_stake_then_less_impairments(world: World) -> None:
    client = world.client()
    _scenario(client, world)
    headers = world.auth("operator")
    result = {"period": "FY2022Q2", "currency": "CNY", "net_income": "1000.01", "source": "test figure"}
    assert (
        client.post(f"{API}/reports/investees/ant-group/results", json=result, headers=headers).status_code
        == 201
    )
    stake = {"share": "0.5", "valid_from": "2021-10-01", "source": "test change"}
    assert (
        client.post(f"{API}/reports/investees/ant-group/stakes", json=stake, headers=headers).status_code
        == 201
    )
    impairment = {"on": "2021-11-30", "currency": "CNY", "amount": "10", "source": "test impairment"}
    response = client.post(f"{API}/reports/investees/ant-group/impairments", json=impairment, headers=headers)
    assert response.status_code == 201, response.text
    rows = {
        r["recorded_in"]: r
        for r in _get(client, world, "/reports/investees/share", period="FY2022Q3")["rows"]
    }
    row = rows["FY2022Q3"]
    # Jul-Sep 2021 earned at 33 % (the change of 1 Oct comes after), recorded in the Dec-2021 quarter
    assert (row["results_of"], row["share_pct"], row["group_share"]) == ("FY2022Q2", "33", "330.00")
    assert (row["impairment"], row["share_of_results"]) == ("10.00", "320.00")
    assert row["source"].startswith("external: test figure")


def test_results_by_csv_all_or_nothing(world: World) -> None:
    client = world.client()
    _scenario(client, world)
    headers = {**world.auth("operator"), "content-type": "text/csv"}
    good = "investee,period,currency,net_income,source\nant-group,FY2022Q1,CNY,-5,loss\n"
    bad = good + "ant-group,FY2022Q2,USD,5,wrong currency\n"
    problem = assert_problem(
        client.post(f"{API}/reports/investee-results", content=bad, headers=headers), 422, "validation-failed"
    )
    assert list(field_errors(problem)) == ["line 3.currency"]
    assert _get(client, world, "/reports/investees")[0]["results"] == 0
    response = client.post(f"{API}/reports/investee-results", content=good, headers=headers)
    assert response.json() == {"imported": 1}


def test_bad_investee_input_is_a_problem(world: World) -> None:
    client = world.client()
    headers = world.auth("operator")
    body = {
        "code": "x",
        "name": "X",
        "currency": "CNY",
        "lag_quarters": 9,
        "share": "1.5",
        "valid_from": "2020-01-01",
        "source": "s",
    }
    problem = assert_problem(
        client.post(f"{API}/reports/investees", json=body, headers=headers), 422, "validation-failed"
    )
    assert {"lag_quarters", "share"} <= set(field_errors(problem))
    assert_problem(
        client.post(
            f"{API}/reports/investees/nope/results",
            json={"period": "FY2022Q1", "currency": "CNY", "net_income": "1", "source": "s"},
            headers=headers,
        ),
        404,
        "not-found",
    )
    assert_problem(client.get(f"{API}/reports/investees", headers=world.auth("seller_a")), 403, "forbidden")
    assert _get(client, world, "/reports/investees") == []


def test_segment_results_label_every_figure_and_reconcile(world: World) -> None:
    client = world.client()
    _scenario(client, world)
    report = _get(client, world, "/reports/segment-results", period="FY2022Q3")
    rows = {r["segment"]: r for r in report["rows"]}
    assert rows["china-commerce"]["revenue"] == "172226000000.00"
    assert rows["cloud"]["revenue_source"].startswith("external")
    assert (
        rows["cainiao-segment"]["revenue"] is None
        and "not sourced" in rows["cainiao-segment"]["revenue_source"]
    )
    assert rows["total"]["revenue"] == "242580000000.00"
    assert rows["other"]["revenue"] == "22225000000.00"  # 242,580 less the four published segments
    assert all(r["adjusted_ebita_source"] for r in report["rows"])
    assert "Ant Group" in rows["equity-method-investees"]["adjusted_ebita_source"]
    before = _get(client, world, "/reports/segment-results", period="FY2022Q2", view="as-reported")
    assert "core-commerce" in {r["segment"] for r in before["rows"]}


def test_cainiao_abroad_reproduces_the_published_57_percent(world: World) -> None:
    client = world.client()
    _scenario(client, world)
    rows = _get(client, world, "/reports/cainiao-abroad", period="LTM2021-09")["rows"]
    assert rows[0]["abroad_pct"] == "57" and rows[0]["source"].startswith("external: investor day")
    assert rows[1]["source"].startswith("platform")


def test_programmes_by_category_with_social_flag(world: World) -> None:
    client = world.client()
    _scenario(client, world)
    headers = world.auth("operator")
    body = {
        "code": "tech-cn",
        "name": "Tech",
        "category": "technology",
        "countries": ["CN"],
        "source": "test",
    }
    assert client.post(f"{API}/reports/programmes", json=body, headers=headers).status_code == 201
    spend = {"period": "FY2022", "currency": "CNY", "committed": "100", "spent": "40", "source": "test"}
    assert (
        client.post(f"{API}/reports/programmes/tech-cn/spend", json=spend, headers=headers).status_code == 201
    )
    rows = {r["programme"]: r for r in _get(client, world, "/reports/programmes", period="FY2022")["rows"]}
    assert rows["rural-revitalisation-cn"]["social"] is True
    assert rows["ageing-population-cn"]["category"] == "ageing-population"
    assert (rows["tech-cn"]["social"], rows["tech-cn"]["spent"]) == (False, "40.00")
    bad = {**body, "code": "x1", "category": "charity"}
    problem = assert_problem(
        client.post(f"{API}/reports/programmes", json=bad, headers=headers), 422, "validation-failed"
    )
    assert list(field_errors(problem)) == ["category"]
