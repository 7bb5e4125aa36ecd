"""Checkout's delivery options come from the logistics network: quote, choose, and the shipment keeps
the promise; without a network, the market's flat zone fees."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Lane, Network, Node, Schedule
from entrepot.logistics.rate_cache import routes_cache
from entrepot.platform.outbox import relay_once
from tests.api.helpers import API, assert_problem, basket, field_errors, get_order, place, snapshot
from tests.world import World

DAILY = tuple(range(7))


def three_ways_network() -> Network:
    """Hangzhou to Singapore by air (fast, dirty), by road (slower, dearer, cleaner than air) and by
    sea (a week, cheapest and cleanest); Tuas to Singapore by truck."""
    net = Network()
    for code, kind, country, lat, lon, tz in (
        ("cn-hangzhou", "fulfilment_warehouse", "CN", 30.27, 120.15, "Asia/Shanghai"),
        ("air-HGH", "airport", "CN", 30.23, 120.43, "Asia/Shanghai"),
        ("sea-NGB", "seaport", "CN", 29.87, 121.55, "Asia/Shanghai"),
        ("air-SIN", "airport", "SG", 1.36, 103.99, "Asia/Singapore"),
        ("sea-SIN", "seaport", "SG", 1.26, 103.82, "Asia/Singapore"),
        ("sg-tuas", "fulfilment_warehouse", "SG", 1.32, 103.65, "Asia/Singapore"),
        ("hub-sg", "sortation_hub", "SG", 1.33, 103.85, "Asia/Singapore"),
        ("ds-sg-central", "delivery_station", "SG", 1.30, 103.84, "Asia/Singapore"),
    ):
        net.add_node(Node(code, kind, country, lat, lon, tz, 60 if kind == "sortation_hub" else 0))

    def lane(code: str, a: str, b: str, mode: str, km: float, hours: float, fixed: int, **kw: Any) -> Lane:
        vehicle = {"air": "short_haul", "road": "truck", "sea": "container_ship", "last_mile": "van_electric"}
        values: dict[str, Any] = {"max_parcel_kg": 30.0, "capacity_kg": 1000.0, "per_kg_cents": 50, **kw}
        return Lane(code, a, b, mode, vehicle[mode], "test", km, int(hours * 60), fixed, **values)

    for ln in (
        lane("truck-hz-hgh", "cn-hangzhou", "air-HGH", "road", 40, 1.5, 200),
        lane("flight-hgh-sin", "air-HGH", "air-SIN", "air", 3800, 5, 900, schedule=flights()),
        lane("truck-sin-hub", "air-SIN", "hub-sg", "road", 20, 1, 150),
        lane("road-hz-sg", "cn-hangzhou", "hub-sg", "road", 4000, 72, 1400),
        lane("truck-hz-ngb", "cn-hangzhou", "sea-NGB", "road", 150, 3, 150),
        lane(
            "ship-ngb-sin", "sea-NGB", "sea-SIN", "sea", 4200, 142, 100, per_kg_cents=5, schedule=sailings()
        ),
        lane("truck-port-hub", "sea-SIN", "hub-sg", "road", 20, 1, 150),
        lane("truck-tuas-hub", "sg-tuas", "hub-sg", "road", 30, 1, 150),
        lane("van-hub-central", "hub-sg", "ds-sg-central", "last_mile", 10, 2, 250),
    ):
        net.add_lane(ln)
    return net


def flights() -> Schedule:
    return Schedule(tuple((day, dt.time(10, 0)) for day in DAILY), cutoff_minutes=120)


def sailings() -> Schedule:
    return Schedule(tuple((day, dt.time(20, 0)) for day in DAILY))


@pytest.fixture
def networked(world: World) -> TestClient:
    with world.db.transaction() as session:
        logistics.store_network(session, three_ways_network())
    return world.client()


def quote(client: TestClient, world: World, *lines: tuple[str, int]) -> dict[str, Any]:
    response = client.post(f"{API}/checkout/quote", json=basket(world, *lines), headers=world.auth("buyer_a"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_id(options: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in options}


def test_the_quote_lists_service_levels_by_cost_and_emissions(world: World, networked: TestClient) -> None:
    q = quote(networked, world, ("seller_a_blue", 1))  # stocked in Hangzhou only: cross-border
    options = by_id(q["delivery_options"])
    assert set(options) == {"express-cheapest", "express-greenest", "standard-cheapest"}
    air, road, sea = options["express-cheapest"], options["express-greenest"], options["standard-cheapest"]
    assert "air" in air["note"] and "sea" in sea["note"] and "air" not in road["note"]
    # the same sea route is the cheapest and the greenest for standard and for economy: one option
    assert sea["answers"] == [
        "standard-cheapest",
        "standard-greenest",
        "economy-cheapest",
        "economy-greenest",
    ]
    assert sea["fee_minor"] < air["fee_minor"] < road["fee_minor"]
    assert sea["co2e_g"] < road["co2e_g"] < air["co2e_g"]
    assert air["transit_days"] < road["transit_days"] < sea["transit_days"] <= 10
    # paid at 11:00 in Hangzhou, collected at 18:00, on the next morning's flight, in Singapore by 19:00
    # on 12 Nov: promised by the end of the next day, Singapore time
    assert air["promised_on"] == "2025-11-13"
    assert [o["id"] for o in q["delivery_options"] if o["default"]] == ["standard-cheapest"]
    assert [o["id"] for o in q["delivery_options"] if o["greenest"]] == ["standard-cheapest"]
    assert all(o["source"] == "network" for o in options.values())
    assert q["shipping_minor"] == sea["fee_minor"] == sum(p["fee_minor"] for p in q["parcels"])


def test_a_basket_from_two_warehouses_pays_for_both_parcels(world: World, networked: TestClient) -> None:
    q = quote(networked, world, ("seller_a_red", 1), ("seller_a_blue", 1))  # Tuas and Hangzhou
    assert [p["zone"] for p in q["parcels"]] == ["domestic", "cross_border"]
    for option in q["delivery_options"]:
        assert option["fee_minor"] > 0
    default = next(o for o in q["delivery_options"] if o["default"])
    assert q["shipping_minor"] == default["fee_minor"] == sum(p["fee_minor"] for p in q["parcels"])
    alone = quote(networked, world, ("seller_a_blue", 1))
    assert default["promised_on"] == next(o for o in alone["delivery_options"] if o["default"])["promised_on"]


def test_the_chosen_option_is_kept_and_the_shipment_keeps_it(world: World, networked: TestClient) -> None:
    road = by_id(quote(networked, world, ("seller_a_blue", 1))["delivery_options"])["express-greenest"]
    body = {
        **basket(world, ("seller_a_blue", 1)),
        "delivery_option": "express-greenest",
        "payment_method": "card",
    }
    placed = place(networked, world, body)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["delivery"] == {
        "service": "express",
        "objective": "greenest",
        "promised_on": road["promised_on"],
        "source": "network",
    }
    assert order["shipping_minor"] == road["fee_minor"]
    assert get_order(networked, world, order["id"])["status"] == "paid"
    assert relay_once(world.db, world.relay_registry(), world.clock()) >= 1  # order.paid -> shipment
    [shipment] = networked.get(f"{API}/orders/{order['id']}/shipments", headers=world.auth("buyer_a")).json()
    assert shipment["service"] == "express"
    assert [leg["lane"] for leg in shipment["legs"]] == ["road-hz-sg", "van-hub-central"]
    promised = dt.datetime.fromisoformat(shipment["promised_at"])
    assert promised.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat() == road["promised_on"]
    assert dt.datetime.fromisoformat(shipment["eta"]) <= promised


def test_without_a_choice_the_default_option_is_taken(world: World, networked: TestClient) -> None:
    placed = place(networked, world, {**basket(world, ("seller_a_blue", 1)), "payment_method": "card"})
    assert placed.status_code == 201, placed.text
    assert placed.json()["delivery"]["service"] == "standard"
    relay_once(world.db, world.relay_registry(), world.clock())
    [shipment] = networked.post(
        f"{API}/orders/{placed.json()['id']}/shipments", headers=world.auth("operator")
    ).json()
    assert shipment["service"] == "standard"
    assert "ship-ngb-sin" in [leg["lane"] for leg in shipment["legs"]]


def test_an_unknown_or_unavailable_option_is_422_and_changes_nothing(world: World) -> None:
    client = world.client()  # no network stored: only the flat zone fee option
    before = snapshot(client, world)
    unknown = place(client, world, {**basket(world, ("seller_a_red", 1)), "delivery_option": "teleport"})
    assert field_errors(assert_problem(unknown, 422, "validation-failed")) == {
        "delivery_option": "one of express-cheapest, express-greenest, standard-cheapest, standard-greenest,"
        " economy-cheapest, economy-greenest"
    }
    unavailable = place(
        client, world, {**basket(world, ("seller_a_red", 1)), "delivery_option": "express-cheapest"}
    )
    problem = assert_problem(unavailable, 422, "delivery-option-unavailable")
    assert problem["available"] == ["standard-cheapest", "standard-greenest"]
    assert snapshot(client, world) == before


def test_without_a_network_the_market_flat_zone_fees_apply(world: World) -> None:
    client = world.client()
    q = quote(client, world, ("seller_a_blue", 1))
    [option] = q["delivery_options"]
    assert option["source"] == "flat_zone_fees" and option["fee_minor"] == 399  # S$3.99 cross-border
    assert option["promised_on"] is None and option["co2e_g"] is None
    assert option["default"] and "no logistics network" in option["note"]
    assert q["shipping_minor"] == 399
    placed = place(client, world, basket(world, ("seller_a_blue", 1)))
    assert placed.json()["delivery"] == {
        "service": "standard",
        "objective": "cheapest",
        "promised_on": None,
        "source": "flat_zone_fees",
    }


def test_a_basket_the_network_cannot_serve_gets_flat_fees_and_says_why(world: World) -> None:
    net = three_ways_network()
    del net.lanes_from["sg-tuas"][:]  # Tuas is cut off
    with world.db.transaction() as session:
        logistics.store_network(session, net)
    [option] = quote(world.client(), world, ("seller_a_red", 1))["delivery_options"]
    assert option["source"] == "flat_zone_fees" and option["fee_minor"] == 199
    assert "sg-tuas" in option["note"] and "ds-sg-central" in option["note"]


def test_quotes_of_a_service_day_plan_each_journey_once(world: World, networked: TestClient) -> None:
    routes_cache.clear()
    quote(networked, world, ("seller_a_blue", 1))
    planned = routes_cache.misses
    for _ in range(3):
        quote(networked, world, ("seller_a_blue", 1))
    assert routes_cache.misses == planned and len(routes_cache) == 1
    world.clock.advance(hours=6)  # 17:00 in Hangzhou: past the cut-off, the next day's collection
    quote(networked, world, ("seller_a_blue", 1))
    assert routes_cache.misses == planned + 1 and len(routes_cache) == 2


def test_a_cart_is_quoted_and_checked_out_with_a_delivery_option(world: World, networked: TestClient) -> None:
    buyer = world.auth("buyer_a")
    cart = networked.post(f"{API}/carts", json={"market": "lazada-sg"}, headers=buyer).json()
    line = networked.put(
        f"{API}/carts/{cart['id']}/lines/{world.ids['seller_a_blue']}", json={"quantity": 1}, headers=buyer
    )
    assert line.status_code == 200, line.text
    quoted = networked.post(f"{API}/carts/{cart['id']}/quote", headers=buyer).json()
    assert {o["id"] for o in quoted["delivery_options"]} >= {"express-cheapest", "standard-cheapest"}
    headers = {**buyer, "Idempotency-Key": "cart-delivery-0001"}
    bad = networked.post(
        f"{API}/carts/{cart['id']}/checkout", json={"delivery_option": "soon"}, headers=headers
    )
    assert_problem(bad, 422, "validation-failed")
    done = networked.post(
        f"{API}/carts/{cart['id']}/checkout", json={"delivery_option": "express-cheapest"}, headers=headers
    )
    assert done.status_code == 201, done.text
    assert done.json()["delivery"]["service"] == "express"
