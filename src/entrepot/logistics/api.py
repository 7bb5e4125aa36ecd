"""Routes of logistics: plan a route, see and follow shipments, carriers' scans, revenue by origin."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from entrepot.kernel.errors import FieldError, Forbidden, ValidationFailed
from entrepot.logistics import queries, service, tracking_service
from entrepot.logistics.domain import Network, Parcel, from_minutes, to_minutes
from entrepot.logistics.models import Shipment
from entrepot.logistics.routing import SERVICE_LEVEL_DAYS, Route, choose, cover_terms, pareto_routes
from entrepot.logistics.schemas import (
    EPSILON_RANGE,
    CoverOut,
    CustomsOut,
    LegOut,
    RevenueOut,
    RouteOut,
    RoutePlanOut,
    RouteQuery,
    RulesOut,
    ScanIn,
    ShipmentOut,
)
from entrepot.logistics.tracking import Scan
from entrepot.ordering import queries as orders
from entrepot.platform.deps import Caller, Ctx, Operator
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import IdPath, TimeQuery

router = APIRouter(tags=["logistics"])


def route_out(route: Route) -> RouteOut:
    return RouteOut(
        arrives_at=from_minutes(route.arrives),
        days=round(route.minutes / 1440, 2),
        cost_cents=route.cost_cents,
        emissions_g=round(route.emissions_g, 1),
        legs=[
            LegOut(
                lane=leg.lane.id,
                origin=leg.lane.origin,
                destination=leg.lane.destination,
                mode=leg.lane.mode,
                carrier=leg.lane.carrier,
                departs_at=from_minutes(leg.departs),
                arrives_at=from_minutes(leg.arrives),
                distance_km=round(leg.lane.distance_km, 1),
                cost_cents=leg.cost_cents,
                emissions_g=round(leg.emissions_g, 1),
            )
            for leg in route.legs
        ],
    )


EpsilonQuery = Annotated[
    float | None,
    Query(
        ge=EPSILON_RANGE[0],
        le=EPSILON_RANGE[1],
        allow_inf_nan=False,
        description="the cover's slack on every criterion (default: the network's, 0.02); 0 returns"
        " the exact Pareto set (slow: for audits)",
    ),
]


@router.post("/logistics/routes", response_model=RoutePlanOut)
def plan_route(body: RouteQuery, ctx: Ctx, _: Caller, epsilon: EpsilonQuery = None) -> RoutePlanOut:
    """A (1+epsilon) cover of the Pareto-optimal routes over delivery time, cost and emissions, under
    the network's routing rules (a fulfilment warehouse only starts a route and a delivery station only
    ends one, no node twice, at most 8 legs; both stated in the answer); with a service level, the
    cheapest (or greenest) one that keeps its promise (express 5, standard 10, economy 20 days)."""
    ready = body.ready_at or ctx.clock()
    if ready.tzinfo is None:
        raise ValidationFailed(
            "ready_at needs a time zone", [FieldError("ready_at", "e.g. 2025-11-11T09:00:00Z")]
        )
    with ctx.db.transaction() as session:
        net = service.network(session)
    origin, destination = resolve(net, body.origin, "origin"), resolve(net, body.destination, "destination")
    parcel = Parcel(body.weight_kg, body.length_cm, body.width_cm, body.height_cm)
    eps, rules = cover_terms(net, epsilon)
    routes = service.explained(
        lambda: pareto_routes(net, origin, destination, parcel, to_minutes(ready), epsilon=eps, rules=rules)
    )
    level = body.service
    chosen = service.explained(lambda: choose(routes, level, body.objective)) if level else None
    promised = ready + dt.timedelta(days=SERVICE_LEVEL_DAYS[level]) if level else None
    return RoutePlanOut(
        origin=origin,
        destination=destination,
        ready_at=ready,
        pareto=[route_out(r) for r in routes],
        epsilon=CoverOut(time=eps[0], cost=eps[1], emissions=eps[2]),
        rules=RulesOut(**dataclasses.asdict(rules)),
        emissions_version=net.emissions_version,
        chosen=route_out(chosen) if chosen else None,
        service=body.service,
        promised_by=promised,
    )


def resolve(net: Network, code: str, field: str) -> str:
    node = net.resolve(code)
    if node is not None:
        return node
    raise ValidationFailed(
        f"unknown {field} {code!r}", [FieldError(field, "not a node or airport of the network")]
    )


def _visible(session: Session, principal: Principal, shipment: Shipment) -> None:
    """Whose shipments a caller sees: the rule the console's lists share (logistics.queries)."""
    queries.require_visible(session, principal, shipment)


def _scanner(session: Session, principal: Principal, shipment_id: str) -> str | None:
    """Who posts a scan: None for an operator (any shipment, any scan), the carrier's name for a carrier
    key on a shipment it runs a leg of (its scans are then held to its legs by the tracking service).
    For any other carrier the shipment does not exist, as an unknown one does not: 404 alike."""
    if principal.is_operator:
        return None
    if principal.role != "carrier" or principal.carrier is None:
        raise Forbidden("scans need an operator or carrier key")
    _visible(session, principal, tracking_service.get_shipment(session, shipment_id))
    return principal.carrier


def shipment_out(session: Session, shipment: Shipment) -> ShipmentOut:
    net = service.network(session)  # each leg names its carrier: a carrier sees its legs and who is next
    legs = tracking_service.legs_of(session, shipment)
    scans = tracking_service.scans_of(session, shipment)
    return ShipmentOut(
        id=shipment.public_id,
        order=shipment.order_ref,
        status=shipment.status,
        service=shipment.service,
        origin=shipment.origin_node,
        destination=shipment.destination_node,
        cross_border=shipment.cross_border,
        weight_g=shipment.weight_g,
        fee_cents=shipment.fee_cents,
        revenue_origin=shipment.revenue_origin,
        emissions_g=round(shipment.emissions_g, 1),
        emissions_version=shipment.emissions_version,
        promised_at=shipment.promised_at,
        eta=shipment.eta,
        delivered_at=shipment.delivered_at,
        on_time=None if shipment.delivered_at is None else shipment.delivered_at <= shipment.promised_at,
        legs=[
            LegOut(
                lane=leg.lane_code,
                origin=leg.origin,
                destination=leg.destination,
                mode=leg.mode,
                carrier=tracking_service.carrier_of(net, leg) or "",
                departs_at=leg.departs_at,
                arrives_at=leg.arrives_at,
                distance_km=round(leg.distance_km, 1),
                cost_cents=leg.cost_cents,
                emissions_g=round(leg.emissions_g, 1),
            )
            for leg in legs
        ],
        scans=[
            {"event_id": s.event_id, "type": s.type, "node": s.node, "occurred_at": s.occurred_at.isoformat()}
            for s in scans
        ],
        customs=customs_out(shipment),
    )


def customs_out(shipment: Shipment) -> CustomsOut | None:
    if shipment.customs_currency is None:
        return None
    return CustomsOut(
        currency=shipment.customs_currency,
        duty_minor=shipment.customs_duty_minor or 0,
        tax_minor=shipment.customs_tax_minor or 0,
        tax_collected=shipment.customs_collection or "none",
        reasoning=shipment.customs_trace or [],
    )


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut)
def get_shipment(shipment_id: IdPath, ctx: Ctx, principal: Caller) -> ShipmentOut:
    with ctx.db.transaction() as session:
        shipment = tracking_service.get_shipment(session, shipment_id)
        _visible(session, principal, shipment)
        return shipment_out(session, shipment)


@router.get("/orders/{order_id}/shipments", response_model=list[ShipmentOut])
def order_shipments(order_id: IdPath, ctx: Ctx, principal: Caller) -> list[ShipmentOut]:
    with ctx.db.transaction() as session:
        order = orders.get_order(session, order_id, principal)
        return [
            shipment_out(session, s) for s in tracking_service.shipments_of_order(session, order.public_id)
        ]


@router.post("/orders/{order_id}/shipments", status_code=201, response_model=list[ShipmentOut])
def ship_order(order_id: IdPath, ctx: Ctx, principal: Operator) -> list[ShipmentOut]:
    """Plan and book the shipments of a paid order now (the relay does this when `order.paid` lands)."""
    with ctx.db.transaction() as session:
        order = orders.get_order(session, order_id, principal)
        service.explained(lambda: service.plan_order_shipments(session, order.public_id, ctx.clock(), ctx.fx))
        return [
            shipment_out(session, s) for s in tracking_service.shipments_of_order(session, order.public_id)
        ]


@router.post(
    "/shipments/{shipment_id}/scans",
    response_model=ShipmentOut,
    responses={
        403: {"description": "a carrier's scan of a leg or node it does not hold the parcel on then"},
        404: {"description": "no such shipment, or none this carrier runs a leg of"},
        409: {"description": "a carrier's scan out of turn: the state machine or the hand-over"},
        422: {"description": "an unknown type or node, a scan from the future, a carrier's without node"},
    },
)
def post_scan(shipment_id: IdPath, body: ScanIn, ctx: Ctx, principal: Caller) -> ShipmentOut:
    """A scan, by an operator key or the key of a carrier running one of the shipment's legs. Idempotent
    by `event_id`.

    An operator's scan is kept as sent: a late or out-of-order one takes its place in time and moves the
    status where the state machine allows. A carrier's must keep to its legs or is refused, changing
    nothing (`scan-refused`, with the `reason`): it names a node of the legs it holds the parcel on
    (403 otherwise) and fits the state machine where it lands in time (409). It holds the parcel from the
    first leg it runs, or from when it accepts it: where one carrier's legs end and the next's begin,
    the first scans `handed_over` at that node and the next `accepted` at the same node; between the two
    neither may scan it (403, or 409 for the next one until it accepts). Only the first carrier picks a
    parcel up, only the last one takes it out for delivery and delivers it, at the route's end."""
    if body.occurred_at.tzinfo is None:
        raise ValidationFailed("occurred_at needs a time zone", [FieldError("occurred_at", "e.g. ...Z")])
    scan = Scan(body.event_id, body.type, body.occurred_at.astimezone(dt.UTC), body.node)
    with ctx.db.transaction() as session:
        carrier = _scanner(session, principal, shipment_id)
        shipment, _new = tracking_service.record_scan(session, shipment_id, scan, ctx.clock(), carrier)
        return shipment_out(session, shipment)


@router.get("/logistics/revenue", response_model=RevenueOut)
def revenue(ctx: Ctx, _: Operator, start: TimeQuery, end: TimeQuery) -> RevenueOut:
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValidationFailed(
            "give an aware start before end", [FieldError("end", "after start, with a zone")]
        )
    with ctx.db.transaction() as session:
        result = service.revenue(session, start, end)
    return RevenueOut(
        start=start,
        end=end,
        shipments=result.shipments,
        domestic_cents=result.domestic_cents,
        overseas_cents=result.overseas_cents,
        overseas_share=round(result.overseas_share, 4),
    )
