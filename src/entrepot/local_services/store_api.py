"""Routes of stores: a seller opens and changes its own (an operator any, naming the seller); any key
reads them. Map data © OpenStreetMap contributors (ODbL): every store answer carries the attribution."""

from __future__ import annotations

from fastapi import APIRouter

from entrepot.local_services import store_service
from entrepot.local_services.delivery import clock_text
from entrepot.local_services.locate import Located, locate
from entrepot.local_services.models import LocalStore
from entrepot.local_services.ondemand_schemas import PlaceIn, StoreIn, StoreOut, StorePatch
from entrepot.platform.deps import Caller, Ctx, Paging, next_cursor
from entrepot.platform.principal import ROLES
from entrepot.platform.schemas import IdPath, ListPage

router = APIRouter(tags=["local services"])

NOT_YOURS = {"description": "no such store, or another seller's"}


def store_out(store: LocalStore) -> StoreOut:
    return StoreOut(
        id=store.public_id,
        name=store.name,
        kind=store.kind,
        market=store.market,
        currency=store.currency,
        time_zone=store.time_zone,
        address=store.address,
        lat=store.lat,
        lon=store.lon,
        opens=clock_text(store.opens_minute),
        closes=clock_text(store.closes_minute),
        prep_minutes=store.prep_minutes,
    )


def place_of(place: PlaceIn, field: str) -> Located:
    point = (place.point.lat, place.point.lon) if place.point is not None else None
    return locate(place.address, point, field)


@router.post(
    "/local/stores",
    status_code=201,
    response_model=StoreOut,
    responses={
        403: {"description": "a buyer's or carrier's key; a seller naming another seller"},
        404: {"description": "no such market or seller"},
        422: {"description": "an address not on the map, a point off it, hours closing before they open"},
    },
)
def open_store(body: StoreIn, ctx: Ctx, principal: Caller) -> StoreOut:
    """Open a restaurant or grocery at an address of the city's map (or a point on it), taking orders
    daily from `opens` to `closes` in its market's time zone."""
    principal.require("operator", "seller")
    spec = store_service.StoreSpec(
        body.name,
        body.kind,
        body.market,
        place_of(body.place, "place"),
        body.opens,
        body.closes,
        body.prep_minutes,
        body.seller,
    )
    with ctx.db.transaction() as session:
        return store_out(store_service.open_store(session, principal, spec, ctx.clock()))


@router.patch(
    "/local/stores/{ref}",
    response_model=StoreOut,
    responses={
        403: {"description": "a buyer's or carrier's key"},
        404: NOT_YOURS,
        422: {"description": "hours closing before they open"},
    },
)
def change_store(ref: IdPath, body: StorePatch, ctx: Ctx, principal: Caller) -> StoreOut:
    """Change a store's name, hours or preparation time (its own seller, or an operator)."""
    with ctx.db.transaction() as session:
        store = store_service.change_store(
            session, principal, ref, ctx.clock(), body.name, body.opens, body.closes, body.prep_minutes
        )
        return store_out(store)


@router.get("/local/stores/{ref}", response_model=StoreOut, responses={404: {"description": "no such store"}})
def get_store(ref: IdPath, ctx: Ctx, principal: Caller) -> StoreOut:
    """A store: where it is, when it takes orders, how long it prepares them."""
    principal.require(*ROLES)
    with ctx.db.transaction() as session:
        return store_out(store_service.get_store(session, ref))


@router.get("/local/stores", response_model=ListPage[StoreOut])
def list_stores(ctx: Ctx, principal: Caller, paging: Paging) -> ListPage[StoreOut]:
    """A seller's own stores; every store for any other key, oldest first."""
    with ctx.db.transaction() as session:
        stores = store_service.list_stores(session, principal, paging.after, paging.limit)
        return ListPage(
            items=[store_out(s) for s in stores],
            next_cursor=next_cursor([s.id for s in stores], paging.limit),
        )
