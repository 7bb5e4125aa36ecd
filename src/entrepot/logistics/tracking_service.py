"""Use cases of tracking: carriers' scans stored once each (a carrier's only when they keep to its legs,
see tracking.carrier_refusal), the shipment's status replayed from them, its ETA recomputed on the
timetables after a delay, and the order's delivery milestones announced for ordering to follow
(`delivery.started`, `delivery.completed`: events, handled by `ordering.events`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed, not_found
from entrepot.kernel.events import DomainEvent
from entrepot.logistics import tracking
from entrepot.logistics.domain import Network, from_minutes, to_minutes
from entrepot.logistics.models import Shipment, ShipmentLeg, TrackingEvent
from entrepot.logistics.service import network
from entrepot.logistics.tracking import EVENT_TYPES, MOVING_STATUSES, Scan, replay
from entrepot.platform.db import by_public_id, insert_many_skipping, record_timed_events, table_of
from entrepot.platform.logs import current_request_id

# How the API answers each reason a carrier's scan is refused: a missing node is bad input; scanning a
# leg or node that is not the carrier's then is forbidden; a step out of turn conflicts with the history.
REFUSED_WITH = {
    tracking.NO_STATION: 422,
    tracking.NOT_HOLDING: 403,
    tracking.OFF_ROUTE: 403,
    tracking.NOT_ACCEPTED: 409,
    tracking.OUT_OF_ORDER: 409,
}


class ScanRefused(DomainError):
    """A carrier's batch that breaks a rule of tracking.carrier_refusal: nothing of it is stored."""

    def __init__(self, refusal: tracking.Refusal) -> None:
        extra = {"event_id": refusal.event_id, "reason": refusal.reason}
        status = REFUSED_WITH[refusal.reason]
        super().__init__(
            f"scan {refusal.event_id}: {refusal.detail}", [], extra, "scan-refused", status, "Scan refused"
        )


def get_shipment(session: Session, public_id: str, seller_id: int | None = None) -> Shipment:
    mine = Shipment.seller_id == seller_id if seller_id is not None else None
    return by_public_id(session, Shipment, public_id, "shipment", where=mine)


def legs_of(session: Session, shipment: Shipment) -> list[ShipmentLeg]:
    return legs_of_shipments(session, [shipment.id])[shipment.id]


def shipments_by_ref(session: Session, public_ids: Sequence[str]) -> dict[str, Shipment]:
    """public id -> shipment for each of these ids, in one statement; one that is not stored: NotFound."""
    found = {
        s.public_id: s for s in session.scalars(select(Shipment).where(Shipment.public_id.in_(public_ids)))
    }
    for public_id in public_ids:
        if public_id not in found:
            raise not_found("shipment", public_id)
    return found


def legs_of_shipments(session: Session, shipment_ids: Collection[int]) -> dict[int, list[ShipmentLeg]]:
    """shipment id -> its legs in order, for many shipments in one statement."""
    legs: dict[int, list[ShipmentLeg]] = {shipment_id: [] for shipment_id in shipment_ids}
    query = select(ShipmentLeg).where(ShipmentLeg.shipment_id.in_(legs)).order_by(ShipmentLeg.seq)
    for leg in session.scalars(query):
        legs[leg.shipment_id].append(leg)
    return legs


def scans_of(session: Session, shipment: Shipment) -> list[TrackingEvent]:
    return list(
        session.scalars(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment.id)
            .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
        )
    )


def carried_legs(session: Session, net: Network, shipment: Shipment) -> list[tracking.Leg]:
    """The shipment's legs with the carrier that runs each (its lane's, in the network as it is now)."""
    return [
        tracking.Leg(leg.origin, leg.destination, carrier_of(net, leg)) for leg in legs_of(session, shipment)
    ]


def carrier_of(net: Network, leg: ShipmentLeg) -> str | None:
    lane = net.lane(leg.lane_code)
    return lane.carrier if lane is not None else None


def record_scan(
    session: Session, shipment_id: str, scan: Scan, now: dt.datetime, carrier: str | None = None
) -> tuple[Shipment, bool]:
    """Store a carrier scan (a repeat of an event id changes nothing) and replay the shipment's status.
    Returns the shipment and whether the scan was new."""
    shipment, new = record_scans(session, shipment_id, [scan], now, carrier)
    return shipment, new == 1


def record_scans(
    session: Session, shipment_id: str, scans: list[Scan], now: dt.datetime, carrier: str | None = None
) -> tuple[Shipment, int]:
    """Store a batch of scans of one shipment (repeated event ids change nothing), then replay the status
    once. All are checked before any is stored. Returns the shipment and how many were new.

    `carrier` is who posts them: None for an operator (or the system), whose scans are kept as sent and
    applied where the state machine allows; a carrier's name, whose new scans must keep the rules of
    tracking.carrier_refusal (its legs, their nodes, the custody and the state machine), or the whole
    batch is refused with ScanRefused and nothing changes. Repeats are not judged again: a carrier
    resending a batch after a lost answer gets the same shipment back."""
    posted = record_scan_files(session, [ScanFile(shipment_id, scans, carrier)], now)
    [outcome] = posted.outcomes
    if isinstance(outcome, ScanRefused):
        raise outcome
    return posted.shipments[shipment_id], outcome


@dataclass(frozen=True)
class ScanFile:
    """One post of scans: a shipment's, by a carrier (None: an operator or the system)."""

    shipment: str
    scans: list[Scan]
    carrier: str | None = None
    received: dt.datetime | None = None  # when it came in (None: now); a replayed history's own times


@dataclass(frozen=True)
class PostedFiles:
    """The shipments the files named, and each file's outcome in turn: how many of its scans were new,
    or why it was refused (a refused file stores nothing; the files after it go on)."""

    shipments: dict[str, Shipment]
    outcomes: list[int | ScanRefused]


def record_scan_files(session: Session, files: Sequence[ScanFile], now: dt.datetime) -> PostedFiles:
    """Many posts of scans in one go, each judged and applied as `record_scans` would in turn: the
    shipments (locked), their legs and stored scans read in one statement each, the files taken in
    memory, the new scans inserted in one statement and the shipments' replayed statuses written at the
    flush. Bad input (an unknown scan type, node or shipment, a scan from the future) refuses them all."""
    for file in files:
        _check_scans(file.scans, file.received or now)
    parcels = _parcels(session, [file.shipment for file in files])
    net = network(session)
    for file in files:
        for scan in file.scans:
            if scan.node is not None and scan.node not in net.nodes:
                raise ValidationFailed("unknown node", [FieldError("node", f"no node {scan.node!r}")])
    events: list[tuple[DomainEvent, dt.datetime]] = []
    outcomes = [_post(net, parcels, file, now, events) for file in files]
    rows = [_scan_row(p.shipment, scan, at) for p in parcels.values() for scan, at in p.added]
    insert_many_skipping(session, _SCANS, rows, _SCAN_KEY)
    # the files' events in one statement, in the order they happened to the parcels (a statement each
    # was a sixth of the demo's time, with an autoflush of the shipments before each)
    record_timed_events(session, events, current_request_id())
    return PostedFiles({ref: p.shipment for ref, p in parcels.items()}, outcomes)


def _check_scans(scans: list[Scan], now: dt.datetime) -> None:
    for scan in scans:
        if scan.type not in EVENT_TYPES:
            raise ValidationFailed("unknown scan", [FieldError("type", ", ".join(EVENT_TYPES))])
        if scan.occurred_at > now + dt.timedelta(minutes=10):
            raise ValidationFailed(
                "a scan from the future", [FieldError("occurred_at", "after the time now")]
            )


@dataclass
class _Parcel:
    """A shipment as the files change it in memory: its legs, its scans in stored order, the new ones,
    and the shipments of its order (whose statuses say when the order is delivered)."""

    shipment: Shipment
    legs: list[ShipmentLeg]
    scans: list[tuple[dt.datetime, int, Scan]]  # (occurred_at, id or after every id, scan), sorted
    siblings: list[Shipment]
    added: list[tuple[Scan, dt.datetime]] = field(default_factory=list)  # with when each was received


NEW_ROW = 1 << 62  # new scans sort after every stored one at the same instant, as their ids will


def _parcels(session: Session, refs: list[str]) -> dict[str, _Parcel]:
    wanted = list(dict.fromkeys(refs))
    locked = select(Shipment).where(Shipment.public_id.in_(wanted)).order_by(Shipment.id).with_for_update()
    found = {s.public_id: s for s in session.scalars(locked)}
    for ref in wanted:
        if ref not in found:
            raise not_found("shipment", ref)
    ids = [s.id for s in found.values()]
    legs = legs_of_shipments(session, ids)
    stored: dict[int, list[tuple[dt.datetime, int, Scan]]] = {i: [] for i in ids}
    for row in session.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id.in_(ids))):
        stored[row.shipment_id].append((row.occurred_at, row.id, _as_scan(row)))
    orders = {s.order_ref for s in found.values()}
    siblings: dict[str, list[Shipment]] = {ref: [] for ref in orders}
    for s in session.scalars(select(Shipment).where(Shipment.order_ref.in_(orders)).order_by(Shipment.id)):
        siblings[s.order_ref].append(s)
    return {
        ref: _Parcel(s, legs[s.id], sorted(stored[s.id], key=_stored_order), siblings[s.order_ref])
        for ref, s in found.items()
    }


def _stored_order(entry: tuple[dt.datetime, int, Scan]) -> tuple[dt.datetime, int]:
    return entry[0], entry[1]


def _post(
    net: Network,
    parcels: dict[str, _Parcel],
    file: ScanFile,
    now: dt.datetime,
    events: list[tuple[DomainEvent, dt.datetime]],
) -> int | ScanRefused:
    """The file's new scans taken into its parcel, and the events they cause added to `events`."""
    parcel = parcels[file.shipment]
    known = {scan.event_id for _, _, scan in parcel.scans}
    fresh: dict[str, Scan] = {}
    for scan in file.scans:  # the first of a repeated event id is the one stored, as the insert keeps it
        if scan.event_id not in known:
            fresh.setdefault(scan.event_id, scan)
    if file.carrier is not None:
        legs = [tracking.Leg(leg.origin, leg.destination, carrier_of(net, leg)) for leg in parcel.legs]
        stored = [scan for _, _, scan in parcel.scans]
        refusal = tracking.carrier_refusal(legs, stored, list(fresh.values()), file.carrier)
        if refusal is not None:
            return ScanRefused(refusal)
    received = file.received or now
    for scan in fresh.values():
        parcel.scans.append((scan.occurred_at, NEW_ROW + len(parcel.added), scan))
        parcel.added.append((scan, received))
    if fresh:
        parcel.scans.sort(key=_stored_order)
        events.extend((event, received) for event in _follow(net, parcel, received))
    return len(fresh)


def _as_scan(row: TrackingEvent) -> Scan:
    return Scan(row.event_id, row.type, row.occurred_at, row.node)


def _scan_row(shipment: Shipment, scan: Scan, now: dt.datetime) -> dict[str, Any]:
    return {
        "shipment_id": shipment.id,
        "event_id": scan.event_id,
        "type": scan.type,
        "node": scan.node,
        "occurred_at": scan.occurred_at,
        "received_at": now,
        "note": "",
    }


_SCANS = table_of(TrackingEvent)
_SCAN_KEY = ("shipment_id", "event_id")  # a carrier's scan sent again is recorded once


def _follow(net: Network, parcel: _Parcel, now: dt.datetime) -> list[DomainEvent]:
    """The parcel's status, delivery time and ETA replayed from its scans; the events of a change."""
    shipment = parcel.shipment
    replayed = replay(scan for _, _, scan in parcel.scans)
    before = shipment.status
    shipment.status = replayed.status
    shipment.delivered_at = replayed.delivered_at
    shipment.eta = replayed.delivered_at or _eta(
        net, lambda: parcel.legs, replayed.last_movement, shipment.eta
    )
    shipment.updated_at = now
    if before != shipment.status:
        payload = {
            "from": before,
            "to": shipment.status,
            "eta": shipment.eta.isoformat(),
            "order": shipment.order_ref,
        }
        moved = DomainEvent(f"shipment.{shipment.status}", shipment.public_id, payload)
        return [moved, *_order_follows(parcel, before)]
    return []


# The events ordering follows its parcels by (ordering.events): the order's first parcel starts to move,
# its last parcel is delivered. Their aggregate is the order; the shipment that set them off is named.
DELIVERY_STARTED, DELIVERY_COMPLETED = "delivery.started", "delivery.completed"


def _order_follows(parcel: _Parcel, before: str) -> list[DomainEvent]:
    """Announce the order's delivery as complete with its last parcel, and as started when a parcel starts
    to move (moves between hubs say nothing new; a batch of scans may take a parcel from its label to
    delivered). Ordering moves the order along when the relay hands it the event."""
    shipment, milestone = parcel.shipment, None
    if shipment.status == "delivered" and all(s.status == "delivered" for s in parcel.siblings):
        milestone = DELIVERY_COMPLETED
    elif shipment.status in MOVING_STATUSES | {"delivered"} and before not in MOVING_STATUSES:
        milestone = DELIVERY_STARTED
    if milestone is None:
        return []
    return [DomainEvent(milestone, shipment.order_ref, {"shipment": shipment.public_id})]


def _eta(
    net: Network, legs: Callable[[], list[ShipmentLeg]], last: Scan | None, planned: dt.datetime
) -> dt.datetime:
    """Replan the rest of the route from where the parcel was last seen, on the lanes' timetables:
    a parcel that misses its flight waits for the next one, so a delay can cost days, not minutes.
    (`legs` is only read when the last sighting has a place.)"""
    remaining = _remaining_legs(legs(), last) if last is not None and last.node is not None else None
    if last is None or remaining is None:
        return planned
    clock = to_minutes(last.occurred_at)
    for index, leg in enumerate(remaining):
        lane = net.lane(leg.lane_code)
        if lane is None:
            return planned
        if index == 0 and last.type == "departed":
            clock += lane.transit_minutes  # already on its way
            continue
        node = net.nodes[lane.origin]
        clock = lane.departure(clock + node.handling_minutes, node.time_zone) + lane.transit_minutes
    return from_minutes(clock)


def _remaining_legs(legs: list[ShipmentLeg], last: Scan) -> list[ShipmentLeg] | None:
    for index, leg in enumerate(legs):
        if last.type == "departed" and leg.origin == last.node:
            return legs[index:]
        if (
            last.type in ("arrived", "at_hub", "customs_cleared", "customs_held")
            and leg.destination == last.node
        ):
            return legs[index + 1 :]
    return None


def shipments_of_orders(session: Session, order_refs: Collection[str]) -> dict[str, list[Shipment]]:
    """order ref -> its shipments (in the order they were made), for many orders in one statement."""
    found: dict[str, list[Shipment]] = {ref: [] for ref in order_refs}
    query = select(Shipment).where(Shipment.order_ref.in_(found)).order_by(Shipment.id)
    for shipment in session.scalars(query):
        found[shipment.order_ref].append(shipment)
    return found


def shipments_of_order(session: Session, order_ref: str) -> list[Shipment]:
    return shipments_of_orders(session, [order_ref])[order_ref]


@dataclass(frozen=True)
class ParcelAtStation:
    """A shipment waiting at its delivery station for the last mile, as local_services plans it."""

    shipment: str
    order_ref: str
    weight_g: int
    promised_at: dt.datetime


def parcels_at_station(session: Session, station: str) -> list[ParcelAtStation]:
    """The shipments whose route ends at `station` and whose last applied scan put them there (arrived or
    at the hub there): what the station delivers next, oldest promise first."""
    waiting = session.scalars(
        select(Shipment)
        .where(Shipment.destination_node == station, Shipment.status.in_(("arrived", "at_hub")))
        .order_by(Shipment.promised_at, Shipment.id)
    )
    parcels = []
    for shipment in waiting:
        last = replay(_as_scan(row) for row in scans_of(session, shipment)).last_movement
        if last is not None and last.node == station:
            parcels.append(
                ParcelAtStation(
                    shipment.public_id, shipment.order_ref, shipment.weight_g, shipment.promised_at
                )
            )
    return parcels
