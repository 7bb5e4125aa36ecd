"""Carrier scans scoped to legs (issue 28): a carrier scans only the legs it runs, at their nodes, while it
holds the parcel and in an order the state machine allows; one carrier hands over to the next with an
explicit `handed_over` that the next one `accepted`; operators keep full rights. Every refusal changes
nothing: no scan stored, no status moved, no event written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Network
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import API, assert_problem, get_order, relay_all
from tests.api.test_carrier_keys import _carrier_key
from tests.integration.test_shipping import _paid, _ship, small_network
from tests.world import World

# The small network with one carrier per stretch: a domestic parcel from Tuas goes by Tuas Trucking to
# the hub, where Lion Couriers takes it to the station; Sky Cargo flies and trucks from Hangzhou.
CARRIERS = {
    "truck-tuas-hub": "Tuas Trucking",
    "van-hub-central": "Lion Couriers",
    "truck-hz-hgh": "Hangzhou Trucks",
    "flight-hgh-sin": "Sky Cargo",
    "truck-sin-hub": "Sky Cargo",
}
TRUCK, VAN, SKY = "Tuas Trucking", "Lion Couriers", "Sky Cargo"


def relay_network() -> Network:
    net, relay = small_network(), Network()
    for node in net.nodes.values():
        relay.add_node(node)
    for lane in net.lanes_by_id.values():
        relay.add_lane(replace(lane, carrier=CARRIERS[lane.id]))
    return relay


@dataclass(frozen=True)
class Relay:
    """A paid order's parcel on two legs, Tuas Trucking's (sg-tuas to hub-sg) and then Lion Couriers'
    (hub-sg to ds-sg-central), with a key for each carrier and for one that runs neither."""

    client: TestClient
    world: World
    order_id: str
    parcel_id: str
    start: dt.datetime
    keys: dict[str, dict[str, str]]

    def scan(self, who: str, event_id: str, kind: str, hours: float, node: str | None) -> httpx.Response:
        at = (self.start + dt.timedelta(hours=hours)).isoformat()
        body = {"event_id": event_id, "type": kind, "occurred_at": at, "node": node}
        headers = self.world.auth("operator") if who == "operator" else self.keys[who]
        response: httpx.Response = self.client.post(
            f"{API}/shipments/{self.parcel_id}/scans", json=body, headers=headers
        )
        return response

    def ok(self, who: str, event_id: str, kind: str, hours: float, node: str | None) -> dict[str, Any]:
        response = self.scan(who, event_id, kind, hours, node)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def refused(
        self, status: int, reason: str, who: str, event_id: str, kind: str, hours: float, node: str | None
    ) -> dict[str, Any]:
        """The scan is refused with this status and reason, and changes nothing."""
        before = self.state()
        problem = assert_problem(self.scan(who, event_id, kind, hours, node), status, "scan-refused")
        assert (problem["reason"], problem["event_id"]) == (reason, event_id), problem
        assert self.state() == before
        return problem

    def order_status(self) -> str:
        """The order's status once the relay has handed it logistics' delivery events."""
        relay_all(self.world)
        return str(get_order(self.client, self.world, self.order_id)["status"])

    def state(self) -> tuple[object, ...]:
        shipment = self.client.get(f"{API}/shipments/{self.parcel_id}", headers=self.world.auth("operator"))
        parcel = shipment.json()
        order = get_order(self.client, self.world, self.order_id)
        with self.world.db.transaction() as session:
            events = session.scalar(select(func.count()).select_from(OutboxEvent))
        return parcel["status"], parcel["eta"], parcel["scans"], order["status"], events


@pytest.fixture
def relay(world: World) -> Relay:
    with world.db.transaction() as session:
        logistics.store_network(session, relay_network())
    client = world.client()
    order_id = _paid(client, world, "seller_a_red", "relay-0001")  # in stock at sg-tuas
    [parcel] = _ship(client, world, order_id)
    legs: list[dict[str, Any]] = parcel["legs"]  # type: ignore[assignment]
    assert [leg["lane"] for leg in legs] == ["truck-tuas-hub", "van-hub-central"]
    world.clock.advance(days=3)
    keys = {carrier: _carrier_key(client, world, carrier) for carrier in (TRUCK, VAN, SKY)}
    start = dt.datetime.fromisoformat(legs[0]["departs_at"])
    return Relay(client, world, order_id, str(parcel["id"]), start, keys)


def test_two_carriers_deliver_with_an_explicit_hand_over(relay: Relay) -> None:
    parcel = relay.client.get(f"{API}/shipments/{relay.parcel_id}", headers=relay.keys[VAN]).json()
    assert [leg["carrier"] for leg in parcel["legs"]] == [TRUCK, VAN]  # whom to take the parcel from
    assert relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")["status"] == "picked_up"
    assert relay.ok(TRUCK, "t2", "at_hub", 1, "hub-sg")["status"] == "at_hub"
    assert relay.ok(TRUCK, "t3", "handed_over", 2, "hub-sg")["status"] == "at_hub"  # custody only
    assert relay.ok(VAN, "v1", "accepted", 2.5, "hub-sg")["status"] == "at_hub"
    assert relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")["status"] == "at_hub"  # a resend is no refusal
    relay.ok(VAN, "v2", "out_for_delivery", 3, "hub-sg")
    delivered = relay.ok(VAN, "v3", "delivered", 5, "ds-sg-central")
    assert delivered["status"] == "delivered"
    assert [s["event_id"] for s in delivered["scans"]] == ["t1", "t2", "t3", "v1", "v2", "v3"]
    assert relay.order_status() == "delivered"


def test_the_first_legs_carrier_cannot_deliver(relay: Relay) -> None:
    """The issue's reproduction: the first leg's carrier posted every scan up to `delivered` at the last
    leg's station, and the order went paid -> delivered."""
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.ok(TRUCK, "t2", "at_hub", 1, "hub-sg")
    relay.refused(403, "off_route", TRUCK, "t3", "out_for_delivery", 2, "ds-sg-central")
    relay.refused(403, "off_route", TRUCK, "t3", "out_for_delivery", 2, "hub-sg")  # its own node, too
    relay.refused(403, "off_route", TRUCK, "t4", "delivered", 3, "ds-sg-central")
    assert relay.order_status() == "shipped"


def test_a_carrier_scans_no_leg_it_does_not_hold(relay: Relay) -> None:
    """Lion Couriers runs the second leg: it may not scan the parcel while Tuas Trucking has it."""
    relay.refused(403, "not_holding", VAN, "v1", "picked_up", 0, "sg-tuas")
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.refused(403, "not_holding", VAN, "v2", "at_hub", 1, "hub-sg")
    relay.refused(403, "not_holding", VAN, "v3", "out_for_delivery", 2, "hub-sg")


def test_a_carrier_scans_only_at_the_nodes_of_its_legs(relay: Relay) -> None:
    relay.refused(403, "off_route", TRUCK, "t1", "picked_up", 0, "hub-sg")  # not where the route starts
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.refused(403, "off_route", TRUCK, "t2", "at_hub", 1, "air-SIN")  # a node, but not of its legs
    relay.refused(422, "no_station", TRUCK, "t2", "at_hub", 1, None)
    relay.ok(TRUCK, "t2", "at_hub", 1, "hub-sg")
    relay.refused(403, "off_route", TRUCK, "t3", "handed_over", 2, "sg-tuas")  # hand over where legs end
    relay.ok(TRUCK, "t3", "handed_over", 2, "hub-sg")
    relay.refused(403, "off_route", VAN, "v1", "accepted", 2.5, "ds-sg-central")  # accept where it was
    relay.ok(VAN, "v1", "accepted", 2.5, "hub-sg")
    relay.refused(403, "off_route", VAN, "v2", "at_hub", 3, "sg-tuas")


def test_a_carrier_scans_in_an_order_the_state_machine_allows(relay: Relay) -> None:
    relay.refused(409, "out_of_order", TRUCK, "t1", "at_hub", 1, "hub-sg")  # not picked up yet
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.refused(409, "out_of_order", TRUCK, "t2", "arrived", 1, "hub-sg")  # arrived without departing
    relay.ok(TRUCK, "t2", "departed", 0.5, "sg-tuas")
    relay.refused(409, "out_of_order", TRUCK, "t3", "departed", 0.7, "sg-tuas")  # departed twice
    relay.ok(TRUCK, "t3", "arrived", 1.5, "hub-sg")
    # a late scan that would leave the stored arrival without its departure
    relay.refused(409, "out_of_order", TRUCK, "t4", "at_hub", 1, "hub-sg")


def test_a_hand_over_needs_the_next_carriers_acceptance(relay: Relay) -> None:
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.ok(TRUCK, "t2", "handed_over", 1, "hub-sg")
    relay.refused(409, "not_accepted", VAN, "v1", "out_for_delivery", 2, "hub-sg")
    relay.refused(403, "not_holding", TRUCK, "t3", "at_hub", 2, "hub-sg")  # no longer the truck's
    relay.refused(403, "not_holding", TRUCK, "t3", "handed_over", 2, "hub-sg")  # nor twice
    relay.ok(VAN, "v1", "accepted", 2, "hub-sg")
    relay.refused(409, "out_of_order", VAN, "v2", "accepted", 2.2, "hub-sg")  # nor accepted twice
    assert relay.ok(VAN, "v2", "at_hub", 3, "hub-sg")["status"] == "at_hub"


def test_an_acceptance_needs_a_hand_over_and_custody_is_never_late(relay: Relay) -> None:
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.refused(409, "out_of_order", VAN, "v1", "accepted", 1, "hub-sg")  # nothing handed over
    relay.ok(TRUCK, "t2", "at_hub", 2, "hub-sg")
    # a hand-over dated before the truck's last scan would take the parcel from under that scan
    relay.refused(409, "out_of_order", TRUCK, "t3", "handed_over", 1, "hub-sg")
    relay.ok(TRUCK, "t3", "handed_over", 2.5, "hub-sg")
    relay.refused(409, "out_of_order", VAN, "v1", "accepted", 2.2, "hub-sg")  # before the hand-over
    relay.ok(VAN, "v1", "accepted", 3, "hub-sg")


def test_the_last_carrier_cannot_scan_before_its_leg(relay: Relay) -> None:
    """Custody is replayed in time: after accepting, the next carrier still may not date a scan back to
    when the parcel was on the first leg."""
    relay.ok(TRUCK, "t1", "picked_up", 0, "sg-tuas")
    relay.ok(TRUCK, "t2", "handed_over", 1, "hub-sg")
    relay.ok(VAN, "v1", "accepted", 1.5, "hub-sg")
    relay.refused(403, "not_holding", VAN, "v2", "at_hub", 0.5, "hub-sg")
    relay.ok(VAN, "v2", "at_hub", 2, "hub-sg")


def test_operators_keep_full_rights(relay: Relay) -> None:
    """An operator's scans are kept as sent, anywhere and in any order, with no hand-over: the state
    machine applies those it allows where they land in time."""
    assert relay.ok("operator", "o1", "delivered", 4, "ds-sg-central")["status"] == "label_created"
    relay.ok("operator", "o2", "picked_up", 0, "sg-tuas")
    relay.ok("operator", "o3", "at_hub", 2, "air-SIN")
    final = relay.ok("operator", "o4", "out_for_delivery", 3, "hub-sg")
    assert final["status"] == "delivered"
    assert relay.order_status() == "delivered"


def test_a_shipment_of_another_carrier_and_an_unknown_one_answer_alike(relay: Relay) -> None:
    """Sky Cargo runs no leg of the parcel: its scan and its look are answered as for no shipment."""
    scan = {"event_id": "s1", "type": "picked_up", "occurred_at": relay.start.isoformat(), "node": "sg-tuas"}
    answers = []
    for shipment in (relay.parcel_id, "shp_0000000000000000"):
        url = f"{API}/shipments/{shipment}"
        for response in (
            relay.client.post(f"{url}/scans", json=scan, headers=relay.keys[SKY]),
            relay.client.get(url, headers=relay.keys[SKY]),
        ):
            problem = assert_problem(response, 404, "not-found")
            answers.append({k: str(v).replace(shipment, "ID") for k, v in problem.items()})
    assert answers[0] == answers[2] and answers[1] == answers[3], answers
    assert relay.state()[2] == []  # no scan stored
