"""Use cases of on-demand orders: a buyer places one at an open store and is promised a delivery time
quoted from the current state (the kitchen, the nearest free courier, the backlog, the ride); the courier
of its trip picks it up and hands it over with a proof; the buyer or an operator cancels it before
pick-up. The buyer names menu items and quantities; each line is priced from the store's menu when
the order is placed, and its name and price are copied onto the order.

Who sees an order: its buyer, the seller of its store, the courier of its trip, and operators; anyone
else is told there is no such order (404). Every change records its event in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.kernel.errors import FieldError, InvalidTransition, ValidationFailed
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.idempotency import IdempotencyKeyReused
from entrepot.kernel.ids import new_id
from entrepot.local_services import locate, menu_service
from entrepot.local_services.courier_service import acting_trip, release_trip
from entrepot.local_services.delivery import (
    ACTIVE_TRIP,
    Line,
    backlog_s,
    check_open,
    commission,
    delivery_fee,
    eta_after_pickup,
    move_order,
    move_trip,
    order_total,
    units_of,
)
from entrepot.local_services.locate import Located
from entrepot.local_services.models import Courier, DeliveryProof, LocalStore, OnDemandOrder, Trip
from entrepot.local_services.ondemand import DROPOFF_S, PICKUP_S, QUOTE_MODE, Quote, Store, quote
from entrepot.local_services.roads import Mode
from entrepot.platform.db import by_public_id, record_event
from entrepot.platform.principal import Principal

if TYPE_CHECKING:
    from entrepot.local_services.dispatch_match import DispatchRules

ORDER_PREFIX = "lor"
ORDER_PLACED = "local.order_placed"
ORDER_PICKED_UP = "local.order_picked_up"
ORDER_DELIVERED = "local.order_delivered"
ORDER_CANCELLED = "local.order_cancelled"
TRIP_DONE = "local.trip_done"


@cache
def dispatch_rules() -> DispatchRules:
    """The rules quotes and rounds apply (imported on first use: matching loads scipy.optimize, which
    the API does not load to start)."""
    from entrepot.local_services.dispatch_match import DispatchRules

    return DispatchRules()


@dataclass(frozen=True)
class Proof:
    kind: str
    reference: str
    point: tuple[float, float] | None = None


@dataclass(frozen=True)
class Claim:
    """A request's Idempotency-Key and its body's fingerprint (`kernel.idempotency.request_fingerprint`)."""

    key: str
    fingerprint: str


def place_order_once(
    session: Session,
    principal: Principal,
    store_ref: str,
    lines: Sequence[Line],
    drop: Located,
    now: dt.datetime,
    claim: Claim,
) -> tuple[OnDemandOrder, bool]:
    """`place_order` under an Idempotency-Key: the buyer's earlier order with this key if its body was
    the same (True: a replay), a 422 if it was another, else a new order. Two requests with one key at once
    make one order: the second's insert meets the first's key (it waits for the first to commit), its
    work is rolled back to a savepoint and it answers with the first's order."""
    earlier = earlier_order(session, principal, claim)
    if earlier is not None:
        return earlier, True
    try:
        with session.begin_nested():
            return place_order(session, principal, store_ref, lines, drop, now, claim), False
    except IntegrityError:
        earlier = earlier_order(session, principal, claim)
        if earlier is None:  # another constraint broke: not a duplicate key
            raise
        return earlier, True


def earlier_order(session: Session, principal: Principal, claim: Claim) -> OnDemandOrder | None:
    """The buyer's order placed with this key, if any; IdempotencyKeyReused if its body differed."""
    principal.require("buyer")
    earlier = session.scalar(
        select(OnDemandOrder).where(
            OnDemandOrder.buyer_id == principal.buyer_id, OnDemandOrder.idempotency_key == claim.key
        )
    )
    if earlier is not None and earlier.request_hash != claim.fingerprint:
        raise IdempotencyKeyReused()
    return earlier


def place_order(
    session: Session,
    principal: Principal,
    store_ref: str,
    lines: Sequence[Line],
    drop: Located,
    now: dt.datetime,
    claim: Claim | None = None,
) -> OnDemandOrder:
    principal.require("buyer")
    assert principal.buyer_id is not None
    store = session.scalar(select(LocalStore).where(LocalStore.public_id == store_ref))
    if store is None:
        raise ValidationFailed(f"no store {store_ref}", [FieldError("store", "unknown")])
    items = menu_service.priced_lines(session, store, lines)  # the menu's prices now, never the buyer's
    total = order_total(items, store.currency)
    units = units_of(store.kind, items)
    promise = quote_now(session, store, drop, now)
    fee = delivery_fee(
        store.currency, locate.route_metres([(store.lat, store.lon), (drop.lat, drop.lon)], QUOTE_MODE)
    )
    rate, commission_minor = commission(store.kind, total)
    order = OnDemandOrder(
        public_id=new_id(ORDER_PREFIX),
        buyer_id=principal.buyer_id,
        store_id=store.id,
        items=[  # a snapshot: a later change of the menu never restates the order
            {"item": i.item, "name": i.name, "quantity": i.quantity, "unit_price_minor": i.unit_price_minor}
            for i in items
        ],
        units=units,
        total_minor=total,
        delivery_fee_minor=fee,
        commission_rate=rate,
        commission_minor=commission_minor,
        currency=store.currency,
        address=drop.label,
        lat=drop.lat,
        lon=drop.lon,
        state="placed",
        placed_at=now,
        ready_at=now + dt.timedelta(minutes=store.prep_minutes),
        eta_at=now + dt.timedelta(seconds=promise.eta),
        spread_s=round(promise.spread_s),
        promised_at=now + dt.timedelta(seconds=promise.promised_at),
        idempotency_key=claim.key if claim else None,
        request_hash=claim.fingerprint if claim else None,
    )
    session.add(order)
    session.flush()
    payload = {
        "store": store.public_id,
        "buyer": principal.buyer_public_id,
        "total_minor": total,
        "delivery_fee_minor": fee,
        "currency": store.currency,
        "units": units,
        "promised_at": order.promised_at.isoformat(),
    }
    record_event(session, DomainEvent(ORDER_PLACED, order.public_id, payload), now)
    return order


def quote_now(session: Session, store: LocalStore, drop: Located, now: dt.datetime) -> Quote:
    """The promise from the current state, in seconds from `now`: refused when the store is closed."""
    second = check_open(store.public_id, store.opens_minute, store.closes_minute, now, store.time_zone)
    city = locate.city()
    at_store = (store.lat, store.lon)
    ride = float(city.matrix([at_store], [(drop.lat, drop.lon)], QUOTE_MODE)[0, 0])
    free = free_couriers(session, now)
    reach = min(
        (_reach_s(free, mode, at_store) for mode in {c.mode for c in free}),
        default=dispatch_rules().horizon_s,
    )
    backlog = backlog_s(
        _due_orders(session, now),
        len(free),
        _on_shift(session, now),
        dispatch_rules().batching.typical_orders_per_trip,
        dispatch_rules().batching.typical_trip_s,
    )
    kitchen = Store(
        store.id, 0, store.opens_minute * 60.0, store.closes_minute * 60.0, store.prep_minutes * 60.0
    )
    promise = quote(kitchen, second, ride, reach, backlog)
    return Quote(promise.eta - second, promise.spread_s, promise.promised_at - second)


def _reach_s(free: Sequence[Courier], mode: str, at_store: tuple[float, float]) -> float:
    """Seconds until the nearest free courier of the mode could be at the store; a store off that mode's
    roads (a pedestrian street for cars) is out of its reach."""
    points = [(c.lat, c.lon) for c in free if c.mode == mode and c.lat is not None and c.lon is not None]
    try:
        return float(locate.city().matrix(points, [at_store], Mode(mode))[:, 0].min())
    except ValidationFailed:
        return dispatch_rules().horizon_s


def on_shift(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Courier.shift_starts_at <= now, Courier.shift_ends_at > now)


def free_couriers(session: Session, now: dt.datetime, lock: bool = False) -> list[Courier]:
    """Couriers on shift, with a known position and no trip offered or under way (`lock`: FOR UPDATE
    SKIP LOCKED, so another round at once takes other couriers). A courier whose accepted trip was taken
    back (late, or its orders cancelled) is somewhere on the way: free again once it says where."""
    busy = select(Trip.courier_id).where(Trip.state.in_(ACTIVE_TRIP))
    moving = select(Trip.courier_id).where(
        Trip.courier_id == Courier.id,
        Trip.state == "released",
        Trip.accepted_at.is_not(None),
        Trip.ended_at > Courier.position_at,
    )
    query = select(Courier).where(
        on_shift(now), Courier.lat.is_not(None), Courier.id.not_in(busy), ~moving.exists()
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query.order_by(Courier.id)))


def _on_shift(session: Session, now: dt.datetime) -> int:
    return session.scalar(select(func.count()).select_from(Courier).where(on_shift(now))) or 0


def _due_orders(session: Session, now: dt.datetime) -> int:
    horizon = now + dt.timedelta(seconds=dispatch_rules().horizon_s)
    due = select(func.count()).where(OnDemandOrder.state == "placed", OnDemandOrder.ready_at <= horizon)
    return session.scalar(due) or 0


def _visible(principal: Principal) -> ColumnElement[bool] | None:
    """What of the orders this principal sees (None: all)."""
    if principal.is_operator:
        return None
    if principal.role == "buyer":
        return OnDemandOrder.buyer_id == principal.buyer_id
    if principal.role == "seller":
        return OnDemandOrder.store_id.in_(
            select(LocalStore.id).where(LocalStore.seller_id == principal.seller_id)
        )
    mine = (
        select(Trip.id).join(Courier, Courier.id == Trip.courier_id).where(Courier.key_id == principal.key_id)
    )
    return OnDemandOrder.trip_id.in_(mine)


def get_order(session: Session, principal: Principal, ref: str, lock: bool = False) -> OnDemandOrder:
    return by_public_id(session, OnDemandOrder, ref, "order", lock=lock, where=_visible(principal))


def list_orders(
    session: Session, principal: Principal, after: int | None, limit: int, state: str | None = None
) -> list[tuple[OnDemandOrder, str, str | None]]:
    """The orders the principal sees, oldest first, each with its store's and trip's public ids: one
    statement for the page, whatever it holds."""
    query = (
        select(OnDemandOrder, LocalStore.public_id, Trip.public_id)
        .join(LocalStore, LocalStore.id == OnDemandOrder.store_id)
        .outerjoin(Trip, Trip.id == OnDemandOrder.trip_id)
        .order_by(OnDemandOrder.id)
        .limit(limit)
    )
    seen = _visible(principal)
    if seen is not None:
        query = query.where(seen)
    if state is not None:
        query = query.where(OnDemandOrder.state == state)
    if after is not None:
        query = query.where(OnDemandOrder.id > after)
    return [(order, store, trip) for order, store, trip in session.execute(query)]


def store_ref(session: Session, order: OnDemandOrder) -> str:
    return session.scalar(select(LocalStore.public_id).where(LocalStore.id == order.store_id)) or ""


def trip_ref(session: Session, order: OnDemandOrder) -> str | None:
    if order.trip_id is None:
        return None
    return session.scalar(select(Trip.public_id).where(Trip.id == order.trip_id))


def cancel_order(
    session: Session, principal: Principal, ref: str, reason: str | None, now: dt.datetime
) -> OnDemandOrder:
    """Its buyer or an operator cancels an order not yet picked up; a trip left with nothing to carry is
    released, so its courier is free for the next round."""
    principal.require("buyer", "operator")
    order = get_order(session, principal, ref, lock=True)
    order.state = move_order(order.public_id, order.state, "cancelled")
    order.cancelled_at, order.cancel_reason = now, reason
    trip = session.get(Trip, order.trip_id) if order.trip_id is not None else None
    payload = {"reason": reason, "trip": trip.public_id if trip else None, "by": principal.role}
    record_event(session, DomainEvent(ORDER_CANCELLED, order.public_id, payload), now)
    if trip is not None and trip.state in ACTIVE_TRIP:
        session.flush()
        _end_trip_if_empty(session, trip, now)
    return order


def _end_trip_if_empty(session: Session, trip: Trip, now: dt.datetime) -> None:
    """A trip with no order left to carry ends: released when none was delivered (a cancelled trip),
    done when it delivered its last."""
    states = set(session.scalars(select(OnDemandOrder.state).where(OnDemandOrder.trip_id == trip.id)))
    if states & {"assigned", "picked_up"}:
        return
    if "delivered" in states:
        trip.state = move_trip(trip.public_id, trip.state, "done")
        trip.ended_at = now
        record_event(session, DomainEvent(TRIP_DONE, trip.public_id, _trip_done(session, trip)), now)
        return
    release_trip(session, trip, now, "cancelled")


def _trip_done(session: Session, trip: Trip) -> dict[str, object]:
    """What emissions and reporting read of a finished trip: the courier's mode and the metres of its
    planned route through the stops (e-bike and car kilometres become emissions), the orders delivered."""
    courier = session.get(Courier, trip.courier_id)
    assert courier is not None
    points = [(float(stop["lat"]), float(stop["lon"])) for stop in trip.stops]
    delivered = session.scalars(
        select(OnDemandOrder.public_id).where(
            OnDemandOrder.trip_id == trip.id, OnDemandOrder.state == "delivered"
        )
    )
    return {
        "courier": courier.public_id,
        "mode": courier.mode,
        "distance_m": locate.route_metres(points, Mode(courier.mode)),
        "orders": sorted(delivered),
    }


def _courier_order(session: Session, principal: Principal, ref: str) -> tuple[OnDemandOrder, Trip]:
    """An order the principal carries (or any, for an operator), with its trip; 404 otherwise."""
    principal.require("carrier", "operator")
    order = get_order(session, principal, ref, lock=True)
    if order.trip_id is None:
        raise InvalidTransition(f"order {ref} is {order.state}: no courier carries it", state=order.state)
    trip = session.get(Trip, order.trip_id)
    assert trip is not None
    acting_trip(session, principal, trip.public_id)
    return order, trip


def pick_up(session: Session, principal: Principal, ref: str, now: dt.datetime) -> OnDemandOrder:
    order, trip = _courier_order(session, principal, ref)
    if trip.state != "accepted":
        raise InvalidTransition(
            f"trip {trip.public_id} is {trip.state}: accept it before picking up", state=trip.state
        )
    order.state = move_order(order.public_id, order.state, "picked_up")
    order.picked_up_at = now
    mode = Mode(session.scalar(select(Courier.mode).where(Courier.id == trip.courier_id)) or QUOTE_MODE)
    eta = eta_after_pickup(trip.stops, order.public_id, now, PICKUP_S, DROPOFF_S[mode])
    order.eta_at = eta if eta is not None else order.eta_at
    record_event(session, DomainEvent(ORDER_PICKED_UP, order.public_id, {"trip": trip.public_id}), now)
    return order


def deliver(
    session: Session, principal: Principal, ref: str, proof: Proof, now: dt.datetime
) -> OnDemandOrder:
    order, trip = _courier_order(session, principal, ref)
    order.state = move_order(order.public_id, order.state, "delivered")
    if proof.point is not None:
        locate.on_map(proof.point[0], proof.point[1], "point")
    order.delivered_at = now
    lat, lon = proof.point if proof.point is not None else (None, None)
    session.add(
        DeliveryProof(
            order_id=order.id, kind=proof.kind, reference=proof.reference, lat=lat, lon=lon, recorded_at=now
        )
    )
    store = session.get(LocalStore, order.store_id)
    assert store is not None
    seller = session.scalar(
        select(catalog.seller_public_id(LocalStore.seller_id)).where(LocalStore.id == store.id)
    )
    payload = {  # a delivered order's GMV in its market, and what the platform earns on it (fee, commission)
        "trip": trip.public_id,
        "store": store.public_id,
        "seller": seller,
        "market": store.market,
        "kind": store.kind,
        "total_minor": order.total_minor,
        "delivery_fee_minor": order.delivery_fee_minor,
        "commission_rate": str(order.commission_rate),
        "commission_minor": order.commission_minor,
        "currency": order.currency,
        "late_s": max(0, round((now - order.promised_at).total_seconds())),
        "proof": proof.kind,
    }
    record_event(session, DomainEvent(ORDER_DELIVERED, order.public_id, payload), now)
    session.flush()
    _end_trip_if_empty(session, trip, now)
    return order


def orders_by_trip(session: Session, trip_ids: Sequence[int]) -> dict[int, list[OnDemandOrder]]:
    found: dict[int, list[OnDemandOrder]] = {}
    rows = session.scalars(
        select(OnDemandOrder).where(OnDemandOrder.trip_id.in_(trip_ids)).order_by(OnDemandOrder.id)
    )
    for order in rows:
        assert order.trip_id is not None
        found.setdefault(order.trip_id, []).append(order)
    return found
