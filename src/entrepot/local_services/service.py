"""Use cases of last-mile routes: a delivery station plans its day for the parcels waiting there, and the
planned routes become the parcels' tracking scans as their times come.

The parcels, the station and its carriers are logistics' (its services, never its tables); where each
parcel goes is the buyer's delivery point, which ordering gives. A plan is written only when our own
check finds it meets every limit (capacity, windows, shift): otherwise the request is refused and
nothing changes. Scans are facts, so a stop's `out_for_delivery` (at the van's planned departure) and
`delivered` (at its planned hand-over) are recorded once their time has come, by `record_due`: at
planning for what is already due, then by `entrepot local record-due` (or any scheduler calling it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from entrepot.kernel.errors import Conflict, FieldError, ValidationFailed, not_found
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.local_services.domain import (
    Drop,
    Problem,
    StationDay,
    route_distance,
    schedule,
    station_problem,
)
from entrepot.local_services.models import RouteStop, StationRoute
from entrepot.logistics import service as logistics
from entrepot.logistics import tracking_service
from entrepot.logistics.domain import Node
from entrepot.logistics.tracking import Scan
from entrepot.ordering import queries as orders
from entrepot.platform.db import record_event
from entrepot.platform.principal import Principal

if TYPE_CHECKING:  # PyVRP loads when a day is planned, not when the API starts
    from entrepot.local_services.solver import Solver

ROUTE_PREFIX = "lmr"
ROUTE_PLANNED = "last_mile.route_planned"


@dataclass(frozen=True)
class DayRequest:
    """How a station's day is to be planned. `windows` narrows some parcels' hand-over times (a booked
    slot); every other parcel may be handed over at any time of the shift."""

    station: str
    shift_starts_at: dt.datetime
    shift_minutes: int
    vehicles: int
    capacity_kg: float
    speed_kmh: float = 25.0
    handover_minutes: float = 2.0
    seconds: float = 2.0
    windows: Mapping[str, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedStop:
    seq: int
    shipment: str
    delivers_at: dt.datetime


@dataclass(frozen=True)
class PlannedRoute:
    public_id: str
    vehicle: int
    departs_at: dt.datetime
    returns_at: dt.datetime
    distance_m: int
    load_g: int
    stops: tuple[PlannedStop, ...]


@dataclass(frozen=True)
class DayPlan:
    station: str
    shift_starts_at: dt.datetime
    routes: tuple[PlannedRoute, ...]
    unrouted: tuple[tuple[str, str], ...]  # (shipment, why it has no route)
    scans_recorded: int = 0


def station_carriers(session: Session, station: str) -> frozenset[str]:
    """Who runs the station's last mile: the carriers of the lanes that end there."""
    net = logistics.network(session)
    return frozenset(lane.carrier for lane in net.lanes_by_id.values() if lane.destination == station)


def station_for(session: Session, principal: Principal, station: str) -> Node:
    """The delivery station, for an operator or a carrier running its last mile; any other caller's role
    is refused before the station is looked up, and a carrier's unknown and another's station answer
    alike (not found)."""
    principal.require("operator", "carrier")
    node = logistics.network(session).nodes.get(station)
    if node is None or node.kind != "delivery_station":
        raise not_found("delivery station", station)
    if not principal.sees(carriers=station_carriers(session, station)):
        raise not_found("delivery station", station)
    return node


def plan_station_day(
    session: Session, principal: Principal, request: DayRequest, now: dt.datetime, solver: Solver
) -> DayPlan:
    node = station_for(session, principal, request.station)
    starts = request.shift_starts_at
    if _planned(session, request.station, starts):
        raise Conflict(
            f"{request.station}'s day starting {starts.isoformat()} is planned already", "day-planned"
        )
    drops, unrouted = _drops(session, request)
    if not drops:
        return DayPlan(request.station, starts, (), tuple(unrouted))
    problem = station_problem(request.station, _day(node, request), drops)
    solved = solver.solve(problem, request.seconds)
    if not solved.verdict.feasible:
        said = [FieldError("plan", problem_said) for problem_said in solved.verdict.problems[:5]]
        raise ValidationFailed(
            f"no plan found in {request.seconds:g} s meets every limit: {said[0].message}"
            " (more vehicles, a longer shift or wider windows may help)",
            said,
        )
    routes = [
        _save_route(session, request, problem, drops, vehicle, route, now)
        for vehicle, route in enumerate(solved.plan.used, start=1)
    ]
    recorded = record_due(session, now, request.station)
    return DayPlan(request.station, starts, tuple(routes), tuple(unrouted), recorded)


def _planned(session: Session, station: str, starts: dt.datetime) -> bool:
    found = select(StationRoute.id).where(
        StationRoute.station == station, StationRoute.shift_starts_at == starts
    )
    return session.scalars(found.limit(1)).first() is not None


def _pending_shipments(session: Session, station: str) -> set[str]:
    """Parcels already on a route of this station and not yet delivered: never planned twice."""
    rows = session.scalars(
        select(RouteStop.shipment)
        .join(StationRoute, StationRoute.id == RouteStop.route_id)
        .where(StationRoute.station == station, RouteStop.delivered_recorded.is_(False))
    )
    return set(rows)


def _drops(session: Session, request: DayRequest) -> tuple[list[Drop], list[tuple[str, str]]]:
    waiting = [
        parcel
        for parcel in tracking_service.parcels_at_station(session, request.station)
        if parcel.shipment not in _pending_shipments(session, request.station)
    ]
    unknown = sorted(set(request.windows) - {parcel.shipment for parcel in waiting})
    if unknown:
        raise ValidationFailed(
            f"a window for a parcel not waiting at {request.station}: {unknown[0]}",
            [FieldError(f"windows.{ref}", "not waiting at this station") for ref in unknown],
        )
    capacity_g = round(request.capacity_kg * 1000)
    drops: list[Drop] = []
    unrouted: list[tuple[str, str]] = []
    for parcel in waiting:
        point = orders.order_for_shipping(session, parcel.order_ref).buyer_point
        if point is None:
            unrouted.append((parcel.shipment, "the buyer gave no delivery point"))
            continue
        if parcel.weight_g > capacity_g:
            raise ValidationFailed(
                f"parcel {parcel.shipment} weighs {parcel.weight_g} g, more than a vehicle carries",
                [FieldError("capacity_kg", f"at least {parcel.weight_g / 1000:g} kg for {parcel.shipment}")],
            )
        earliest, latest = _window(request, parcel.shipment)
        drops.append(Drop(parcel.shipment, point[0], point[1], parcel.weight_g, earliest, latest))
    return drops, unrouted


def _window(request: DayRequest, shipment: str) -> tuple[int, int]:
    """The parcel's hand-over window in seconds into the shift; refused when it is outside the shift."""
    shift_s = request.shift_minutes * 60
    if shipment not in request.windows:
        return 0, shift_s
    opens, closes = (
        round((moment - request.shift_starts_at).total_seconds()) for moment in request.windows[shipment]
    )
    if not 0 <= opens <= closes <= shift_s:
        raise ValidationFailed(
            f"the window of {shipment} is not inside the shift, or closes before it opens",
            [FieldError(f"windows.{shipment}", "must lie within the shift, opening before it closes")],
        )
    return opens, closes


def _day(node: Node, request: DayRequest) -> StationDay:
    return StationDay(
        latitude=node.latitude,
        longitude=node.longitude,
        vehicles=request.vehicles,
        capacity_g=round(request.capacity_kg * 1000),
        shift_s=request.shift_minutes * 60,
        speed_kmh=request.speed_kmh,
        handover_s=round(request.handover_minutes * 60),
    )


def _save_route(
    session: Session,
    request: DayRequest,
    problem: Problem,
    drops: Sequence[Drop],
    vehicle: int,
    route: tuple[int, ...],
    now: dt.datetime,
) -> PlannedRoute:
    times = schedule(problem, route)
    at = request.shift_starts_at
    row = StationRoute(
        public_id=new_id(ROUTE_PREFIX),
        station=request.station,
        shift_starts_at=at,
        vehicle=vehicle,
        departs_at=at + dt.timedelta(seconds=times.departs),
        returns_at=at + dt.timedelta(seconds=times.returns),
        distance_m=route_distance(problem, route),
        load_g=sum(drops[number - 1].weight_g for number in route),
        planned_at=now,
    )
    session.add(row)
    session.flush()
    stops = [
        PlannedStop(seq, drops[visit.client - 1].shipment, at + dt.timedelta(seconds=visit.starts))
        for seq, visit in enumerate(times.visits, start=1)
    ]
    session.add_all(
        RouteStop(route_id=row.id, seq=s.seq, shipment=s.shipment, delivers_at=s.delivers_at) for s in stops
    )
    payload = {"station": row.station, "distance_m": row.distance_m, "parcels": [s.shipment for s in stops]}
    # what emissions will account a van's kilometres from, and any subscriber sees planned
    record_event(session, DomainEvent(ROUTE_PLANNED, row.public_id, payload), now)
    return PlannedRoute(
        row.public_id, vehicle, row.departs_at, row.returns_at, row.distance_m, row.load_g, tuple(stops)
    )


def record_due(session: Session, now: dt.datetime, station: str | None = None) -> int:
    """Record the scans whose planned time has come: out for delivery when the van leaves (each route's
    parcels in route order), delivered at the planned hand-over. Returns how many were recorded."""
    due = (
        select(RouteStop, StationRoute)
        .join(StationRoute, StationRoute.id == RouteStop.route_id)
        .where(
            or_(
                RouteStop.out_recorded.is_(False) & (StationRoute.departs_at <= now),
                RouteStop.delivered_recorded.is_(False) & (RouteStop.delivers_at <= now),
            )
        )
        .order_by(StationRoute.departs_at, StationRoute.id, RouteStop.seq)
    )
    if station is not None:
        due = due.where(StationRoute.station == station)
    recorded = 0
    for stop, route in session.execute(due).all():
        scans = _due_scans(stop, route, now)
        tracking_service.record_scans(session, stop.shipment, scans, now)
        recorded += len(scans)
    return recorded


def _due_scans(stop: RouteStop, route: StationRoute, now: dt.datetime) -> list[Scan]:
    scans: list[Scan] = []
    ref = f"{route.public_id}-{stop.seq}"
    if not stop.out_recorded and route.departs_at <= now:
        scans.append(Scan(f"{ref}-out", "out_for_delivery", route.departs_at, route.station))
        stop.out_recorded = True
    if not stop.delivered_recorded and stop.delivers_at <= now:
        scans.append(Scan(f"{ref}-delivered", "delivered", stop.delivers_at, route.station))
        stop.delivered_recorded = True
    return scans


def day_plan(session: Session, principal: Principal, station: str, starts: dt.datetime) -> DayPlan:
    """A planned day as it was written (its routes in vehicle order, stops in route order)."""
    station_for(session, principal, station)
    routes = session.scalars(
        select(StationRoute)
        .where(StationRoute.station == station, StationRoute.shift_starts_at == starts)
        .order_by(StationRoute.vehicle)
    ).all()
    if not routes:
        raise not_found("day plan of", f"{station} starting {starts.isoformat()}")
    stops = session.scalars(
        select(RouteStop).where(RouteStop.route_id.in_([r.id for r in routes])).order_by(RouteStop.seq)
    ).all()
    return DayPlan(
        station,
        starts,
        tuple(
            PlannedRoute(
                r.public_id,
                r.vehicle,
                r.departs_at,
                r.returns_at,
                r.distance_m,
                r.load_g,
                tuple(PlannedStop(s.seq, s.shipment, s.delivers_at) for s in stops if s.route_id == r.id),
            )
            for r in routes
        ),
        (),
    )
