"""Local couriers' kilometres as emissions (issue 22): a finished on-demand trip (`local.trip_done`, from
local services) is recorded once with the orders it delivered, and its emissions (vehicle-km x the
courier mode's factor, `domain.local_trip_emissions`) are stored per delivered order under the current
calculation version, then again under every new version (`recompute`), as shipments' chains are.

Local services is read only through its events: the trip's own (mode, metres, orders delivered) and each
order's `local.order_delivered` (its store's seller and market), both in the outbox for good. The
organisation gives each market its country (which scoped tables answer: an e-bike's grid), and the
business unit and division the trip is accounted to: the unit that runs on-demand delivery (couriers are
its operation, as the delivery fees are its revenue), in its division as it stood on the trip's day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from entrepot.emissions.domain import LocalTripResult, local_trip_emissions
from entrepot.emissions.factors import FactorSet
from entrepot.emissions.models import LocalDelivery, LocalResult, LocalTripActivity
from entrepot.emissions.versions import current_version, factor_set_of, resolve_version
from entrepot.kernel.errors import NotFound
from entrepot.organization import service as organization
from entrepot.organization.domain import ON_DEMAND_UNIT
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry

TRIP_DONE = "local.trip_done"  # local services' event names (order_service.TRIP_DONE, ORDER_DELIVERED)
ORDER_DELIVERED = "local.order_delivered"
# A trip is accounted to the organisation's on-demand unit (organization.domain.ON_DEMAND_UNIT); an
# organisation without it accounts a trip to its store's marketplace instead, so a trip always has a
# division when its market has one.


class TripNotRecordable(LookupError):
    """A trip whose delivered orders' events cannot be read: the relay retries it, then parks it as dead
    with this reason (the outbox keeps every event, so this is a bug to see, not a state to pass over)."""


def on_trips_done(session: Session, events: list[Event]) -> None:
    """Record finished trips and their emissions, a relay's batch at a time. Idempotent: an event relayed
    again records nothing. If one trip cannot be recorded the batch fails and the relay hands its events
    over one by one, so that trip alone is retried."""
    record_trips(session, [(e.aggregate_id, e.payload, e.occurred_at) for e in events], _latest(events))


def on_trip_done(session: Session, event: Event) -> None:
    on_trips_done(session, [event])


def register(registry: HandlerRegistry) -> None:
    registry.register_batch([TRIP_DONE], on_trips_done)


def _latest(events: Sequence[Event]) -> dt.datetime:
    return max(e.occurred_at for e in events)


@dataclass(frozen=True)
class Place:
    """What a market means for a delivery's emissions: its country, the unit that delivered (reported
    as the marketplace) and that unit's division."""

    country: str
    marketplace: str
    division: str


Done = tuple[str, dict[str, Any], dt.datetime]  # a trip's ref, its `local.trip_done` payload, when


def record_trips(session: Session, done: Sequence[Done], now: dt.datetime) -> list[LocalTripActivity]:
    """Store finished trips, the orders each delivered with their dimensions, and each order's share of
    its trip's emissions under the current version; trips recorded already are left as they are.
    Returns the trips recorded now."""
    refs = [ref for ref, _, _ in done]
    recorded = set(
        session.scalars(select(LocalTripActivity.trip_ref).where(LocalTripActivity.trip_ref.in_(refs)))
    )
    new = list({ref: (ref, payload, at) for ref, payload, at in done if ref not in recorded}.values())
    if not new:
        return []
    orders = {ref: _orders_of(ref, payload) for ref, payload, _ in new}
    sold = _delivered(session, orders)
    place = _places(session)
    trips, rows = [], []
    for ref, payload, at in new:
        here = {sold[o][1]: place(sold[o][1], at.date()) for o in orders[ref]}
        trips.append(_trip(ref, payload, at.date(), here, now))
        rows.append([(o, *sold[o], here[sold[o][1]]) for o in orders[ref]])
    session.add_all(trips)
    session.flush()
    deliveries = [[_delivery(t, *row) for row in per_trip] for t, per_trip in zip(trips, rows, strict=True)]
    session.add_all([d for per_trip in deliveries for d in per_trip])
    session.flush()
    number = current_version(session, now)
    factors = factor_set_of(session, number)
    values = [
        v
        for t, per_trip in zip(trips, deliveries, strict=True)
        for v in _results(number, t, per_trip, factors)
    ]
    session.execute(insert(LocalResult), values)  # one statement for the batch's trips
    return trips


def _places(session: Session) -> Callable[[str, dt.date], Place]:
    """A market's place on a day, read once per batch (a batch's trips share a few markets and days)."""
    known: dict[tuple[str, dt.date], Place] = {}

    def place(market: str, day: dt.date) -> Place:
        if (market, day) not in known:
            known[(market, day)] = _place(session, market, day)
        return known[(market, day)]

    return place


def _orders_of(trip_ref: str, payload: dict[str, Any]) -> list[str]:
    orders = [str(ref) for ref in payload["orders"]]
    if not orders:
        raise TripNotRecordable(f"trip {trip_ref} delivered no order: nothing carries its emissions")
    return orders


def _trip(
    ref: str, payload: dict[str, Any], day: dt.date, places: dict[str, Place], now: dt.datetime
) -> LocalTripActivity:
    return LocalTripActivity(
        trip_ref=ref,
        courier_ref=str(payload.get("courier", "")),
        mode=str(payload["mode"]),
        distance_m=int(payload["distance_m"]),
        countries=",".join(sorted({p.country for p in places.values()})),
        done_on=day,
        recorded_at=now,
    )


def _delivered(session: Session, orders: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """order -> (seller, market) from each order's `local.order_delivered`, which local services writes
    in the transaction that ends the trip, so it is always there before `local.trip_done` is relayed."""
    wanted = [o for refs in orders.values() for o in refs]
    rows = session.execute(
        select(OutboxEvent.aggregate_id, OutboxEvent.payload).where(
            OutboxEvent.type == ORDER_DELIVERED, OutboxEvent.aggregate_id.in_(wanted)
        )
    ).all()
    found = {ref: (str(p.get("seller") or ""), str(p["market"])) for ref, p in rows}
    for trip_ref, refs in orders.items():
        unknown = [ref for ref in refs if ref not in found]
        if unknown:
            raise TripNotRecordable(f"trip {trip_ref}: no {ORDER_DELIVERED} event for {', '.join(unknown)}")
    return found


def _place(session: Session, market_code: str, day: dt.date) -> Place:
    market = organization.get_market(session, market_code)
    unit = ON_DEMAND_UNIT
    if organization.find_unit(session, unit) is None:
        unit = organization.market_business_unit_code(session, market)
    division = organization.ancestry_on(session, unit, day).get("division", "")
    return Place(market.country, unit, division)


def _delivery(trip: LocalTripActivity, order: str, seller: str, market: str, place: Place) -> LocalDelivery:
    return LocalDelivery(
        trip_id=trip.id,
        order_ref=order,
        seller_ref=seller,
        market=market,
        marketplace=place.marketplace,
        division=place.division,
    )


def _countries(trip: LocalTripActivity) -> tuple[str, ...]:
    return tuple(c for c in trip.countries.split(",") if c)


def _results(
    number: int, trip: LocalTripActivity, deliveries: Sequence[LocalDelivery], factors: FactorSet
) -> list[dict[str, Any]]:
    """The rows of a trip's results under version `number`: one per delivered order, in the orders'
    recorded order (so a re-statement gives each order the same share of the split)."""
    result = local_trip_emissions(trip.mode, trip.distance_m, len(deliveries), _countries(trip), factors)
    km = trip.distance_m / 1000 / len(deliveries)
    return [
        _values(number, trip.id, d.id, km, result, i) for i, d in enumerate(sorted(deliveries, key=_by_id))
    ]


def _by_id(delivery: LocalDelivery) -> int:
    return delivery.id


def _values(
    number: int, trip_id: int, delivery_id: int, km: float, result: LocalTripResult, i: int
) -> dict[str, Any]:
    share, f = result.shares[i], result.factor
    return {
        "version": number,
        "trip_id": trip_id,
        "delivery_id": delivery_id,
        "km": km,
        "ttw_mg": share.ttw_mg,
        "wtt_mg": share.wtt_mg,
        "wtw_mg": share.wtw_mg,
        "category": result.category[:160],
        "factor_table": f.table if f else None,
        "factor_row": f.row if f else None,
        "factor_ttw": f.ttw if f else None,
        "factor_wtt": f.wtt if f else None,
        "factor_wtw": f.wtw if f else None,
        "factor_unit": f.unit if f else None,
        "factor_source": f.source if f else None,
        "missing_factor": f is None,
    }


def recompute(session: Session, number: int, factors: FactorSet, batch: int = 5_000) -> int:
    """Every recorded trip under version `number` (which `service.new_version` has just opened with
    `factors`). Trips that already have results under it are left as they are, so a second call changes
    nothing. Returns how many trips were computed."""
    done_already = select(LocalResult.trip_id).where(LocalResult.version == number).distinct()
    done, after = 0, 0
    while True:
        trips = session.scalars(
            select(LocalTripActivity)
            .where(LocalTripActivity.id > after, LocalTripActivity.id.not_in(done_already))
            .order_by(LocalTripActivity.id)
            .limit(batch)
        ).all()
        if not trips:
            return done
        deliveries: dict[int, list[LocalDelivery]] = {}
        ids = [t.id for t in trips]
        for d in session.scalars(select(LocalDelivery).where(LocalDelivery.trip_id.in_(ids))):
            deliveries.setdefault(d.trip_id, []).append(d)
        values = [row for trip in trips for row in _results(number, trip, deliveries[trip.id], factors)]
        session.execute(insert(LocalResult), values)  # one statement a batch of trips
        done += len(trips)
        after = trips[-1].id


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TripEmissions:
    trip: LocalTripActivity
    version: int
    shares: list[tuple[LocalDelivery, LocalResult]]


def trip_emissions(
    session: Session, trip_ref: str, version: int | None = None, seller_ref: str | None = None
) -> TripEmissions:
    """A recorded trip with each delivered order's share under `version` (the newest by default); for a
    seller, only its own orders' shares, and a trip that delivered none of them is not found."""
    missing = NotFound(f"no emissions recorded for trip {trip_ref}")
    trip = session.scalar(select(LocalTripActivity).where(LocalTripActivity.trip_ref == trip_ref))
    if trip is None:
        raise missing
    query = select(LocalDelivery).where(LocalDelivery.trip_id == trip.id)
    if seller_ref is not None:
        query = query.where(LocalDelivery.seller_ref == seller_ref)
    if session.scalar(query.limit(1)) is None:  # none of the seller's orders: not its trip to see
        raise missing
    number = resolve_version(session, version)
    rows = session.execute(
        select(LocalDelivery, LocalResult)
        .join(LocalResult, LocalResult.delivery_id == LocalDelivery.id)
        .where(LocalDelivery.id.in_(query.with_only_columns(LocalDelivery.id)), LocalResult.version == number)
        .order_by(LocalDelivery.id)
    ).all()
    return TripEmissions(trip, number, [(d, r) for d, r in rows])


def backfill(session: Session, now: dt.datetime) -> int:
    """Record the trips whose `local.trip_done` was relayed before this handler was registered (the
    outbox keeps every event). Returns how many were recorded."""
    recorded = set(session.scalars(select(LocalTripActivity.trip_ref)))
    done = session.execute(
        select(OutboxEvent.aggregate_id, OutboxEvent.payload, OutboxEvent.occurred_at)
        .where(OutboxEvent.type == TRIP_DONE)
        .order_by(OutboxEvent.id)
    ).all()
    missing = [(ref, payload, at) for ref, payload, at in done if ref not in recorded]
    return len(record_trips(session, missing, now)) if missing else 0
