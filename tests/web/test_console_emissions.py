"""The emissions page (operators everything, a seller its own shipments, buyers and carriers 403, as GET
/api/v1/emissions/*): the monthly chart and the breakdowns by mode, division and market are the API's
figures; an operator's target drawn as its pathway to -50 % by FY2030 against the actuals, as GET
/emissions/targets/{id}/progress answers; a bad period beside its field; a fixed number of statements."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.logistics import service as logistics
from tests.api.helpers import API
from tests.api.test_emissions_api import network, ship
from tests.statements import count_statements
from tests.web.conftest import console_as
from tests.world import World


@pytest.fixture
def client(world: World) -> TestClient:
    with world.db.transaction() as session:
        logistics.store_network(session, network())
    return world.client()


def _api(client: TestClient, world: World, path: str, who: str = "operator", **params: Any) -> Any:
    response = client.get(f"{API}{path}", params=params, headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def _chart(page: str, chart_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, re.S)
    assert found, page
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


def test_breakdowns_and_the_monthly_chart_are_the_apis(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    ship(client, world, "seller_a_blue", "console-emis-1")
    ship(client, world, "seller_a_red", "console-emis-2")
    page = console_as(world, "ops").get("/emissions?period=FY2026")
    assert page.status_code == 200, page.text
    for by in ("mode", "division", "market"):
        rows = _api(client, world, "/emissions/report", period="FY2026", by=by)["rows"]
        assert rows, by
        for row in rows:
            key = row["key"].replace("_", " ").replace("-", " ")  # as the words filter prints it
            shown = re.search(rf'<th scope="row">{key}</th>\s*<td class="num">([^<]+)', page.text)
            assert shown and shown.group(1) == f"{row['wtw_kg']:,.3f}", (by, row)
    series = _api(client, world, "/emissions/series", period="FY2026", by="mode")["points"]
    spec = _chart(page.text, "emissions-monthly")
    assert spec["categories"] == sorted({p["month"] for p in series})
    drawn = sum(v for s in spec["series"] for v in s["values"] if v is not None)
    assert drawn == pytest.approx(sum(p["wtw_kg"] for p in series))


def test_an_operators_target_is_drawn_against_its_pathway(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    ship(client, world, "seller_a_blue", "console-emis-3")
    created = client.post(
        f"{API}/emissions/targets",
        json={"name": "halve intensity", "metric": "g_per_tkm", "baseline_value": 1000.0},
        headers=world.auth("operator"),
    ).json()
    progress = _api(client, world, f"/emissions/targets/{created['id']}/progress")
    spec = _chart(console_as(world, "ops").get("/emissions").text, "emissions-pathway")
    assert (
        spec["categories"] == [y["fiscal_year"] for y in progress["years"]]
        and spec["categories"][-1] == "FY2030"
    )
    pathway, actual = spec["series"]
    assert pathway["values"] == pytest.approx([y["pathway"] for y in progress["years"]])
    assert actual["values"] == [y["actual"] for y in progress["years"]]
    assert spec["levels"] == [{"name": "Target FY2030", "value": 500.0}]


def test_sellers_see_their_own_and_buyers_and_carriers_are_refused(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    ship(client, world, "seller_a_blue", "console-emis-4")
    mine = console_as(world, "seller-a").get("/emissions?period=FY2026").text
    theirs = console_as(world, "seller-b").get("/emissions?period=FY2026").text
    api_total = _api(client, world, "/emissions/report", who="seller_a", period="FY2026")["total"]
    assert f"{api_total['wtw_kg']:,.3f} kg CO2e" in mine and "over 0 parcels" in theirs
    assert "Pathway to the target" not in mine  # targets are operators' (GET /emissions/targets)
    assert 'href="/emissions"' in mine
    for name, key in (("buyer-a", "buyer_a"), ("courier", None)):
        if key:
            assert (
                client.get(f"{API}/emissions/report?period=FY2026", headers=world.auth(key)).status_code
                == 403
            )
        console = console_as(world, name)
        assert console.get("/emissions").status_code == 403
        assert 'href="/emissions"' not in console.get("/organisation").text


def test_a_bad_period_is_shown_beside_its_field(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    problem = client.get(f"{API}/emissions/report?period=FY20X", headers=world.auth("operator")).json()
    page = console_as(world, "ops").get("/emissions?period=FY20X")
    assert page.status_code == 422
    [error] = problem["errors"]
    assert error["field"] == "period" and error["message"] in page.text.replace("&#39;", "'")
    assert 'value="FY20X" aria-invalid="true"' in page.text


def test_the_page_costs_the_same_for_few_and_many_shipments(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    client.post(
        f"{API}/emissions/targets",
        json={"name": "abs", "baseline_value": 1.0},
        headers=world.auth("operator"),
    )
    ship(client, world, "seller_a_blue", "console-emis-5")
    console = console_as(world, "ops")

    def statements() -> int:
        assert console.get("/emissions?period=FY2026").status_code == 200
        with count_statements(world.db.engine) as seen:
            assert console.get("/emissions?period=FY2026").status_code == 200
        return len(seen)

    few = statements()
    for n in range(3):
        ship(client, world, "seller_a_red", f"console-emis-more-{n}")
    assert statements() == few


def test_a_year_without_orders_opens_on_the_latest_year_with_them(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    ship(client, world, "seller_a_blue", "console-emis-late")  # shipped 2025-11-11: FY2026
    world.clock.advance(days=400)  # FY2027, no order in it
    page = console_as(world, "ops").get("/emissions").text
    assert "No orders in FY2027 yet: showing FY2026, the latest fiscal year with orders." in page
    assert 'name="period" type="text" value="FY2026"' in page and "No shipments in the period." not in page
    asked = console_as(world, "ops").get("/emissions?period=FY2027").text
    assert "the latest fiscal year with orders" not in asked and "No shipments in the period." in asked
