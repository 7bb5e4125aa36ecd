"""Quotes, route planning and accounting read the same emission factor version (issue 26, item 4): a
stored air leg of 1,428.6 g went to 990.1 g when a table was loaded while checkout's and the planner's
estimates stayed at 1,428.6 g. Here the three follow the load together, and each says which version."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import ProductSpec, SkuSpec
from entrepot.inventory import service as inventory
from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Lane, Network, Node
from entrepot.platform.outbox import relay_once
from tests.api.helpers import API, basket
from tests.world import World

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source"
# one air freight figure for every distance, as some regional tables give it (DESNZ's long-haul value)
FLAT_AIR = f"{HEADER}\nair,freighter,kerosene,531,135,666,test: one figure for every haul\n"
FLIGHT_KM = 1486.6  # short haul: the default's 961 g/tkm, so a 1 kg parcel's leg is 1,428.6 g


def one_way_network() -> Network:
    """Hangzhou to a Singapore delivery station by one freighter: a single route, so every quote, plan and
    shipment takes the same legs."""
    net = Network()
    for code, kind, country, lat, lon, tz in (
        ("cn-hangzhou", "fulfilment_warehouse", "CN", 30.27, 120.15, "Asia/Shanghai"),
        ("air-HGH", "airport", "CN", 30.23, 120.43, "Asia/Shanghai"),
        ("air-SIN", "airport", "SG", 1.36, 103.99, "Asia/Singapore"),
        ("hub-sg", "sortation_hub", "SG", 1.33, 103.85, "Asia/Singapore"),
        ("ds-sg-central", "delivery_station", "SG", 1.30, 103.84, "Asia/Singapore"),
    ):
        net.add_node(Node(code, kind, country, lat, lon, tz))
    for code, a, b, mode, vehicle, km in (
        ("truck-hz-hgh", "cn-hangzhou", "air-HGH", "road", "truck", 40.0),
        ("flight-hgh-sin", "air-HGH", "air-SIN", "air", "freighter", FLIGHT_KM),
        ("truck-sin-hub", "air-SIN", "hub-sg", "road", "truck", 20.0),
        ("van-hub-central", "hub-sg", "ds-sg-central", "last_mile", "van_diesel", 12.0),
    ):
        net.add_lane(Lane(code, a, b, mode, vehicle, "test", km, 120, 100, 50, 30.0, 1000.0))
    return net


@pytest.fixture
def client(world: World) -> TestClient:
    """The network, and a 1 kg SKU stocked in Hangzhou only."""
    with world.db.transaction() as session:
        logistics.store_network(session, one_way_network())
        seller = catalog.get_seller(session, world.ids["seller_a"])
        spec = ProductSpec("seller_a-kettle", "Kettle", "home", "851671", "CN")
        catalog.create_product(
            session, seller, spec, [SkuSpec("seller_a-kettle-1kg", 1000, 200, 200, 250)], world.clock()
        )
        [sku] = [s for s in catalog.seller_skus(session, seller.id) if s.code == "seller_a-kettle-1kg"]
        world.ids["kettle"] = sku.public_id
        catalog.set_price(session, sku, "lazada-sg", 4990, "SGD")
        inventory.set_on_hand(session, sku, inventory.get_warehouse(session, "cn-hangzhou"), 5)
    return world.client()


def flight_of(legs: list[dict[str, Any]]) -> dict[str, Any]:
    [flight] = [leg for leg in legs if leg.get("mode") == "air" or leg.get("origin") == "air-HGH"]
    return flight


def planned(client: TestClient, world: World) -> dict[str, Any]:
    body = {"origin": "cn-hangzhou", "destination": "ds-sg-central", "weight_kg": 1.0}
    response = client.post(f"{API}/logistics/routes", json=body, headers=world.auth("buyer_a"))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def quoted(client: TestClient, world: World) -> dict[str, Any]:
    response = client.post(
        f"{API}/checkout/quote", json=basket(world, ("kettle", 1)), headers=world.auth("buyer_a")
    )
    assert response.status_code == 200, response.text
    [option] = response.json()["delivery_options"]  # one route: one option answers every service level
    return dict(option)


def accounted_flight(client: TestClient, world: World, shipment: str) -> dict[str, Any]:
    stored = client.get(f"{API}/emissions/shipments/{shipment}", headers=world.auth("operator")).json()
    [flight] = [e for e in stored["elements"] if e["kind"] == "leg" and e["origin"] == "air-HGH"]
    return {"version": stored["version"], **flight}


def shipped(client: TestClient, world: World) -> str:
    """A paid order of one kettle; the relay plans its shipment and records its emissions."""
    body = basket(world, ("kettle", 1)) | {"payment_method": "card"}
    placed = client.post(
        f"{API}/orders", json=body, headers={**world.auth("buyer_a"), "Idempotency-Key": "kettle-0001"}
    )
    assert placed.status_code == 201, placed.text
    while relay_once(world.db, world.relay_registry(), world.clock()):
        pass
    listed = client.get(f"{API}/orders/{placed.json()['id']}/shipments", headers=world.auth("operator"))
    [shipment] = listed.json()
    return str(shipment["id"])


def test_a_loaded_table_moves_the_account_the_plan_and_the_quote_together(
    world: World, client: TestClient
) -> None:
    shipment = shipped(client, world)
    assert accounted_flight(client, world, shipment)["wtw_g"] == pytest.approx(1428.6, abs=0.05)
    before_plan, before_quote = planned(client, world), quoted(client, world)
    assert flight_of(before_plan["pareto"][0]["legs"])["emissions_g"] == 1428.6

    ops = {**world.auth("operator"), "Content-Type": "text/csv"}
    params = {"name": "flat-air", "kind": "regional", "countries": "CN,SG"}
    loaded = client.post(f"{API}/emissions/factor-tables", params=params, content=FLAT_AIR, headers=ops)
    assert loaded.status_code == 201, loaded.text

    account = accounted_flight(client, world, shipment)
    assert account["version"] == 2 and account["wtw_g"] == pytest.approx(990.1, abs=0.05)
    after_plan, after_quote = planned(client, world), quoted(client, world)
    assert flight_of(after_plan["pareto"][0]["legs"])["emissions_g"] == 990.1
    assert after_plan["emissions_version"] == "v2" != before_plan["emissions_version"]
    # the quote's CO2e is the same route's: only the flight's figure moved (rounded to the gram)
    assert before_quote["co2e_g"] - after_quote["co2e_g"] == pytest.approx(1428.6 - 990.1, abs=1)
    assert after_quote["note"].endswith("CO2e by emission factors v2")
    assert after_quote["co2e_version"] == after_plan["emissions_version"] == "v2"
    assert before_quote["co2e_version"] == before_plan["emissions_version"] != "v2"
    # the shipment keeps the estimate it was planned with, and names that version
    planned_shipment = client.get(f"{API}/shipments/{shipment}", headers=world.auth("operator")).json()
    assert planned_shipment["emissions_version"].startswith("v1")
    assert flight_of(planned_shipment["legs"])["emissions_g"] == 1428.6
