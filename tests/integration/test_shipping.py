"""Paid orders become planned, booked and tracked shipments; the order follows its parcels."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Lane, Network, Node, Schedule
from entrepot.logistics.models import Departure
from tests.api.helpers import API, assert_problem, field_errors, relay_all
from tests.world import World

DAILY_10AM = Schedule(tuple((day, dt.time(10, 0)) for day in range(7)), cutoff_minutes=120)


def small_network() -> Network:
    net = Network()
    for code, kind, country, lat, lon, tz in (
        ("cn-hangzhou", "fulfilment_warehouse", "CN", 30.27, 120.15, "Asia/Shanghai"),
        ("air-HGH", "airport", "CN", 30.23, 120.43, "Asia/Shanghai"),
        ("air-SIN", "airport", "SG", 1.36, 103.99, "Asia/Singapore"),
        ("sg-tuas", "fulfilment_warehouse", "SG", 1.32, 103.65, "Asia/Singapore"),
        ("hub-sg", "sortation_hub", "SG", 1.33, 103.85, "Asia/Singapore"),
        ("ds-sg-central", "delivery_station", "SG", 1.30, 103.84, "Asia/Singapore"),
    ):
        net.add_node(Node(code, kind, country, lat, lon, tz, 60 if kind == "sortation_hub" else 0))

    def lane(code: str, a: str, b: str, mode: str, hours: float, fixed: int, **kw: object) -> Lane:
        values: dict[str, object] = {"max_parcel_kg": 30.0, "capacity_kg": 1000.0, "per_kg_cents": 50}
        values.update(kw)
        vehicle = {"air": "short_haul", "road": "truck", "last_mile": "van_electric"}[mode]
        return Lane(code, a, b, mode, vehicle, "test", 100.0, int(hours * 60), fixed, **values)  # type: ignore[arg-type]

    for ln in (
        lane("truck-hz-hgh", "cn-hangzhou", "air-HGH", "road", 1.5, 200),
        lane("flight-hgh-sin", "air-HGH", "air-SIN", "air", 5, 900, schedule=DAILY_10AM, capacity_kg=0.2),
        lane("truck-sin-hub", "air-SIN", "hub-sg", "road", 1, 150),
        lane("truck-tuas-hub", "sg-tuas", "hub-sg", "road", 1, 150),
        lane("van-hub-central", "hub-sg", "ds-sg-central", "last_mile", 2, 250),
    ):
        net.add_lane(ln)
    return net


@pytest.fixture
def shipping(world: World) -> TestClient:
    with world.db.transaction() as session:
        logistics.store_network(session, small_network())
    return world.client()


def _paid(client: TestClient, world: World, sku: str, key: str) -> str:
    headers = {**world.auth("buyer_a"), "Idempotency-Key": key}
    body = {
        "market": "lazada-sg",
        "lines": [{"sku": world.ids[sku], "quantity": 1}],
        "payment_method": "card",
    }
    placed = client.post(f"{API}/orders", json=body, headers=headers)
    assert placed.status_code == 201, placed.text
    order_id: str = placed.json()["id"]
    assert client.get(f"{API}/orders/{order_id}", headers=world.auth("buyer_a")).json()["status"] == "paid"
    return order_id


def _ship(client: TestClient, world: World, order_id: str) -> list[dict[str, object]]:
    response = client.post(f"{API}/orders/{order_id}/shipments", headers=world.auth("operator"))
    assert response.status_code == 201, response.text
    shipments: list[dict[str, object]] = response.json()
    return shipments


def test_a_cross_border_order_flies_and_the_next_parcel_waits_for_room(
    world: World, shipping: TestClient
) -> None:
    first = _ship(shipping, world, _paid(shipping, world, "seller_a_blue", "ship-0001"))
    [parcel] = first
    assert parcel["cross_border"] is True and parcel["revenue_origin"] == "overseas"
    customs = parcel["customs"]
    assert customs["currency"] == "SGD" and customs["duty_minor"] >= 0 and customs["tax_minor"] >= 0  # type: ignore[index]
    assert any("SG" in line for line in customs["reasoning"])  # type: ignore[index, union-attr]
    legs = parcel["legs"]
    assert [leg["lane"] for leg in legs] == [  # type: ignore[index, union-attr]
        "truck-hz-hgh",
        "flight-hgh-sin",
        "truck-sin-hub",
        "van-hub-central",
    ]
    flight = legs[1]  # type: ignore[index]
    # ready 11:00 Shanghai on 11 Nov: past the 08:00 cut-off, so the 12 Nov flight
    assert flight["departs_at"].startswith("2025-11-12T02:00")
    second = _ship(shipping, world, _paid(shipping, world, "seller_a_blue", "ship-0002"))
    assert second[0]["legs"][1]["departs_at"].startswith("2025-11-13T02:00")  # type: ignore[index]
    with world.db.transaction() as session:
        booked = session.execute(
            select(Departure.departs_at, Departure.booked_g).order_by(Departure.departs_at)
        ).all()
    assert [grams for _, grams in booked] == [120, 120]  # 0.2 kg a flight: one 120 g parcel each


def test_shipping_twice_books_nothing_twice(world: World, shipping: TestClient) -> None:
    order_id = _paid(shipping, world, "seller_a_blue", "ship-0003")
    assert len(_ship(shipping, world, order_id)) == 1
    assert len(_ship(shipping, world, order_id)) == 1
    with world.db.transaction() as session:
        assert session.scalars(select(Departure.booked_g)).all() == [120]


def test_scans_move_the_parcel_and_the_order(world: World, shipping: TestClient) -> None:
    order_id = _paid(shipping, world, "seller_a_red", "ship-0004")  # in stock at sg-tuas: domestic
    [parcel] = _ship(shipping, world, order_id)
    assert parcel["revenue_origin"] == "overseas" and parcel["cross_border"] is False
    assert parcel["customs"] is None
    url = f"{API}/shipments/{parcel['id']}/scans"
    ops = world.auth("operator")

    def scan(event_id: str, kind: str, hours: float, node: str) -> dict[str, object]:
        at = (dt.datetime(2025, 11, 11, 3, 0, tzinfo=dt.UTC) + dt.timedelta(hours=hours)).isoformat()
        response = shipping.post(
            url, json={"event_id": event_id, "type": kind, "occurred_at": at, "node": node}, headers=ops
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    world.clock.advance(days=3)
    assert scan("c1", "picked_up", 1, "sg-tuas")["status"] == "picked_up"
    relay_all(world)  # the order follows its parcel through logistics' delivery events
    order = shipping.get(f"{API}/orders/{order_id}", headers=world.auth("buyer_a")).json()
    assert order["status"] == "shipped"
    assert scan("c2", "at_hub", 3, "hub-sg")["status"] == "at_hub"
    delivered = scan("c4", "delivered", 6, "ds-sg-central")
    assert delivered["status"] == "at_hub"  # delivered is not allowed before going out for delivery
    scan("c3", "out_for_delivery", 5, "ds-sg-central")  # arrives late: slots in before the delivery
    final = scan("c3", "out_for_delivery", 5, "ds-sg-central")  # and a resend changes nothing
    assert final["status"] == "delivered" and final["on_time"] is True
    assert len(final["scans"]) == 4  # type: ignore[arg-type]
    relay_all(world)
    order = shipping.get(f"{API}/orders/{order_id}", headers=world.auth("buyer_a")).json()
    assert order["status"] == "delivered"
    mine = shipping.get(f"{API}/orders/{order_id}/shipments", headers=world.auth("buyer_a")).json()
    assert [s["id"] for s in mine] == [parcel["id"]]
    assert_problem(
        shipping.get(f"{API}/shipments/{parcel['id']}", headers=world.auth("buyer_b")), 404, "not-found"
    )
    assert_problem(
        shipping.post(
            url,
            json={"event_id": "x", "type": "teleported", "occurred_at": "2025-11-11T05:00:00Z"},
            headers=ops,
        ),
        422,
        "validation-failed",
    )


def test_route_planning_over_http_explains_impossible_requests(world: World, shipping: TestClient) -> None:
    headers = world.auth("buyer_a")
    ok = shipping.post(
        f"{API}/logistics/routes",
        json={
            "origin": "cn-hangzhou",
            "destination": "ds-sg-central",
            "weight_kg": 0.1,
            "service": "express",
            "ready_at": "2025-11-11T03:00:00Z",
        },
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["chosen"]["legs"][1]["lane"] == "flight-hgh-sin"
    unknown = shipping.post(
        f"{API}/logistics/routes",
        json={"origin": "XXX", "destination": "SIN", "weight_kg": 1},
        headers=headers,
    )
    assert_problem(unknown, 422, "validation-failed")
    heavy = shipping.post(
        f"{API}/logistics/routes",
        json={"origin": "HGH", "destination": "SIN", "weight_kg": 31},
        headers=headers,
    )
    assert assert_problem(heavy, 422, "route-impossible")["reason"] == "overweight"
    backwards = shipping.post(
        f"{API}/logistics/routes",
        json={"origin": "SIN", "destination": "HGH", "weight_kg": 1},
        headers=headers,
    )
    assert assert_problem(backwards, 422, "route-impossible")["reason"] == "no_lane"
    negative = shipping.post(
        f"{API}/logistics/routes",
        json={"origin": "HGH", "destination": "SIN", "weight_kg": -1},
        headers=headers,
    )
    assert_problem(negative, 422, "validation-failed")


@pytest.mark.parametrize(
    "ready_at",
    ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:00Z", "2101-01-01T00:00:00Z"],
)
def test_a_ready_time_outside_the_planning_years_is_refused(
    world: World, shipping: TestClient, ready_at: str
) -> None:
    body = {"origin": "HGH", "destination": "SIN", "weight_kg": 1, "ready_at": ready_at}
    refused = shipping.post(f"{API}/logistics/routes", json=body, headers=world.auth("buyer_a"))
    problem = assert_problem(refused, 422, "validation-failed")
    assert "2000-2100" in field_errors(problem)["ready_at"]


def test_the_last_hour_of_the_planning_years_plans(world: World, shipping: TestClient) -> None:
    body = {"origin": "HGH", "destination": "SIN", "weight_kg": 1, "ready_at": "2100-12-31T23:00:00Z"}
    planned = shipping.post(f"{API}/logistics/routes", json=body, headers=world.auth("buyer_a"))
    assert planned.status_code == 200, planned.text


def test_revenue_splits_domestic_and_overseas(world: World, shipping: TestClient) -> None:
    _ship(shipping, world, _paid(shipping, world, "seller_a_blue", "ship-0005"))
    window = {"start": "2025-11-01T00:00:00Z", "end": "2025-12-01T00:00:00Z"}
    result = shipping.get(f"{API}/logistics/revenue", params=window, headers=world.auth("operator")).json()
    assert result["shipments"] == 1 and result["domestic_cents"] == 0 and result["overseas_share"] == 1.0
    assert result["overseas_cents"] > 0


def test_the_relay_ships_a_paid_order_once(world: World, shipping: TestClient) -> None:
    order_id = _paid(shipping, world, "seller_a_blue", "ship-0006")
    assert relay_all(world) >= 1  # order.paid, then the shipment.planned its shipment recorded
    assert relay_all(world) == 0
    shipments = shipping.get(f"{API}/orders/{order_id}/shipments", headers=world.auth("seller_a")).json()
    assert len(shipments) == 1 and shipments[0]["status"] == "label_created"
    # paid at 11:00 in Hangzhou, before the 16:00 cut-off: it leaves with that evening's 18:00 collection
    assert shipments[0]["legs"][0]["departs_at"].startswith("2025-11-11T10:00")
