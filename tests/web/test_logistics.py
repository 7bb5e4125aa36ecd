"""The logistics pages: the network map (operators and carriers, others 403), the route planner (the
API's own planning: the same options, the same refusals beside the form's fields), shipments and
customs holds seen through the principal's eyes as GET /api/v1/shipments/{id} sees them (a carrier
only the shipments it carries a leg of: another's is 404 in the console as in the API)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Lane, Network
from tests.api import test_emissions_api as emissions_api
from tests.api.helpers import API
from tests.api.test_emissions_api import LANES, ship
from tests.statements import count_statements
from tests.web.conftest import console_as
from tests.world import World

READY = "2026-03-02T09:00"


def _network() -> Network:
    """The emissions tests' network with its flight run by DHL (the console's carrier user), the
    trucks and vans by someone else."""
    plain = emissions_api.network()
    net = Network()
    for node in plain.nodes.values():
        net.add_node(node)
    for code, a, b, mode, vehicle, km, rule in LANES:
        carrier = "DHL" if mode == "air" else "test"
        net.add_lane(Lane(code, a, b, mode, vehicle, carrier, km, 120, 100, 50, 30.0, 1000.0, None, rule))
    return net


@pytest.fixture
def client(world: World) -> TestClient:
    with world.db.transaction() as session:
        logistics.store_network(session, _network())
    logistics.forget_network()
    return world.client()


@pytest.fixture
def shipments(world: World, people: dict[str, str], client: TestClient) -> dict[str, str]:
    """seller_a's blue from Hangzhou (flown: DHL carries it), its red from Tuas (trucks only)."""
    return {
        "flown": ship(client, world, "seller_a_blue", "logi-flown"),
        "trucked": ship(client, world, "seller_a_red", "logi-trucked"),
    }


def _spec(page: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{element_id}-data">(.*?)</script>', page, re.S)
    assert found, page
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


def _carrier_key(client: TestClient, world: World) -> dict[str, str]:
    body = {"role": "carrier", "name": "dhl-scanner", "carrier": "DHL"}
    made = client.post(f"{API}/api-keys", json=body, headers=world.auth("operator"))
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['key']}"}


def test_the_network_map_draws_nodes_by_kind_and_lanes_by_mode(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    page = console_as(world, "ops").get("/logistics")
    assert page.status_code == 200, page.text
    spec = _spec(page.text, "network")
    assert {p["id"] for p in spec["points"]} == set(_network().nodes)
    kinds = {"fulfilment_warehouse", "sortation_hub", "delivery_station", "airport"}
    assert set(spec["point_groups"]) == kinds == {p["group"] for p in spec["points"]}
    joined = {(tuple(line["stops"]), line["group"]) for line in spec["lines"]}
    assert (("air-HGH", "air-SIN"), "air") in joined and len(joined) == len(LANES)
    assert 'aria-label="Lanes by transport mode"' in page.text
    air = console_as(world, "ops").get("/logistics?mode=air")
    assert [line["stops"] for line in _spec(air.text, "network")["lines"]] == [["air-HGH", "air-SIN"]]
    assert "The logistics network: connections" in air.text  # listed once narrowed


@pytest.mark.parametrize(("who", "status"), [("courier", 200), ("seller-a", 403), ("buyer-a", 403)])
def test_the_network_is_for_operators_and_carriers(
    world: World, people: dict[str, str], client: TestClient, who: str, status: int
) -> None:
    assert console_as(world, who).get("/logistics").status_code == status


def test_the_planner_shows_the_apis_pareto_options(
    world: World, people: dict[str, str], client: TestClient
) -> None:
    query = {"origin": "cn-hangzhou", "destination": "ds-sg-central", "weight_kg": "2", "ready_at": READY}
    page = console_as(world, "ops").get("/logistics/routes", params=query)
    assert page.status_code == 200, page.text
    body = {**query, "weight_kg": 2.0, "ready_at": READY + ":00Z"}
    answer = client.post(f"{API}/logistics/routes", json=body, headers=world.auth("operator")).json()
    assert answer["pareto"]
    spec = _spec(page.text, "route-options")
    assert spec["kind"] == "scatter"
    drawn = [(p["x"], p["y"], p["value"]) for p in spec["points"]]
    expected = [(r["days"], r["cost_cents"] / 100, r["emissions_g"] / 1000) for r in answer["pareto"]]
    assert drawn == expected
    assert page.text.count('<th scope="row">Option ') >= 2 * len(
        expected
    )  # the chart's table and the options'
    paths = _spec(page.text, "route-paths")
    assert [line["stops"][0] for line in paths["lines"]] == ["cn-hangzhou"] * len(expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"origin": "cn-hangzhou", "destination": "ds-sg-central", "weight_kg": "heavy"}, "weight_kg"),
        ({"origin": "cn-hangzhou", "destination": "ds-sg-central", "weight_kg": "0"}, "weight_kg"),
        ({"origin": "atlantis", "destination": "ds-sg-central", "weight_kg": "1"}, "origin"),
        (
            {
                "origin": "cn-hangzhou",
                "destination": "ds-sg-central",
                "weight_kg": "1",
                "ready_at": "1999-01-01T00:00",
            },
            "ready_at",
        ),
        ({"origin": "HGH", "destination": "ds-sg-central", "weight_kg": "1", "ready_at": "soon"}, "ready_at"),
    ],
)
def test_bad_planner_input_is_shown_beside_its_field(
    world: World, people: dict[str, str], client: TestClient, query: dict[str, str], field: str
) -> None:
    page = console_as(world, "ops").get("/logistics/routes", params=query)
    assert page.status_code == 422, page.text
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page.text), page.text
    assert 'id="route-options-data"' not in page.text


def test_each_role_lists_the_shipments_it_sees(
    world: World, people: dict[str, str], client: TestClient, shipments: dict[str, str]
) -> None:
    def listed(who: str) -> set[str]:
        page = console_as(world, who).get("/logistics/shipments")
        assert page.status_code == 200, page.text
        return set(re.findall(r'href="/logistics/shipments/([^"]+)"', page.text))

    assert listed("ops") == set(shipments.values())
    assert listed("courier") == {shipments["flown"]}  # DHL flies one, carries nothing of the other
    assert listed("seller-a") == set(shipments.values())
    assert listed("seller-b") == set()
    assert console_as(world, "buyer-a").get("/logistics/shipments").status_code == 403
    narrowed = console_as(world, "ops").get("/logistics/shipments", params={"origin": "sg-tuas"})
    assert set(re.findall(r'href="/logistics/shipments/([^"]+)"', narrowed.text)) == {shipments["trucked"]}


def test_a_shipment_page_answers_as_the_api_does(
    world: World, people: dict[str, str], client: TestClient, shipments: dict[str, str]
) -> None:
    keys = {
        "ops": world.auth("operator"),
        "courier": _carrier_key(client, world),
        "seller-a": world.auth("seller_a"),
        "seller-b": world.auth("seller_b"),
        "buyer-a": world.auth("buyer_a"),
        "buyer-b": world.auth("buyer_b"),
    }
    for who, key in keys.items():
        browser = console_as(world, who)
        for shipment in [*shipments.values(), "shp_unknown"]:
            api = client.get(f"{API}/shipments/{shipment}", headers=key).status_code
            console = browser.get(f"/logistics/shipments/{shipment}").status_code
            assert console == api, (who, shipment, console, api)
    assert client.get(f"{API}/shipments/{shipments['trucked']}", headers=keys["courier"]).status_code == 404
    page = console_as(world, "courier").get(f"/logistics/shipments/{shipments['flown']}")
    route = _spec(page.text, f"route-{shipments['flown']}")
    assert [line["stops"] for line in route["lines"]][:2] == [
        ["cn-hangzhou", "air-HGH"],
        ["air-HGH", "air-SIN"],
    ]
    assert "label created" in page.text or "No scan yet" in page.text


def test_customs_holds_list_the_held_shipments(
    world: World, people: dict[str, str], client: TestClient, shipments: dict[str, str]
) -> None:
    flown = shipments["flown"]
    scans = [
        ("picked_up", "cn-hangzhou"),
        ("departed", "air-HGH"),
        ("arrived", "air-SIN"),
        ("customs_held", "air-SIN"),
    ]
    for n, (kind, node) in enumerate(scans):
        occurred = (world.clock() - dt.timedelta(hours=len(scans) - n)).isoformat()
        body = {"event_id": f"logi-{n}", "type": kind, "occurred_at": occurred, "node": node}
        scanned = client.post(f"{API}/shipments/{flown}/scans", json=body, headers=world.auth("operator"))
        assert scanned.status_code == 200, scanned.text
    assert scanned.json()["status"] == "customs_held"
    page = console_as(world, "ops").get("/logistics/customs")
    assert page.status_code == 200, page.text
    assert set(re.findall(r'href="/logistics/shipments/([^"]+)"', page.text)) == {flown}
    assert "air-SIN" in page.text
    assert console_as(world, "seller-b").get("/logistics/customs").text.count("/logistics/shipments/shp") == 0
    assert console_as(world, "buyer-a").get("/logistics/customs").status_code == 403
    page = console_as(world, "ops").get(f"/logistics/shipments/{flown}").text
    timeline = page[page.index('<ol class="timeline">') :]
    assert timeline.index("picked up") < timeline.index("departed") < timeline.index("customs held")


def test_the_lists_read_as_many_statements_for_many_shipments_as_for_few(
    world: World, people: dict[str, str], client: TestClient, shipments: dict[str, str]
) -> None:
    """No statement per shipment: the list, the customs holds and a carrier's list (its lanes come from
    the network the process keeps) cost the same with two shipments as with five."""
    browsers = {who: console_as(world, who) for who in ("ops", "courier")}

    def statements() -> dict[str, int]:
        counted = {}
        for who, path in (
            ("ops", "/logistics/shipments"),
            ("ops", "/logistics/customs"),
            ("courier", "/logistics/shipments"),
        ):
            assert browsers[who].get(path).status_code == 200  # warm: the network, the connection
            with count_statements(world.db.engine) as seen:
                assert browsers[who].get(path).status_code == 200
            counted[f"{who} {path}"] = len(seen)
        return counted

    few = statements()
    for n in range(3):
        ship(client, world, "seller_a_blue" if n % 2 else "seller_a_red", f"logi-more-{n}")
    assert statements() == few
