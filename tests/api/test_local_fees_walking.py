"""On-demand money and walkers (issue 22): an order's delivery fee (a base plus a part per km of the
route, in the market's minor units) and its store's commission (the kind's rate, kept with its amount)
are fixed at placement, shown to the buyer and carried by `local.order_delivered`; a walking courier
registers with a walker's bag and is dispatched over the walking roads, slower than an e-bike. On SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import select

from entrepot.kernel.errors import ValidationFailed
from entrepot.local_services import delivery, locate
from entrepot.local_services.citysim import CityTravel
from entrepot.local_services.models import OnDemandOrder
from entrepot.local_services.roads import Mode
from tests.api.local_on_demand import STORE_AT, Town, shipped_city, town
from tests.api.test_carrier_scans import VAN

__all__ = ["shipped_city", "town"]  # fixtures


def test_the_fee_and_commission_are_fixed_at_placement_and_reported_on_delivery(town: Town) -> None:
    town.ping(0)
    placed = town.ok(town.order(), 201)
    # SGD: 2.50 + 0.60 per km of the e-bike's route from the store to the door, in cents
    metres = town.event_payload(placed["id"], "local.order_placed")["delivery_fee_minor"]
    assert 250 < metres < 250 + 60 * 3
    assert placed["total_minor"] == 2500 and placed["delivery_fee_minor"] == metres
    assert placed["payable_minor"] == 2500 + placed["delivery_fee_minor"]
    with town.world.db.transaction() as session:
        row = session.scalars(select(OnDemandOrder).where(OnDemandOrder.public_id == placed["id"])).one()
        assert (row.commission_rate, row.commission_minor) == (Decimal("0.18"), 450)  # a restaurant's

    delivery.COMMISSION_RATE["restaurant"] = Decimal("0.25")  # a later rate restates nothing
    try:
        trip = town.dispatched(placed["id"])["trip"]
        town.ok(town.post(f"/local/trips/{trip}/accept", "rider 1"))
        town.ok(town.post(f"/local/orders/{placed['id']}/pickup", "rider 1"))
        town.ok(
            town.post(f"/local/orders/{placed['id']}/delivery", "rider 1", {"kind": "code", "reference": "1"})
        )
    finally:
        delivery.COMMISSION_RATE["restaurant"] = Decimal("0.18")
    sold = town.event_payload(placed["id"], "local.order_delivered")
    assert (sold["delivery_fee_minor"], sold["commission_rate"], sold["commission_minor"]) == (
        placed["delivery_fee_minor"],
        "0.1800",
        450,
    )


def test_the_fee_is_in_the_currency_s_minor_units() -> None:
    assert delivery.delivery_fee("SGD", 2_000) == 250 + 120  # cents
    assert delivery.delivery_fee("VND", 2_500) == 15_000 + 10_000  # no minor unit
    with pytest.raises(ValidationFailed, match="no delivery tariff in XOF"):
        delivery.delivery_fee("XOF", 1_000)
    assert delivery.commission("grocery", 1_001) == (Decimal("0.08"), 80)


def walker(town: Town) -> str:
    made = town.ok(
        town.post("/api-keys", "operator", {"role": "carrier", "name": "walker", "carrier": VAN}), 201
    )
    town.keys["walker"] = {"Authorization": f"Bearer {made['key']}"}
    now = town.world.clock()
    body = {
        "name": "walker",
        "mode": "walking",
        "key": made["id"],
        "shift_starts_at": (now - dt.timedelta(hours=1)).isoformat(),
        "shift_ends_at": (now + dt.timedelta(hours=8)).isoformat(),
    }
    courier = town.ok(town.post("/local/couriers", "operator", body), 201)
    assert (courier["mode"], courier["capacity"]) == ("walking", 2)
    return str(courier["id"])


def test_a_walking_courier_is_dispatched_over_the_walking_roads(town: Town) -> None:
    ref = walker(town)  # the only courier who says where it is: the riders never ping
    town.ok(town.post(f"/local/couriers/{ref}/positions", "walker", STORE_AT))
    placed = town.ok(town.order(), 201)
    order = town.dispatched(placed["id"])
    assert order["state"] == "assigned"
    trip = town.ok(town.get(f"/local/couriers/{ref}/trip", "walker"))
    assert trip["id"] == order["trip"]
    pickup, dropoff = (dt.datetime.fromisoformat(s["at"]) for s in trip["stops"])
    ride = (dropoff - pickup).total_seconds() - 60  # the pick-up's minute of handling
    door = (order["lat"], order["lon"])
    places = np.array([STORE_AT["lat"], door[0]]), np.array([STORE_AT["lon"], door[1]])
    travel = CityTravel(locate.city(), *places)
    walk, bike = (
        float(travel.between(m, np.array([0]), np.array([1]))[0]) for m in (Mode.WALKING, Mode.EBIKE)
    )
    assert abs(ride - walk) < 1 and walk > 1.5 * bike
    done = town.ok(town.post(f"/local/trips/{trip['id']}/accept", "walker"))
    assert done["state"] == "accepted"
