"""Use cases of logistics: keep the network, plan and book shipments for paid orders, follow scans,
recompute ETAs, and account logistics revenue by origin."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from entrepot.kernel.errors import Conflict, DomainError, FieldError, ValidationFailed
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.fx import FxRates
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import Money
from entrepot.logistics import precompute
from entrepot.logistics.customs import DeclarationLine, assess, build_declaration
from entrepot.logistics.domain import (
    Lane,
    Network,
    Node,
    Parcel,
    Schedule,
    from_minutes,
    great_circle_km,
    to_minutes,
    weighed,
)
from entrepot.logistics.intensity import BuiltInIntensities, IntensitySource
from entrepot.logistics.models import (
    Departure,
    NetworkLane,
    NetworkNode,
    Shipment,
    ShipmentLeg,
)
from entrepot.logistics.rate_cache import box, dispatch_minute, priced_for, routes_cache
from entrepot.logistics.routing import (
    SERVICE_LEVEL_DAYS,
    FullDepartures,
    PlanningError,
    Route,
    choose,
    pareto_routes,
)
from entrepot.ordering.queries import OrderForShipping, OrderParcel, orders_for_shipping
from entrepot.organization import service as organization
from entrepot.platform.db import insert_many, insert_many_skipping, record_timed_events, table_of
from entrepot.platform.logs import current_request_id

T = TypeVar("T")
FEE_MARGIN = 0.15  # sellers are billed the network's cost plus this margin (a modelling assumption)
HOME_COUNTRY = "CN"  # revenue is "domestic" when a parcel starts and ends in the group's home country
MAX_REBOOKINGS = 5
NOT_SHIPPED = frozenset({"cancelled"})  # cancelled before its parcels were planned


class RouteImpossible(DomainError):
    def __init__(self, error: PlanningError) -> None:
        super().__init__(error.detail, [], {"reason": error.reason}, "route-impossible", 422, "No route")


def explained(work: Callable[[], T]) -> T:
    """Run planning work, turning the planner's own error into an API error that says why."""
    try:
        return work()
    except PlanningError as error:
        raise RouteImpossible(error) from None


# --- the network --------------------------------------------------------------------------------


def store_network(session: Session, network: Network) -> tuple[int, int]:
    """Write a network's new nodes and lanes; those already stored under the same code are kept as they
    are (the stored network only grows). Returns the counts."""
    existing = set(session.scalars(select(NetworkNode.code)))
    nodes = [_node_row(n) for n in network.nodes.values() if n.code not in existing]
    if nodes:
        session.execute(insert(table_of(NetworkNode)), nodes)
    known = set(session.scalars(select(NetworkLane.code)))
    lanes = [lane for lanes in network.lanes_from.values() for lane in lanes if lane.id not in known]
    if lanes:
        session.execute(insert(table_of(NetworkLane)), [_lane_row(lane) for lane in lanes])
    _cache.clear()
    return len(network.nodes), network.lane_count


def _node_row(node: Node) -> dict[str, Any]:
    return {
        "code": node.code,
        "kind": node.kind,
        "name": node.code,
        "country": node.country,
        "latitude": node.latitude,
        "longitude": node.longitude,
        "time_zone": node.time_zone,
        "handling_minutes": node.handling_minutes,
    }


def _lane_row(lane: Lane) -> dict[str, Any]:
    schedule = None
    if lane.schedule is not None:
        schedule = {
            "departures": [[day, at.strftime("%H:%M")] for day, at in lane.schedule.departures],
            "cutoff_minutes": lane.schedule.cutoff_minutes,
        }
    return {
        "code": lane.id,
        "origin": lane.origin,
        "destination": lane.destination,
        "mode": lane.mode,
        "vehicle": lane.vehicle,
        "carrier": lane.carrier,
        "distance_km": lane.distance_km,
        "distance_rule": lane.distance_rule,
        "transit_minutes": lane.transit_minutes,
        "fixed_cost_cents": lane.fixed_cost_cents,
        "per_kg_cents": lane.per_kg_cents,
        "max_parcel_kg": lane.max_parcel_kg,
        "capacity_kg": lane.capacity_kg,
        "schedule": schedule,
    }


def read_network(session: Session) -> Network:
    network = Network()
    for row in session.scalars(select(NetworkNode)):
        network.add_node(
            Node(
                row.code,
                row.kind,
                row.country,
                row.latitude,
                row.longitude,
                row.time_zone,
                row.handling_minutes,
            )
        )
    for lane in session.scalars(select(NetworkLane)):
        network.add_lane(_lane_of(lane))
    return network


def _lane_of(row: NetworkLane) -> Lane:
    schedule = None
    if row.schedule:
        departures = tuple((int(day), dt.time.fromisoformat(at)) for day, at in row.schedule["departures"])
        schedule = Schedule(departures, int(row.schedule.get("cutoff_minutes", 0)))
    return Lane(
        row.code,
        row.origin,
        row.destination,
        row.mode,
        row.vehicle,
        row.carrier,
        row.distance_km,
        row.transit_minutes,
        row.fixed_cost_cents,
        row.per_kg_cents,
        row.max_parcel_kg,
        row.capacity_kg,
        schedule,
        row.distance_rule,
    )


NetworkVersion = tuple[int, int, int, int]  # lanes, newest lane id, nodes, newest node id


def _stored_version(session: Session) -> NetworkVersion:
    """What changes when another process stores nodes or lanes (the network only grows; the newest ids
    also tell a lane removed and another added by hand from no change), in one statement."""
    figures = [
        select(aggregate).scalar_subquery()
        for table in (NetworkLane, NetworkNode)
        for aggregate in (func.count(table.id), func.coalesce(func.max(table.id), 0))
    ]
    row = session.execute(select(*figures)).one()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


class _NetworkCache:
    """The network changes rarely and planning reads all of it: each process keeps one copy, checked
    against the stored version every few seconds so that another process's change is picked up. The
    copy is weighed with the emission factors `source` says are in force (checked as often): a new factor
    version re-weighs the lanes (a new Network object, so the compiled arrays, bounds and cached routes
    of the old weights go with the old object)."""

    def __init__(self, ttl_s: float = 10.0, source: IntensitySource | None = None) -> None:
        self._entries: dict[str, tuple[float, NetworkVersion, Network]] = {}
        self._lock = threading.Lock()
        self._ttl = ttl_s
        self.source: IntensitySource = source or BuiltInIntensities()

    def get(self, session: Session) -> Network:
        key = str(session.get_bind().engine.url)
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry[2]
        version = _stored_version(session)
        intensities = self.source.current(session)
        if entry is not None and entry[1] == version and entry[2].emissions_version == intensities.label:
            self._entries[key] = (time.monotonic(), version, entry[2])
            return entry[2]
        stored = entry[2] if entry is not None and entry[1] == version else read_network(session)
        network = stored if stored.emissions_version == intensities.label else weighed(stored, intensities)
        precompute.load(network)  # bounds `entrepot logistics precompute` wrote for this very network
        with self._lock:
            self._entries[key] = (time.monotonic(), version, network)
        return network

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _NetworkCache()


def network(session: Session) -> Network:
    return _cache.get(session)


def prepare_planner(
    session: Session, folder: Path | None = None, progress: Callable[[str], None] = lambda line: None
) -> list[Path]:
    """What a planning process does once started: the stored network's bounds loaded onto its planner,
    and those of the weight floors written for no such network yet (new, changed, or weighed by another
    factor version) computed and written (`precompute.ensure`). The files written (none: all were there,
    or no network is stored)."""
    net = network(session)
    if not net.nodes:
        return []
    return precompute.ensure(net, folder, progress=progress)


def use_intensities(source: IntensitySource) -> None:
    """Weigh lanes' emissions with `source`'s factor version from now on (the composition root passes
    emissions' current version); the copies weighed otherwise are dropped."""
    _cache.source = source
    forget_network()


def carriers(session: Session) -> list[str]:
    """The carriers the stored network's lanes name, sorted: those a carrier key may be made for."""
    return list(session.scalars(select(NetworkLane.carrier).distinct().order_by(NetworkLane.carrier)))


def forget_network() -> None:
    """Drop this process's copies of the network and of routes planned on it (tests, operators)."""
    _cache.clear()
    routes_cache.clear()


def warehouse_node(net: Network, warehouse_code: str) -> str:
    if warehouse_code not in net.nodes:
        raise PlanningError(
            "unknown_node", f"warehouse {warehouse_code} is not a node of the logistics network"
        )
    return warehouse_code


def delivery_station(net: Network, country: str, point: tuple[float, float] | None) -> str:
    """The delivery station serving a buyer: the nearest one in the buyer's country."""
    stations = [n for n in net.nodes.values() if n.kind == "delivery_station" and n.country == country]
    if not stations:
        raise PlanningError("no_lane", f"the network has no delivery station in {country}")
    if point is None:
        return min(stations, key=lambda n: n.code).code
    return min(stations, key=lambda n: great_circle_km(n.latitude, n.longitude, *point)).code


# --- planning and booking -------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    route: Route
    service: str
    promised: int  # UTC minutes


def plan(
    net: Network,
    origin: str,
    destination: str,
    parcel: Parcel,
    ready: int,
    service: str,
    objective: str = "cheapest",
    full: FullDepartures = frozenset(),
    epsilon: float | None = None,
) -> Plan:
    """The route the service level picks from the planner's (1+epsilon) cover (epsilon: the network's
    unless given; 0 picks from the exact Pareto set)."""
    if service not in SERVICE_LEVEL_DAYS:
        raise ValidationFailed("unknown service", [FieldError("service", ", ".join(SERVICE_LEVEL_DAYS))])
    deadline = ready + SERVICE_LEVEL_DAYS[service] * 1440
    routes = pareto_routes(net, origin, destination, parcel, ready, deadline, full, epsilon=epsilon)
    return Plan(choose(routes, service, objective), service, deadline)


def parcel_of(item: OrderParcel) -> Parcel:
    return box(item.weight_g, item.volume_cm3, item.value_minor)


@dataclass(frozen=True)
class Wanted:
    """What the order was placed with: service level, objective, and the promise (UTC minute) if any."""

    service: str
    objective: str
    promise: int | None


def wanted_of(order: OrderForShipping, service: str | None) -> Wanted:
    placed = order.order
    promise = None
    if placed.delivery_promised_on is not None:
        zone = ZoneInfo(order.market_time_zone)
        next_midnight = dt.datetime.combine(
            placed.delivery_promised_on + dt.timedelta(days=1), dt.time(0), zone
        )
        promise = to_minutes(next_midnight) - 1  # by the end of the promised day, in the market's zone
    return Wanted(
        service or placed.delivery_service or "standard", placed.delivery_objective or "cheapest", promise
    )


def plan_order_shipments(
    session: Session, order_ref: str, now: dt.datetime, fx: FxRates, service: str | None = None
) -> list[Shipment]:
    """One shipment per warehouse the order was allocated from, with the service level, objective and
    promise the order was placed with (or `service`), booked onto departures with room; `fx` converts
    cross-border parcels' declared values. Safe to call twice: a warehouse that already has its
    shipment is skipped. The batch of one of `plan_paid_orders`."""
    return plan_paid_orders(session, [(order_ref, now)], fx, service)


def plan_paid_orders(
    session: Session,
    paid: list[tuple[str, dt.datetime]],
    fx: FxRates,
    service: str | None = None,
) -> list[Shipment]:
    """`plan_order_shipments` for many (order ref, paid at) in one transaction: the network and the
    shipments already planned are read once for all of them. Idempotent as the single path; an order
    that cannot be planned raises, and nothing of the batch is kept (the caller rolls back)."""
    net = network(session)
    done = _planned_warehouses(session, [ref for ref, _ in paid])
    orders = orders_for_shipping(session, [ref for ref, _ in paid])
    planned: list[tuple[Shipment, dt.datetime]] = []
    legs: list[dict[str, Any]] = []
    for order_ref, now in paid:
        order = orders[order_ref]
        if order.order.status in NOT_SHIPPED:
            continue  # the relay may meet order.paid after the order was cancelled
        station = delivery_station(net, order.destination_country, order.buyer_point)
        wanted = wanted_of(order, service)
        for item in order.parcels:
            if (order_ref, item.warehouse_code) in done:
                continue
            done.add((order_ref, item.warehouse_code))  # the same order twice in a batch: once
            shipment, its_legs = _ship_parcel(session, net, order, item, station, wanted, now, fx)
            planned.append((shipment, now))
            legs += its_legs
    # the batch's legs and events a statement each, in the order the shipments were planned
    insert_many(session, _LEGS, legs)
    record_timed_events(session, [(_planned_event(s), at) for s, at in planned], current_request_id())
    return [s for s, _ in planned]


def _planned_event(shipment: Shipment) -> DomainEvent:
    payload = {"order": shipment.order_ref, "eta": shipment.eta.isoformat(), "fee_cents": shipment.fee_cents}
    return DomainEvent("shipment.planned", shipment.public_id, payload)


def _planned_warehouses(session: Session, order_refs: list[str]) -> set[tuple[str, str]]:
    """(order, warehouse) pairs that already have their shipment."""
    rows = session.execute(
        select(Shipment.order_ref, Shipment.warehouse_code).where(Shipment.order_ref.in_(set(order_refs)))
    )
    return {(ref, code) for ref, code in rows}


def _first_plan(
    net: Network, origin: str, station: str, item: OrderParcel, ready: int, wanted: Wanted
) -> Plan:
    """From the routes checkout quoted (the cache): the order's objective among the routes that keep
    its promise, else (paid too late for it) among those that keep its service level."""
    routes = routes_cache.routes(net, origin, station, item.weight_g, ready)
    limit = ready + SERVICE_LEVEL_DAYS[wanted.service] * 1440
    keeping = [r for r in routes if wanted.promise is not None and r.arrives <= wanted.promise]
    route = choose(keeping or routes, wanted.service, wanted.objective)
    return Plan(priced_for(route, parcel_of(item)), wanted.service, wanted.promise or limit)


def _ship_parcel(
    session: Session,
    net: Network,
    order: OrderForShipping,
    item: OrderParcel,
    station: str,
    wanted: Wanted,
    now: dt.datetime,
    fx: FxRates,
) -> tuple[Shipment, list[dict[str, Any]]]:
    """The parcel's shipment, booked on its departures and stored, and the rows of its legs to write."""
    parcel = parcel_of(item)
    origin = warehouse_node(net, item.warehouse_code)
    ready = dispatch_minute(now, net.nodes[origin].time_zone)
    chosen = _first_plan(net, origin, station, item, ready, wanted)
    full: set[tuple[str, int]] = set()
    for _ in range(MAX_REBOOKINGS):
        booked = _book(session, chosen.route, item.weight_g)
        if isinstance(booked, list):
            shipment = _new_shipment(order, item, chosen, now, net.emissions_version)
            if shipment.cross_border:  # declared before the INSERT: no UPDATE after it
                declare(session, shipment, order, item, now, fx)
            session.add(shipment)
            session.flush()  # its id, for its legs
            return shipment, _leg_rows(shipment.id, chosen.route, booked)
        full.add(booked)
        # a departure is full: plan afresh around the full ones (not cached: it depends on bookings)
        replanned = plan(
            net, origin, station, parcel, ready, wanted.service, wanted.objective, frozenset(full)
        )
        chosen = Plan(replanned.route, wanted.service, wanted.promise or replanned.promised)
    raise Conflict("every departure that keeps the promise is full", code="no-capacity")


def _book(session: Session, route: Route, weight_g: int) -> list[int | None] | tuple[str, int]:
    """Book the parcel's weight on every scheduled departure of the route, or name the first full one
    (then nothing of this attempt stays booked: the savepoint rolls back)."""
    ids: list[int | None] = []
    with session.begin_nested() as attempt:
        for leg in route.legs:
            if leg.lane.schedule is None:
                ids.append(None)
                continue
            departure_id = _take_room(session, leg.lane, leg.departs, weight_g)
            if departure_id is None:
                attempt.rollback()
                return (leg.lane.id, leg.departs)
            ids.append(departure_id)
    return ids


def _take_room(session: Session, lane: Lane, departs: int, weight_g: int) -> int | None:
    values = {
        "lane_code": lane.id,
        "departs_at": from_minutes(departs),
        "capacity_g": int(lane.capacity_kg * 1000),
    }
    insert_many_skipping(session, _DEPARTURES, [{**values, "booked_g": 0, "parcels": 0}], _DEPARTURE_KEY)
    booked = session.execute(
        update(Departure)
        .where(
            Departure.lane_code == lane.id,
            Departure.departs_at == values["departs_at"],
            Departure.booked_g + weight_g <= Departure.capacity_g,
        )
        .values(booked_g=Departure.booked_g + weight_g, parcels=Departure.parcels + 1)
        .returning(Departure.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    return None if booked is None else int(booked)


_DEPARTURES = table_of(Departure)
# a lane's departure at a time is one row, opened by whichever booking comes first
_DEPARTURE_KEY = ("lane_code", "departs_at")


def fee_for(cost_cents: int) -> int:
    return math.ceil(cost_cents * (1 + FEE_MARGIN))


def revenue_origin(origin_country: str, destination_country: str) -> str:
    return "domestic" if origin_country == destination_country == HOME_COUNTRY else "overseas"


def _new_shipment(
    order: OrderForShipping, item: OrderParcel, chosen: Plan, now: dt.datetime, emissions_version: str
) -> Shipment:
    route = chosen.route
    order_ref, seller_id, destination_country = (
        order.order.public_id,
        order.order.seller_id,
        order.destination_country,
    )
    shipment = Shipment(
        public_id=new_id("shp"),
        order_ref=order_ref,
        seller_id=seller_id,
        warehouse_code=item.warehouse_code,
        origin_node=route.legs[0].lane.origin,
        destination_node=route.legs[-1].lane.destination,
        origin_country=item.warehouse_country,
        destination_country=destination_country,
        service=chosen.service,
        status="label_created",
        weight_g=item.weight_g,
        cost_cents=route.cost_cents,
        fee_cents=fee_for(route.cost_cents),
        revenue_origin=revenue_origin(item.warehouse_country, destination_country),
        emissions_g=route.emissions_g,
        emissions_version=emissions_version,
        cross_border=item.warehouse_country != destination_country,
        ready_at=from_minutes(route.ready),
        promised_at=from_minutes(chosen.promised),
        eta=from_minutes(route.arrives),
        created_at=now,
        updated_at=now,
    )
    return shipment  # its legs and its event: written with the batch's (plan_paid_orders)


def _leg_rows(shipment_id: int, route: Route, departure_ids: list[int | None]) -> list[dict[str, Any]]:
    return [
        {
            "shipment_id": shipment_id,
            "seq": seq,
            "lane_code": leg.lane.id,
            "origin": leg.lane.origin,
            "destination": leg.lane.destination,
            "mode": leg.lane.mode,
            "departure_id": departure_id,
            "departs_at": from_minutes(leg.departs),
            "arrives_at": from_minutes(leg.arrives),
            "cost_cents": leg.cost_cents,
            "emissions_g": leg.emissions_g,
            "distance_km": leg.lane.distance_km,
        }
        for seq, (leg, departure_id) in enumerate(zip(route.legs, departure_ids, strict=True))
    ]


_LEGS = table_of(ShipmentLeg)


# --- customs ----------------------------------------------------------------------------------------


def declare(
    session: Session,
    shipment: Shipment,
    order: OrderForShipping,
    item: OrderParcel,
    now: dt.datetime,
    fx: FxRates,
) -> None:
    """Declare a cross-border parcel's goods (HS codes, origins, values) and assess the duty and VAT/GST
    of its destination, keeping every figure's reasoning on the shipment."""
    currency = order.order.currency
    lines = [
        DeclarationLine(
            line.hs_code,
            line.description,
            line.origin_country,
            line.quantity,
            Money(line.unit_price_minor, currency),
            max(1, line.weight_g),
        )
        for line in item.lines
    ]
    declared_on = now.date()
    declaration = build_declaration(
        lines, dispatch_country=item.warehouse_country, shipping=Money.zero(currency), declared_on=declared_on
    )
    rates = organization.rates_for(session, fx, currency, declared_on)
    assessment = assess(declaration, order.destination_country, rates)
    shipment.customs_currency = assessment.duty.currency
    shipment.customs_duty_minor = assessment.duty.minor
    shipment.customs_tax_minor = assessment.tax.minor
    shipment.customs_collection = assessment.tax_collection
    shipment.customs_trace = assessment.explain()


# --- revenue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogisticsRevenue:
    domestic_cents: int
    overseas_cents: int
    shipments: int

    @property
    def overseas_share(self) -> float:
        total = self.domestic_cents + self.overseas_cents
        return self.overseas_cents / total if total else 0.0


def revenue(session: Session, start: dt.datetime, end: dt.datetime) -> LogisticsRevenue:
    """Fees billed to sellers for shipments created in [start, end), by where the revenue is earned."""
    rows = dict(
        session.execute(
            select(Shipment.revenue_origin, func.sum(Shipment.fee_cents))
            .where(Shipment.created_at >= start, Shipment.created_at < end)
            .group_by(Shipment.revenue_origin)
        ).all()
    )
    count = session.scalar(
        select(func.count())
        .select_from(Shipment)
        .where(Shipment.created_at >= start, Shipment.created_at < end)
    )
    return LogisticsRevenue(int(rows.get("domestic") or 0), int(rows.get("overseas") or 0), int(count or 0))
