"""A delivery station plans its day (issue 22): the parcels waiting there get routes within the vans'
capacity, the shift and any booked window, and the routes become the parcels' scans (out for delivery,
then delivered at the planned time). Operators and the carrier running the station's last mile may plan;
any other key is refused, and every refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from entrepot.local_services.models import RouteStop, StationRoute
from entrepot.logistics import service as logistics
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import API, assert_problem
from tests.api.test_carrier_keys import _carrier_key
from tests.api.test_carrier_scans import SKY, VAN, relay_network
from tests.integration.test_shipping import _paid, _ship
from tests.world import World

STATION = "ds-sg-central"


class Station:
    """Two paid parcels that reached ds-sg-central (operator scans along their legs), and keys."""

    def __init__(self, world: World) -> None:
        with world.db.transaction() as session:
            logistics.store_network(session, relay_network())
        self.world = world
        self.client = world.client()
        self.parcels: list[dict[str, Any]] = []
        for key in ("station-0001", "station-0002"):
            [parcel] = _ship(self.client, world, _paid(self.client, world, "seller_a_red", key))
            self.parcels.append(parcel)
        world.clock.advance(days=3)
        self.start = max(dt.datetime.fromisoformat(p["legs"][0]["departs_at"]) for p in self.parcels)
        for n, parcel in enumerate(self.parcels):
            for k, (kind, node) in enumerate(
                (("picked_up", "sg-tuas"), ("at_hub", "hub-sg"), ("departed", "hub-sg"), ("arrived", STATION))
            ):
                self.scan(parcel["id"], f"s{n}{k}", kind, self.start + dt.timedelta(hours=k), node)
        self.shift = self.start + dt.timedelta(hours=5)
        self.keys = {carrier: _carrier_key(self.client, world, carrier) for carrier in (VAN, SKY)}
        self.keys["operator"] = world.auth("operator")
        self.keys["seller"] = world.auth("seller_a")
        self.keys["buyer"] = world.auth("buyer_a")

    def scan(self, parcel: str, event: str, kind: str, at: dt.datetime, node: str) -> None:
        body = {"event_id": event, "type": kind, "occurred_at": at.isoformat(), "node": node}
        done = self.client.post(
            f"{API}/shipments/{parcel}/scans", json=body, headers=self.world.auth("operator")
        )
        assert done.status_code == 200, done.text

    def plan(self, who: str = "operator", station: str = STATION, **change: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "shift_starts_at": self.shift.isoformat(),
            "shift_minutes": 480,
            "vehicles": 2,
            "capacity_kg": 50,
            "seconds": 0.5,
            **change,
        }
        response: httpx.Response = self.client.post(
            f"{API}/stations/{station}/day-plans", json=body, headers=self.keys[who]
        )
        return response

    def shipment(self, parcel: dict[str, Any]) -> dict[str, Any]:
        got = self.client.get(f"{API}/shipments/{parcel['id']}", headers=self.world.auth("operator"))
        body: dict[str, Any] = got.json()
        return body

    def written(self) -> tuple[int, int, list[str]]:
        with self.world.db.transaction() as session:
            routes = session.scalar(select(func.count()).select_from(StationRoute)) or 0
            stops = session.scalar(select(func.count()).select_from(RouteStop)) or 0
            events = session.scalar(select(func.count()).where(OutboxEvent.type == "last_mile.route_planned"))
        assert events == routes  # one event per route, written with it
        return routes, stops, [self.shipment(p)["status"] for p in self.parcels]

    def at(self, hours: float) -> str:
        return (self.shift + dt.timedelta(hours=hours)).isoformat()


@pytest.fixture
def station(world: World) -> Station:
    return Station(world)


def test_the_parcels_get_routes_and_become_delivered_at_the_planned_times(station: Station) -> None:
    assert station.written()[2] == ["arrived", "arrived"]
    slot = {"opens_at": station.at(2), "closes_at": station.at(3)}
    response = station.plan(windows={station.parcels[1]["id"]: slot})
    assert response.status_code == 201, response.text
    plan = response.json()
    stops = {stop["shipment"]: stop for route in plan["routes"] for stop in route["stops"]}
    assert sorted(stops) == sorted(p["id"] for p in station.parcels)  # every parcel once
    booked = dt.datetime.fromisoformat(stops[station.parcels[1]["id"]]["delivers_at"])
    assert station.shift + dt.timedelta(hours=2) <= booked <= station.shift + dt.timedelta(hours=3)
    for route in plan["routes"]:
        assert route["load_kg"] <= 50
        departs, returns = (dt.datetime.fromisoformat(route[k]) for k in ("departs_at", "returns_at"))
        assert station.shift <= departs and returns <= station.shift + dt.timedelta(minutes=480)
    # the whole shift is past on the world's clock: every scan is due and recorded
    assert plan["scans_recorded"] == 4
    assert station.written()[2] == ["delivered", "delivered"]
    scans = station.shipment(station.parcels[1])["scans"]
    assert [s["type"] for s in scans][-2:] == ["out_for_delivery", "delivered"]
    assert dt.datetime.fromisoformat(scans[-1]["occurred_at"]) == booked


def test_a_van_too_small_for_both_parcels_makes_two_routes(station: Station) -> None:
    heaviest = max(station.shipment(p)["weight_g"] for p in station.parcels) / 1000
    lightest = min(station.shipment(p)["weight_g"] for p in station.parcels) / 1000
    response = station.plan(capacity_kg=heaviest + lightest / 2)
    assert response.status_code == 201, response.text
    routes = response.json()["routes"]
    assert [len(route["stops"]) for route in routes] == [1, 1]


def test_the_carrier_running_the_last_mile_may_plan_and_read_the_day(station: Station) -> None:
    assert station.plan(VAN).status_code == 201
    got = station.client.get(
        f"{API}/stations/{STATION}/day-plans",
        params={"shift_starts_at": station.shift.isoformat()},
        headers=station.keys[VAN],
    )
    assert got.status_code == 200, got.text
    assert sum(len(route["stops"]) for route in got.json()["routes"]) == 2


@pytest.mark.parametrize(
    ("who", "status", "code"), [("seller", 403, "forbidden"), ("buyer", 403, "forbidden")]
)
def test_sellers_and_buyers_may_not_plan(station: Station, who: str, status: int, code: str) -> None:
    assert_problem(station.plan(who), status, code)
    assert station.written() == (0, 0, ["arrived", "arrived"])


def test_another_carrier_sees_no_such_station(station: Station) -> None:
    other = assert_problem(station.plan(SKY), 404, "not-found")
    unknown = assert_problem(station.plan("operator", station="ds-sg-nowhere"), 404, "not-found")
    assert other["detail"] == f"no delivery station {STATION}"
    assert unknown["detail"] == "no delivery station ds-sg-nowhere"
    assert_problem(station.plan("operator", station="hub-sg"), 404, "not-found")  # a hub is no station
    assert station.written() == (0, 0, ["arrived", "arrived"])


def test_a_day_is_planned_once(station: Station) -> None:
    assert station.plan().status_code == 201
    before = station.written()
    assert_problem(station.plan(), 409, "day-planned")
    assert station.written() == before


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"capacity_kg": 0.001}, "more than a vehicle carries"),
        (
            {
                "windows": {
                    "shp_unknown": {"opens_at": "2026-01-01T00:00:00Z", "closes_at": "2026-01-01T01:00:00Z"}
                }
            },
            "a window for a parcel not waiting at ds-sg-central",
        ),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(station: Station, change: dict[str, Any], said: str) -> None:
    problem = assert_problem(station.plan(**change), 422, "validation-failed")
    assert said in problem["detail"]
    assert station.written() == (0, 0, ["arrived", "arrived"])


def test_a_window_outside_the_shift_or_impossible_to_reach_is_refused(station: Station) -> None:
    parcel = station.parcels[0]["id"]
    outside = {parcel: {"opens_at": station.at(9), "closes_at": station.at(10)}}
    assert (
        "not inside the shift"
        in assert_problem(station.plan(windows=outside), 422, "validation-failed")["detail"]
    )
    # handed over within the shift's first second: no van gets there from the station that fast
    instant = {parcel: {"opens_at": station.at(0), "closes_at": station.at(0)}}
    problem = assert_problem(station.plan(windows=instant), 422, "validation-failed")
    assert problem["detail"].startswith("no plan found in 0.5 s meets every limit")
    assert station.written() == (0, 0, ["arrived", "arrived"])


@pytest.mark.parametrize(
    "change",
    [
        {"shift_minutes": 0},
        {"vehicles": 0},
        {"capacity_kg": -1},
        {"seconds": 0},
        {"seconds": 31},
        {"speed": 3},
    ],
)
def test_out_of_range_numbers_are_field_errors(station: Station, change: dict[str, Any]) -> None:
    assert station.plan(**change).status_code == 422
    assert station.written() == (0, 0, ["arrived", "arrived"])
