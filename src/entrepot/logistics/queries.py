"""Whose shipments a caller sees, and the lists of them: the one rule the API's shipment routes and the
console's logistics pages apply (entry points ask here; neither keeps a copy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from entrepot.kernel.errors import not_found
from entrepot.logistics import service, tracking_service
from entrepot.logistics.domain import Network
from entrepot.logistics.models import Shipment, ShipmentLeg, TrackingEvent
from entrepot.logistics.tracking import CUSTODY_TYPES, EVENT_TYPES
from entrepot.ordering import queries as orders
from entrepot.platform.principal import Principal

LISTERS = ("operator", "seller", "carrier")  # a buyer follows its shipments from its orders
CUSTOMS_HELD = "customs_held"
# What a shipment's status can be: label_created, then the scans that move it (custody scans never do)
STATUSES = tuple(t for t in EVENT_TYPES if t not in CUSTODY_TYPES)


def require_visible(session: Session, principal: Principal, shipment: Shipment) -> None:
    """Operators see every shipment; a seller its own; a buyer those of its orders; a carrier those it
    carries on at least one leg. Any other is answered as an unknown shipment, never as its order."""
    buyer = orders.order_by_ref(session, shipment.order_ref).buyer_id if principal.role == "buyer" else None
    carriers = _carriers(session, shipment) if principal.role == "carrier" else set()
    if not principal.sees(shipment.seller_id, buyer, carriers):
        raise not_found("shipment", shipment.public_id)


def _carriers(session: Session, shipment: Shipment) -> set[str]:
    legs = tracking_service.carried_legs(session, service.network(session), shipment)
    return {leg.carrier for leg in legs if leg.carrier is not None}


@dataclass(frozen=True)
class ShipmentFilter:
    status: str | None = None
    service: str | None = None
    origin: str | None = None  # a node code
    destination: str | None = None
    cross_border: bool | None = None


def list_shipments(
    session: Session,
    principal: Principal,
    net: Network,
    filters: ShipmentFilter,
    after: int | None,
    limit: int,
) -> list[Shipment]:
    """Newest first, `limit` after the cursor's shipment, those `require_visible` lets the principal
    see: a carrier's are those with a leg on one of its lanes (in the network as it is now, as the
    single shipment's check reads them). A buyer is refused (403) before anything is read."""
    principal.require(*LISTERS)
    query = _scoped(select(Shipment), principal, net)
    for column, value in (
        (Shipment.status, filters.status),
        (Shipment.service, filters.service),
        (Shipment.origin_node, filters.origin),
        (Shipment.destination_node, filters.destination),
        (Shipment.cross_border, filters.cross_border),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(Shipment.id < after)
    return list(session.scalars(query.order_by(Shipment.id.desc()).limit(limit)))


def _scoped(query: Select[tuple[Shipment]], principal: Principal, net: Network) -> Select[tuple[Shipment]]:
    if principal.is_operator:
        return query
    if principal.role == "seller":
        return query.where(Shipment.seller_id == (principal.seller_id or -1))
    lanes = [lane.id for lane in net.lanes_by_id.values() if lane.carrier == principal.carrier]
    if principal.carrier is None or not lanes:
        return query.where(Shipment.id.is_(None))  # nothing: no lane is this carrier's
    carried = exists().where(ShipmentLeg.shipment_id == Shipment.id, ShipmentLeg.lane_code.in_(lanes))
    return query.where(carried)


@dataclass(frozen=True)
class Hold:
    """A shipment held at customs: where and since when (its last `customs_held` scan)."""

    shipment: Shipment
    node: str | None
    since: dt.datetime | None


def customs_holds(
    session: Session, principal: Principal, net: Network, after: int | None, limit: int
) -> list[Hold]:
    """The shipments held at customs now (their status), as `list_shipments` scopes them."""
    held = list_shipments(session, principal, net, ShipmentFilter(status=CUSTOMS_HELD), after, limit)
    if not held:
        return []
    scans = session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id.in_([s.id for s in held]), TrackingEvent.type == CUSTOMS_HELD)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    )
    latest = {scan.shipment_id: scan for scan in scans}  # scans arrive out of order: the last in time
    return [
        Hold(s, latest[s.id].node, latest[s.id].occurred_at) if s.id in latest else Hold(s, None, None)
        for s in held
    ]
