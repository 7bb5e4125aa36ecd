"""Routes of local services: a delivery station plans its day (operators, and the carriers running the
station's last mile), and reads the plan back."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from entrepot.local_services import service
from entrepot.local_services.schemas import DayPlanIn, DayPlanOut, RouteOut, StopOut, UnroutedOut
from entrepot.platform.deps import Caller, Ctx
from entrepot.platform.schemas import CodePath, TimeQuery

router = APIRouter(tags=["local services"])


def plan_out(plan: service.DayPlan) -> DayPlanOut:
    return DayPlanOut(
        station=plan.station,
        shift_starts_at=plan.shift_starts_at,
        routes=[
            RouteOut(
                id=route.public_id,
                vehicle=route.vehicle,
                departs_at=route.departs_at,
                returns_at=route.returns_at,
                distance_km=round(route.distance_m / 1000, 3),
                load_kg=route.load_g / 1000,
                stops=[
                    StopOut(seq=s.seq, shipment=s.shipment, delivers_at=s.delivers_at) for s in route.stops
                ],
            )
            for route in plan.routes
        ],
        unrouted=[UnroutedOut(shipment=ref, reason=why) for ref, why in plan.unrouted],
        scans_recorded=plan.scans_recorded,
    )


def day_request(station: str, body: DayPlanIn) -> service.DayRequest:
    return service.DayRequest(
        station=station,
        shift_starts_at=body.shift_starts_at.astimezone(dt.UTC),
        shift_minutes=body.shift_minutes,
        vehicles=body.vehicles,
        capacity_kg=body.capacity_kg,
        speed_kmh=body.speed_kmh,
        handover_minutes=body.handover_minutes,
        seconds=body.seconds,
        windows={
            ref: (window.opens_at.astimezone(dt.UTC), window.closes_at.astimezone(dt.UTC))
            for ref, window in body.windows.items()
        },
    )


@router.post(
    "/stations/{station}/day-plans",
    status_code=201,
    response_model=DayPlanOut,
    responses={
        403: {"description": "a seller's or buyer's key"},
        404: {"description": "no such delivery station, or not one whose last mile this carrier runs"},
        409: {"description": "this station's day starting then is planned already"},
        422: {
            "description": "a parcel heavier than a van, a window outside the shift, no plan within limits"
        },
    },
)
def plan_day(station: CodePath, body: DayPlanIn, ctx: Ctx, principal: Caller) -> DayPlanOut:
    """Plan the station's day for the parcels waiting there: routes that keep every van within its
    capacity and shift and every booked window, found with PyVRP in `seconds` and checked by our own
    rules before anything is written. Scans already due (out for delivery, delivered) are recorded at
    once; later ones when their time comes (`entrepot local record-due`)."""
    from entrepot.local_services.solver import Solver  # PyVRP loads on first use, not at start-up

    request = day_request(station, body)
    with ctx.db.transaction() as session:
        plan = service.plan_station_day(session, principal, request, ctx.clock(), Solver(workers=1))
        return plan_out(plan)


@router.get("/stations/{station}/day-plans", response_model=DayPlanOut)
def get_day(station: CodePath, shift_starts_at: TimeQuery, ctx: Ctx, principal: Caller) -> DayPlanOut:
    """The station's planned day that starts then, as it was written."""
    with ctx.db.transaction() as session:
        return plan_out(service.day_plan(session, principal, station, shift_starts_at.astimezone(dt.UTC)))
