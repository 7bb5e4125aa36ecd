"""Routes of couriers and their trips: an operator registers a courier bound to a carrier API key; the
courier (that key) posts its position, reads the trip it is offered, accepts or declines it; operators
run a dispatch round by hand. Another courier's id is answered as no courier (404), a seller's or a
buyer's key is refused (403)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.local_services import courier_service, round_service
from entrepot.local_services.models import Courier, Trip
from entrepot.local_services.ondemand_schemas import CourierIn, CourierOut, PingIn, RoundOut, StopOut, TripOut
from entrepot.local_services.roads import Mode
from entrepot.platform.deps import Caller, Ctx, Operator, Paging, next_cursor
from entrepot.platform.schemas import IdPath, ListPage

router = APIRouter(tags=["local services"])

COURIER_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "a seller's or buyer's key"},
    404: {"description": "no such courier, or not the one this carrier key acts for"},
}
TRIP_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "a seller's or buyer's key"},
    404: {"description": "no such trip, or another courier's"},
    409: {"description": "the trip is not in a state that allows it (accepted already, released, done)"},
}


def courier_out(courier: Courier) -> CourierOut:
    return CourierOut(
        id=courier.public_id,
        name=courier.name,
        mode=courier.mode,
        capacity=courier.capacity,
        shift_starts_at=courier.shift_starts_at,
        shift_ends_at=courier.shift_ends_at,
        lat=courier.lat,
        lon=courier.lon,
        position_at=courier.position_at,
    )


def trip_out(session: Session, trip: Trip) -> TripOut:
    courier = session.scalar(select(Courier.public_id).where(Courier.id == trip.courier_id)) or ""
    return TripOut(
        id=trip.public_id,
        courier=courier,
        state=trip.state,
        stops=[StopOut.model_validate(stop) for stop in trip.stops],
        offered_at=trip.offered_at,
        eta_first_at=trip.eta_first_at,
        free_at=trip.free_at,
        accepted_at=trip.accepted_at,
    )


@router.post(
    "/local/couriers",
    status_code=201,
    response_model=CourierOut,
    responses={
        409: {"description": "the key is another courier's already"},
        422: {"description": "not a live carrier key; a shift ending before it starts, over 16 h or past"},
    },
)
def register_courier(body: CourierIn, ctx: Ctx, _: Operator) -> CourierOut:
    """Register a courier (operators): its mode, its shift and the carrier API key it will act with."""
    shift = (body.shift_starts_at, body.shift_ends_at)
    with ctx.db.transaction() as session:
        courier = courier_service.register_courier(
            session, body.name, Mode(body.mode), body.key, shift, ctx.clock()
        )
        return courier_out(courier)


@router.get("/local/couriers", response_model=ListPage[CourierOut], responses={403: COURIER_ERRORS[403]})
def list_couriers(ctx: Ctx, principal: Caller, paging: Paging) -> ListPage[CourierOut]:
    """Every courier for operators; a carrier key its own courier."""
    with ctx.db.transaction() as session:
        found = courier_service.list_couriers(session, principal, paging.after, paging.limit)
        return ListPage(
            items=[courier_out(c) for c in found],
            next_cursor=next_cursor([c.id for c in found], paging.limit),
        )


@router.get("/local/couriers/{ref}", response_model=CourierOut, responses=COURIER_ERRORS)
def get_courier(ref: IdPath, ctx: Ctx, principal: Caller) -> CourierOut:
    with ctx.db.transaction() as session:
        return courier_out(courier_service.acting_courier(session, principal, ref))


@router.post(
    "/local/couriers/{ref}/positions",
    response_model=CourierOut,
    responses={**COURIER_ERRORS, 422: {"description": "a point off the map"}},
)
def ping(ref: IdPath, body: PingIn, ctx: Ctx, principal: Caller) -> CourierOut:
    """Where the courier is now (its own key, or an operator): dispatch plans from its last position."""
    with ctx.db.transaction() as session:
        return courier_out(courier_service.ping(session, principal, ref, body.lat, body.lon, ctx.clock()))


@router.get(
    "/local/couriers/{ref}/trip",
    response_model=TripOut,
    responses={**COURIER_ERRORS, 404: {"description": "no such courier, another's, or no trip offered"}},
)
def current_trip(ref: IdPath, ctx: Ctx, principal: Caller) -> TripOut:
    """The trip the courier is offered or carrying: its stops in order with their planned times."""
    with ctx.db.transaction() as session:
        return trip_out(session, courier_service.current_trip(session, principal, ref))


@router.post("/local/trips/{ref}/accept", response_model=TripOut, responses=TRIP_ERRORS)
def accept_trip(ref: IdPath, ctx: Ctx, principal: Caller) -> TripOut:
    """The courier takes the offered trip (within 90 s of the offer, else it goes to another courier)."""
    with ctx.db.transaction() as session:
        return trip_out(session, courier_service.accept_trip(session, principal, ref, ctx.clock()))


@router.post("/local/trips/{ref}/decline", response_model=TripOut, responses=TRIP_ERRORS)
def decline_trip(ref: IdPath, ctx: Ctx, principal: Caller) -> TripOut:
    """The courier turns the offer down: its orders wait for the next round."""
    with ctx.db.transaction() as session:
        return trip_out(session, courier_service.decline_trip(session, principal, ref, ctx.clock()))


@router.post("/local/dispatch-rounds", response_model=RoundOut)
def dispatch_round(ctx: Ctx, _: Operator) -> RoundOut:
    """Run one dispatch round now (operators): what `entrepot serve` does every few seconds."""
    with ctx.db.transaction() as session:
        done = round_service.dispatch_round(session, ctx.clock())
        return RoundOut(
            trips_offered=done.trips_offered,
            orders_assigned=done.orders_assigned,
            released=done.released,
            waiting=done.waiting,
        )
