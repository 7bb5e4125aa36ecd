"""Simulated carriers: the scans a parcel's planned journey produces, with missed departures, customs
holds, returns and failed delivery attempts, posted through logistics' `record_scan` as a carrier's
system would post them (in batches, some late and out of order)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.logistics import service as logistics
from entrepot.logistics import tracking_service as tracking
from entrepot.logistics.domain import Network
from entrepot.logistics.models import Shipment
from entrepot.logistics.tracking import Scan

# Shares of parcels, modelling assumptions for the demo.
MISSED_DEPARTURE = 0.06  # an exception at one leg's departure, then one or two days late from there on
CUSTOMS_HELD = 0.05  # of cross-border parcels: held one to three days before clearance
RETURNED = 0.004  # of cross-border parcels: held, then returned to sender
FAILED_ATTEMPT = 0.03  # nobody home: back to the station, delivered the next day
POSTED_LATE = 0.05  # the later scans arrive before the earlier ones


@dataclass(frozen=True)
class Hop:
    origin: str
    destination: str
    mode: str
    departs: dt.datetime
    arrives: dt.datetime
    enters_destination_country: bool  # customs are cleared at its end


class _Script:
    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.scans: list[Scan] = []
        self.delay = dt.timedelta(0)

    def add(self, kind: str, at: dt.datetime, node: str) -> None:
        self.scans.append(Scan(f"{self.ref}-{len(self.scans) + 1}", kind, at + self.delay, node))


def journey_scans(ref: str, hops: list[Hop], rng: random.Random) -> list[Scan]:
    """The scans of one parcel: picked up, departed and arrived on each line haul, customs where it
    enters the destination country, at the last hub, out for delivery, delivered (or returned)."""
    script = _Script(ref)
    late_at = rng.randrange(len(hops)) if rng.random() < MISSED_DEPARTURE else None
    fate = rng.random()
    script.add("picked_up", hops[0].departs - dt.timedelta(minutes=30), hops[0].origin)
    for index, hop in enumerate(hops):
        if index == late_at:
            script.add("exception", hop.departs, hop.origin)
            script.delay += dt.timedelta(days=rng.choice((1, 2)))
        if index == len(hops) - 1:
            _deliver(script, hop, fate < FAILED_ATTEMPT)
        elif hop.mode != "road" or hop.enters_destination_country:
            script.add("departed", hop.departs, hop.origin)
            script.add("arrived", hop.arrives, hop.destination)
            if hop.enters_destination_country and not _clear(script, hop, fate, rng):
                break
    return script.scans


def _clear(script: _Script, hop: Hop, fate: float, rng: random.Random) -> bool:
    """Customs at the border; False when the parcel goes back to the sender."""
    if fate < RETURNED:
        script.add("customs_held", hop.arrives + dt.timedelta(hours=1), hop.destination)
        script.add("returned_to_sender", hop.arrives + dt.timedelta(days=5), hop.destination)
        return False
    if fate < RETURNED + CUSTOMS_HELD:
        script.add("customs_held", hop.arrives + dt.timedelta(hours=1), hop.destination)
        script.delay += dt.timedelta(days=rng.choice((1, 2, 3)))
    script.add("customs_cleared", hop.arrives + dt.timedelta(hours=2), hop.destination)
    return True


def _deliver(script: _Script, hop: Hop, nobody_home: bool) -> None:
    script.add("at_hub", hop.departs - dt.timedelta(minutes=20), hop.origin)
    script.add("out_for_delivery", hop.departs, hop.origin)
    if nobody_home:
        script.add("at_hub", hop.arrives + dt.timedelta(hours=2), hop.origin)
        script.delay += dt.timedelta(days=1)
        script.add("out_for_delivery", hop.departs, hop.origin)
    script.add("delivered", hop.arrives, hop.destination)


def hops_of(session: Session, net: Network, shipment: Shipment) -> list[Hop]:
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
        )
        for leg in tracking.legs_of(session, shipment)
    ]


def carry(session: Session, order_ref: str, rng: random.Random, end: dt.datetime) -> dt.datetime | None:
    """Post the scans of an order's parcels that happen before `end`, as a carrier's daily file would:
    one batch per parcel, or for some the later half first and the earlier half after it. Returns when
    the last parcel was delivered, if all were by then."""
    net = logistics.network(session)
    delivered: list[dt.datetime] = []
    shipments = tracking.shipments_of_order(session, order_ref)
    for shipment in shipments:
        hops = hops_of(session, net, shipment)
        scans = [s for s in journey_scans(shipment.public_id, hops, rng) if s.occurred_at < end]
        if not scans:
            continue
        received = max(s.occurred_at for s in scans)
        half = len(scans) // 2
        batches = [scans[half:], scans[:half]] if half and rng.random() < POSTED_LATE else [scans]
        for batch in batches:
            tracking.record_scans(session, shipment.public_id, batch, received)
        if shipment.delivered_at is not None:
            delivered.append(shipment.delivered_at)
    return max(delivered) if shipments and len(delivered) == len(shipments) else None
