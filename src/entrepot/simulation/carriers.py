"""Simulated carriers: the scans a parcel's planned journey produces, with missed departures, customs
holds, returns and failed delivery attempts, posted through logistics' `record_scans` as each leg's
carrier's system would post them: in files of its own scans, held to its legs like any carrier's, with
the hand-over scans where one carrier's legs end and the next's begin (see logistics.tracking), and some
files sent in the wrong order, refused, and sent again."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.logistics import service as logistics
from entrepot.logistics import tracking_service as tracking
from entrepot.logistics.domain import Network
from entrepot.logistics.models import Shipment, ShipmentLeg
from entrepot.logistics.tracking import ACCEPTED, HANDED_OVER, Scan

# Shares of parcels, modelling assumptions for the demo.
MISSED_DEPARTURE = 0.06  # an exception at one leg's departure, then one or two days late from there on
CUSTOMS_HELD = 0.05  # of cross-border parcels: held one to three days before clearance
RETURNED = 0.004  # of cross-border parcels: held, then returned to sender
FAILED_ATTEMPT = 0.03  # nobody home: back to the station, delivered the next day
POSTED_LATE = 0.05  # of carriers' files: the later half is sent before the earlier one


@dataclass(frozen=True)
class Hop:
    origin: str
    destination: str
    mode: str
    departs: dt.datetime
    arrives: dt.datetime
    enters_destination_country: bool  # customs are cleared at its end
    carrier: str | None = None  # who runs it (None: operators post its scans)


Posted = tuple[str | None, Scan]  # a scan and the carrier that posts it


class _Script:
    """A parcel's scans in the order they happen, each with the carrier posting it. A scan is at least
    a minute after the one before, so the story replays as it is told and fits the carriers' rules."""

    def __init__(self, ref: str, hops: list[Hop]) -> None:
        self.ref = ref
        self.hops = hops
        self.posted: list[Posted] = []
        self.delay = dt.timedelta(0)
        self.holder = 0  # the hop whose carrier has the parcel

    def add(self, kind: str, at: dt.datetime, node: str, hop: int) -> None:
        """A scan by the carrier of `hops[hop]`, after the hand-overs that bring the parcel to it."""
        for index in range(self.holder + 1, hop + 1):
            self._hand_over(index)
        self.holder = max(self.holder, hop)
        self._post(self.hops[hop].carrier, kind, at + self.delay, node)

    def _hand_over(self, index: int) -> None:
        giver, taker = self.hops[index - 1], self.hops[index]
        if giver.carrier != taker.carrier:  # one carrier's consecutive legs need no hand-over
            at = taker.departs + self.delay - dt.timedelta(hours=1)
            self._post(giver.carrier, HANDED_OVER, at, taker.origin)
            self._post(taker.carrier, ACCEPTED, at, taker.origin)

    def _post(self, carrier: str | None, kind: str, at: dt.datetime, node: str) -> None:
        if self.posted:
            at = max(at, self.posted[-1][1].occurred_at + dt.timedelta(minutes=1))
        self.posted.append((carrier, Scan(f"{self.ref}-{len(self.posted) + 1}", kind, at, node)))


def journey_scans(ref: str, hops: list[Hop], rng: random.Random) -> list[Posted]:
    """The scans of one parcel: picked up, departed and arrived on each line haul, customs where it
    enters the destination country, at the last hub, out for delivery, delivered (or returned), with
    hand-overs between carriers on the way."""
    script = _Script(ref, hops)
    late_at = rng.randrange(len(hops)) if rng.random() < MISSED_DEPARTURE else None
    fate = rng.random()
    script.add("picked_up", hops[0].departs - dt.timedelta(minutes=30), hops[0].origin, 0)
    for index, hop in enumerate(hops):
        if index == late_at:
            script.add("exception", hop.departs, hop.origin, index)
            script.delay += dt.timedelta(days=rng.choice((1, 2)))
        if index == len(hops) - 1:
            _deliver(script, index, fate < FAILED_ATTEMPT)
        elif hop.mode != "road" or hop.enters_destination_country:
            script.add("departed", hop.departs, hop.origin, index)
            script.add("arrived", hop.arrives, hop.destination, index)
            if hop.enters_destination_country and not _clear(script, index, fate, rng):
                break
    return script.posted


def _clear(script: _Script, index: int, fate: float, rng: random.Random) -> bool:
    """Customs at the border; False when the parcel goes back to the sender."""
    hop = script.hops[index]
    if fate < RETURNED:
        script.add("customs_held", hop.arrives + dt.timedelta(hours=1), hop.destination, index)
        script.add("returned_to_sender", hop.arrives + dt.timedelta(days=5), hop.destination, index)
        return False
    if fate < RETURNED + CUSTOMS_HELD:
        script.add("customs_held", hop.arrives + dt.timedelta(hours=1), hop.destination, index)
        script.delay += dt.timedelta(days=rng.choice((1, 2, 3)))
    script.add("customs_cleared", hop.arrives + dt.timedelta(hours=2), hop.destination, index)
    return True


def _deliver(script: _Script, index: int, nobody_home: bool) -> None:
    hop = script.hops[index]
    script.add("at_hub", hop.departs - dt.timedelta(minutes=20), hop.origin, index)
    script.add("out_for_delivery", hop.departs, hop.origin, index)
    if nobody_home:
        script.add("at_hub", hop.arrives + dt.timedelta(hours=2), hop.origin, index)
        script.delay += dt.timedelta(days=1)
        script.add("out_for_delivery", hop.departs, hop.origin, index)
    script.add("delivered", hop.arrives, hop.destination, index)


def hops_of(net: Network, shipment: Shipment, legs: list[ShipmentLeg]) -> list[Hop]:
    def crosses(origin: str, destination: str) -> bool:
        countries = (net.nodes[origin].country, net.nodes[destination].country)
        return countries[0] != countries[1] and countries[1] == shipment.destination_country

    return [
        Hop(
            leg.origin,
            leg.destination,
            leg.mode,
            leg.departs_at,
            leg.arrives_at,
            shipment.cross_border and crosses(leg.origin, leg.destination),
            tracking.carrier_of(net, leg),
        )
        for leg in legs
    ]


Carried = tuple[bool, dt.datetime | None]  # the order has parcels; when its last was delivered, if all were


def carry(session: Session, order_refs: list[str], rng: random.Random, end: dt.datetime) -> list[Carried]:
    """Post the scans of the orders' parcels that happen before `end`, as the carriers' daily files would:
    each carrier its own run of scans, in turn, all the files in one `record_scan_files` (read and
    written together, judged one after another). For each order: whether it has parcels (the network
    shipped it), and when its last parcel was delivered if all were by then."""
    net = logistics.network(session)
    shipments = tracking.shipments_of_orders(session, order_refs)
    legs = tracking.legs_of_shipments(session, [s.id for ss in shipments.values() for s in ss])
    files: list[tuple[tracking.ScanFile, bool]] = []
    for ref in order_refs:
        for shipment in shipments[ref]:
            hops = hops_of(net, shipment, legs[shipment.id])
            scans = journey_scans(shipment.public_id, hops, rng)
            posted = [(c, s) for c, s in scans if s.occurred_at < end]
            if posted:
                received = max(s.occurred_at for _, s in posted)
                for carrier, run in itertools.groupby(posted, key=lambda p: p[0]):
                    files += _files(shipment.public_id, carrier, [s for _, s in run], received, rng)
    _post(session, files)
    return [_carried(shipments[ref]) for ref in order_refs]


def _carried(shipments: list[Shipment]) -> Carried:
    delivered = [s.delivered_at for s in shipments if s.delivered_at is not None]
    every = bool(shipments) and len(delivered) == len(shipments)
    return bool(shipments), max(delivered) if every else None


def _post(session: Session, files: list[tuple[tracking.ScanFile, bool]]) -> None:
    """The files in one go. A refusal the file was not sent out of turn to provoke is a fault of the
    demo's: it stops it."""
    if not files:
        return
    latest = max(file.received for file, _ in files if file.received is not None)
    posted = tracking.record_scan_files(session, [file for file, _ in files], latest)
    for (_, may_be_refused), outcome in zip(files, posted.outcomes, strict=True):
        if isinstance(outcome, tracking.ScanRefused) and not may_be_refused:
            raise outcome


def _files(
    shipment_id: str, carrier: str | None, scans: list[Scan], received: dt.datetime, rng: random.Random
) -> list[tuple[tracking.ScanFile, bool]]:
    """One carrier's file, and whether it may be refused. Some come later half first: that half is
    refused (its scans do not fit before the earlier ones), so the carrier's system sends it again
    after the earlier half."""
    half = len(scans) // 2
    if half and rng.random() < POSTED_LATE:
        early, late = scans[:half], scans[half:]
        return [
            (tracking.ScanFile(shipment_id, late, carrier, received), True),
            (tracking.ScanFile(shipment_id, early, carrier, received), False),
            (tracking.ScanFile(shipment_id, late, carrier, received), False),
        ]
    return [(tracking.ScanFile(shipment_id, scans, carrier, received), False)]
