"""Use cases of couriers: an operator registers a courier (its mode, shift and the carrier API key it
acts with); the courier posts where it is, reads the trip it is offered, accepts or declines it.

A courier acts with a carrier key bound to it alone (one courier per key): that key may ping, read and
act for that courier and no other, whose id it is answered as no courier (404); a seller's or a buyer's
key is refused (403) before any id is looked up. Operators see and act for every courier."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.identity import service as identity
from entrepot.kernel.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    not_found,
)
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.local_services.delivery import ACTIVE_TRIP, check_shift, move_order, move_trip
from entrepot.local_services.locate import on_map
from entrepot.local_services.models import Courier, OnDemandOrder, Trip
from entrepot.local_services.ondemand import CAPACITY
from entrepot.local_services.roads import Mode
from entrepot.platform import audit
from entrepot.platform.db import by_public_id, record_event
from entrepot.platform.principal import Principal

COURIER_PREFIX = "cou"
COURIER_REGISTERED = "local.courier_registered"
TRIP_ACCEPTED = "local.trip_accepted"
TRIP_RELEASED = "local.trip_released"
ORDER_REPLANNED = "local.order_replanned"
COURIER_ROLES = ("operator", "carrier")


def register_courier(
    session: Session,
    name: str,
    mode: Mode,
    key: str,
    shift: tuple[dt.datetime, dt.datetime],
    now: dt.datetime,
) -> Courier:
    """Operators only (the route checks the role). The key must be a live carrier key no other courier
    has; the shift must be possible."""
    check_shift(shift[0], shift[1], now)
    try:
        view = identity.get_api_key(session, key)
    except NotFound:
        raise ValidationFailed(f"no API key {key}", [FieldError("key", "unknown")]) from None
    if view.role != "carrier" or view.revoked_at is not None:
        raise ValidationFailed(
            f"API key {key} is not a live carrier key", [FieldError("key", "a live carrier key")]
        )
    if session.scalar(select(Courier.id).where(Courier.key_id == key)) is not None:
        raise Conflict(f"API key {key} is another courier's already", "key-taken")
    courier = Courier(
        public_id=new_id(COURIER_PREFIX),
        key_id=key,
        name=name,
        mode=mode.value,
        capacity=CAPACITY[mode],
        shift_starts_at=shift[0],
        shift_ends_at=shift[1],
        created_at=now,
    )
    session.add(courier)
    session.flush()
    payload = {
        "mode": courier.mode,
        "shift_starts_at": shift[0].isoformat(),
        "shift_ends_at": shift[1].isoformat(),
    }
    record_event(session, DomainEvent(COURIER_REGISTERED, courier.public_id, payload), now)
    audit.record(session, "local_courier.registered", courier.public_id, None, {**payload, "key": key}, now)
    return courier


def acting_courier(session: Session, principal: Principal, ref: str, lock: bool = False) -> Courier:
    """The courier `ref`, if the principal may act for it: an operator any, a carrier key only the
    courier it is bound to (another is no courier: 404); any other role 403."""
    principal.require(*COURIER_ROLES)
    where = None if principal.is_operator else Courier.key_id == principal.key_id
    return by_public_id(session, Courier, ref, "courier", lock=lock, where=where)


def list_couriers(session: Session, principal: Principal, after: int | None, limit: int) -> list[Courier]:
    principal.require(*COURIER_ROLES)
    query = select(Courier).order_by(Courier.id).limit(limit)
    if not principal.is_operator:
        query = query.where(Courier.key_id == principal.key_id)
    if after is not None:
        query = query.where(Courier.id > after)
    return list(session.scalars(query))


def ping(
    session: Session, principal: Principal, ref: str, lat: float, lon: float, now: dt.datetime
) -> Courier:
    """Where the courier is now: off the map is refused (422), another courier's id is none (404)."""
    courier = acting_courier(session, principal, ref, lock=True)
    on_map(lat, lon, "point")
    courier.lat, courier.lon, courier.position_at = lat, lon, now
    return courier


def current_trip(session: Session, principal: Principal, ref: str) -> Trip:
    """The courier's trip offered or under way (404 when it has none)."""
    courier = acting_courier(session, principal, ref)
    trip = session.scalar(
        select(Trip)
        .where(Trip.courier_id == courier.id, Trip.state.in_(ACTIVE_TRIP))
        .order_by(Trip.id.desc())
    )
    if trip is None:
        raise not_found("trip of courier", ref)
    return trip


def acting_trip(session: Session, principal: Principal, ref: str) -> Trip:
    """A trip the principal may act on: its courier's key or an operator; another's is no trip (404)."""
    principal.require(*COURIER_ROLES)
    trip = by_public_id(session, Trip, ref, "trip", lock=True)
    if not principal.is_operator:
        courier = session.get(Courier, trip.courier_id)
        if courier is None or courier.key_id != principal.key_id:
            raise not_found("trip", ref)
    return trip


def accept_trip(session: Session, principal: Principal, ref: str, now: dt.datetime) -> Trip:
    trip = acting_trip(session, principal, ref)
    trip.state = move_trip(trip.public_id, trip.state, "accepted")
    trip.accepted_at = now
    record_event(
        session, DomainEvent(TRIP_ACCEPTED, trip.public_id, {"orders": _order_refs(session, trip)}), now
    )
    return trip


def decline_trip(session: Session, principal: Principal, ref: str, now: dt.datetime) -> Trip:
    """A courier turns an offer down: its orders wait for the next round."""
    trip = acting_trip(session, principal, ref)
    if trip.state != "offered":
        raise InvalidTransition(
            f"trip {trip.public_id} is {trip.state}: only an offer is declined", state=trip.state
        )
    release_trip(session, trip, now, "declined")
    return trip


def release_trip(session: Session, trip: Trip, now: dt.datetime, why: str) -> list[str]:
    """Take a trip back: its orders not yet picked up go back to placed for the next round; the trip ends
    released if none of its orders is on board, else it carries on with those. Returns the orders freed."""
    freed = []
    for order in session.scalars(
        select(OnDemandOrder).where(OnDemandOrder.trip_id == trip.id, OnDemandOrder.state == "assigned")
    ):
        order.state = move_order(order.public_id, order.state, "placed")
        order.trip_id = None
        freed.append(order.public_id)
        record_event(
            session, DomainEvent(ORDER_REPLANNED, order.public_id, {"trip": trip.public_id, "why": why}), now
        )
    on_board = session.scalar(
        select(OnDemandOrder.id)
        .where(OnDemandOrder.trip_id == trip.id, OnDemandOrder.state == "picked_up")
        .limit(1)
    )
    if on_board is None:
        trip.state = move_trip(trip.public_id, trip.state, "released")
        trip.ended_at = now
        record_event(session, DomainEvent(TRIP_RELEASED, trip.public_id, {"why": why, "orders": freed}), now)
    return freed


def _order_refs(session: Session, trip: Trip) -> list[str]:
    return list(
        session.scalars(
            select(OnDemandOrder.public_id).where(OnDemandOrder.trip_id == trip.id).order_by(OnDemandOrder.id)
        )
    )
