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
from collections.abc import Sequence
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
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry

TRIP_DONE = "local.trip_done"  # local services' event names (order_service.TRIP_DONE, ORDER_DELIVERED)
ORDER_DELIVERED = "local.order_delivered"
# The business unit that runs on-demand delivery in the group's organisation (Ele.me's, in Local consumer
# services: simulation.scenario seeds it). An organisation without it accounts a trip to its store's
# marketplace instead, so a trip always has a division when its market has one.
ON_DEMAND_UNIT = "ele-me"


class TripNotRecordable(LookupError):
    """A trip whose delivered orders' events cannot be read: the relay retries it, then parks it as dead
    with this reason (the outbox keeps every event, so this is a bug to see, not a state to pass over)."""


def on_trip_done(session: Session, event: Event) -> None:
    """Record a finished trip and its emissions. Idempotent: a relayed-again event records nothing."""
    record_trip(session, event.aggregate_id, event.payload, event.occurred_at, event.occurred_at)


def register(registry: HandlerRegistry) -> None:
    registry.register(TRIP_DONE, on_trip_done)


@dataclass(frozen=True)
class Place:
    """What a market means for a delivery's emissions: its country, marketplace and division."""

    country: str
    marketplace: str
    division: str


def record_trip(
    session: Session, trip_ref: str, payload: dict[str, Any], done_at: dt.datetime, now: dt.datetime
) -> LocalTripActivity:
    """Store a finished trip, the orders it delivered with their dimensions, and each order's share of
    its emissions under the current version. Recording it again changes nothing."""
    existing = session.scalar(select(LocalTripActivity).where(LocalTripActivity.trip_ref == trip_ref))
    if existing is not None:
        return existing
    orders = [str(ref) for ref in payload["orders"]]
    if not orders:
        raise TripNotRecordable(f"trip {trip_ref} delivered no order: nothing carries its emissions")
    day = done_at.date()
    sold = _delivered(session, trip_ref, orders)
    places = {market: _place(session, market, day) for market in {m for _, m in sold.values()}}
    trip = LocalTripActivity(
        trip_ref=trip_ref,
        courier_ref=str(payload.get("courier", "")),
        mode=str(payload["mode"]),
        distance_m=int(payload["distance_m"]),
        countries=",".join(sorted({p.country for p in places.values()})),
        done_on=day,
        recorded_at=now,
    )
    session.add(trip)
    session.flush()
    deliveries = [_delivery(trip, ref, *sold[ref], places[sold[ref][1]]) for ref in orders]
    session.add_all(deliveries)
    session.flush()
    number = current_version(session, now)
    session.execute(insert(LocalResult), _results(number, trip, deliveries, factor_set_of(session, number)))
    return trip


def _delivered(session: Session, trip_ref: str, orders: Sequence[str]) -> dict[str, tuple[str, str]]:
    """order -> (seller, market) from each order's `local.order_delivered`, which local services writes
    in the transaction that ends the trip, so it is always there before `local.trip_done` is relayed."""
    rows = session.execute(
        select(OutboxEvent.aggregate_id, OutboxEvent.payload).where(
            OutboxEvent.type == ORDER_DELIVERED, OutboxEvent.aggregate_id.in_(orders)
        )
    ).all()
    found = {ref: (str(p.get("seller") or ""), str(p["market"])) for ref, p in rows}
    unknown = [ref for ref in orders if ref not in found]
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

    @property
    def wtw_mg(self) -> int:
        return sum(r.wtw_mg for _, r in self.shares)


def trip_emissions(
    session: Session, trip_ref: str, version: int | None = None, seller_ref: str | None = None
) -> TripEmissions:
    """A recorded trip with each delivered order's share under `version` (the newest by default); for a
    seller, only its own orders' shares, and a trip that delivered none of them is not found."""
    trip = session.scalar(select(LocalTripActivity).where(LocalTripActivity.trip_ref == trip_ref))
    query = select(LocalDelivery).where(LocalDelivery.trip_id == (trip.id if trip else None))
    if seller_ref is not None:
        query = query.where(LocalDelivery.seller_ref == seller_ref)
    if trip is None or session.scalar(query.limit(1)) is None:
        raise NotFound(f"no emissions recorded for trip {trip_ref}")
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
    for ref, payload, at in missing:
        record_trip(session, ref, payload, at, now)
    return len(missing)
