"""Carrier keys: a carrier posts scans for, and sees, only the shipments it carries on some leg (which of
its legs, at which nodes and in what turn: test_carrier_scans)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Lane, Network, Node
from tests.api.helpers import API, assert_problem
from tests.integration.test_shipping import _paid, _ship, shipping  # noqa: F401 - the fixture is used
from tests.world import World

SCAN = {"event_id": "k1", "type": "picked_up", "occurred_at": "2025-11-11T04:00:00Z", "node": "sg-tuas"}


def other_express_network() -> Network:
    """A lane away from the test network's, run by a second carrier, Other Express (a carrier key names a
    carrier some lane names)."""
    net = Network()
    for code in ("my-kl", "my-pj"):
        net.add_node(Node(code, "sortation_hub", "MY", 3.1, 101.6, "Asia/Kuala_Lumpur", 0))
    net.add_lane(
        Lane("oe-kl-pj", "my-kl", "my-pj", "road", "truck", "Other Express", 20.0, 60, 100, 50, 30.0, 1e3)
    )
    return net


@pytest.fixture
def other_express(world: World, shipping: TestClient) -> TestClient:  # noqa: F811
    """The test network, and Other Express's lane."""
    with world.db.transaction() as session:
        logistics.store_network(session, other_express_network())
    return shipping


def _carrier_key(client: TestClient, world: World, carrier: str) -> dict[str, str]:
    body = {"role": "carrier", "name": f"{carrier} scanners", "carrier": carrier}
    created = client.post(f"{API}/api-keys", json=body, headers=world.auth("operator"))
    assert created.status_code == 201, created.text
    assert created.json()["carrier"] == carrier
    return {"Authorization": f"Bearer {created.json()['key']}"}


def test_a_carrier_scans_its_own_shipments_and_no_others(world: World, other_express: TestClient) -> None:
    client = other_express  # the test network, and Other Express's lane
    order_id = _paid(client, world, "seller_a_red", "carrier-0001")
    [parcel] = _ship(client, world, order_id)  # every lane of the test network is run by "test"
    world.clock.advance(days=1)
    url = f"{API}/shipments/{parcel['id']}"
    ours, theirs = _carrier_key(client, world, "test"), _carrier_key(client, world, "Other Express")

    scanned = client.post(f"{url}/scans", json=SCAN, headers=ours)
    assert scanned.status_code == 200, scanned.text
    assert scanned.json()["status"] == "picked_up"
    assert client.get(url, headers=ours).json()["id"] == parcel["id"]

    other = client.post(f"{url}/scans", json={**SCAN, "event_id": "k2", "type": "at_hub"}, headers=theirs)
    assert_problem(other, 404, "not-found")
    assert_problem(client.get(url, headers=theirs), 404, "not-found")
    seller = client.post(f"{url}/scans", json={**SCAN, "event_id": "k3"}, headers=world.auth("seller_a"))
    assert_problem(seller, 403, "forbidden")
    after = client.get(url, headers=world.auth("operator")).json()
    assert [s["event_id"] for s in after["scans"]] == ["k1"]  # the refused scans changed nothing


def test_carrier_keys_name_their_carrier_and_only_they_do(world: World, shipping: TestClient) -> None:  # noqa: F811
    ops = world.auth("operator")
    cases = [
        ({"role": "carrier", "name": "no carrier"}, "carrier"),
        ({"role": "carrier", "name": "blank", "carrier": "  "}, "carrier"),
        ({"role": "operator", "name": "ops", "carrier": "test"}, "carrier"),
        ({"role": "carrier", "name": "long", "carrier": "x" * 65}, "carrier"),
        ({"role": "carrier", "name": "typo", "carrier": "tset"}, "carrier"),  # no lane names it
    ]
    for body, field in cases:
        refused = shipping.post(f"{API}/api-keys", json=body, headers=ops)
        problem = assert_problem(refused, 422, "validation-failed")
        assert field in {error["field"] for error in problem["errors"]}, problem
    assert_problem(
        shipping.post(
            f"{API}/api-keys",
            json={"role": "carrier", "name": "x", "carrier": "test"},
            headers=world.auth("seller_a"),
        ),
        403,
        "forbidden",
    )


def test_a_carrier_sees_no_orders_not_even_those_it_carries(world: World, other_express: TestClient) -> None:
    client = other_express  # the test network, and Other Express's lane
    order_id = _paid(client, world, "seller_a_red", "carrier-0002")
    _ship(client, world, order_id)
    for carrier in ("test", "Other Express"):  # the one carrying it, and another
        key = _carrier_key(client, world, carrier)
        for url in (f"{API}/orders", f"{API}/orders/{order_id}", f"{API}/orders/{order_id}/shipments"):
            problem = assert_problem(client.get(url, headers=key), 403, "forbidden")
            assert "carrier key has no access to orders" in problem["detail"]


def test_a_scan_dated_outside_the_planning_years_is_422_and_changes_nothing(
    world: World,
    shipping: TestClient,  # noqa: F811
) -> None:
    order_id = _paid(shipping, world, "seller_a_red", "carrier-0003")
    [parcel] = _ship(shipping, world, order_id)
    url = f"{API}/shipments/{parcel['id']}"
    ops = world.auth("operator")
    for when in ("0001-01-01T00:00:00Z", "2101-01-01T00:00:00Z", "1999-12-31T12:00:00Z"):
        refused = shipping.post(f"{url}/scans", json={**SCAN, "occurred_at": when}, headers=ops)
        problem = assert_problem(refused, 422, "validation-failed")
        assert "within the years 2000-2100" in str(problem["errors"]), problem
    after = shipping.get(url, headers=ops).json()
    assert (after["status"], after["scans"]) == ("label_created", [])


def test_a_key_for_a_carrier_no_lane_names_is_422_listing_the_known_ones(
    world: World, other_express: TestClient
) -> None:
    body = {"role": "carrier", "name": "typo", "carrier": "Other Expres"}
    refused = other_express.post(f"{API}/api-keys", json=body, headers=world.auth("operator"))
    problem = assert_problem(refused, 422, "validation-failed")
    [error] = problem["errors"]
    assert error["field"] == "carrier"
    assert "known carriers: Other Express, test" in error["message"], problem


def test_no_carrier_key_before_a_network_names_a_carrier(world: World) -> None:
    body = {"role": "carrier", "name": "early", "carrier": "test"}
    refused = world.client().post(f"{API}/api-keys", json=body, headers=world.auth("operator"))
    problem = assert_problem(refused, 422, "validation-failed")
    assert "no lane names a carrier yet" in problem["errors"][0]["message"], problem
