"""Routes of a store's menu: its seller (or an operator) adds, changes and archives items; any key reads
the menu (a buyer sees what is on sale, the store's seller and operators every item not archived).
Another seller's store is answered as no store (404), as the store routes do."""

from __future__ import annotations

from fastapi import APIRouter

from entrepot.local_services import menu_service, store_service
from entrepot.local_services.models import LocalStore, MenuItem
from entrepot.local_services.ondemand_schemas import MenuItemIn, MenuItemOut, MenuItemPatch, MenuOut
from entrepot.platform.deps import Caller, Ctx
from entrepot.platform.principal import ROLES
from entrepot.platform.schemas import IdPath

router = APIRouter(tags=["local services"])

CHANGE_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "a buyer's or carrier's key"},
    404: {"description": "no such store or menu item, another seller's, or an archived item"},
    422: {
        "description": "a name the menu has already, a price out of the store's currency's range, a full menu"
    },
}


def item_out(item: MenuItem, store: LocalStore) -> MenuItemOut:
    return MenuItemOut(
        id=item.public_id,
        name=item.name,
        price_minor=item.price_minor,
        currency=store.currency,
        description=item.description,
        available=item.available,
        position=item.position,
        archived=item.archived_at is not None,
        updated_at=item.updated_at,
    )


@router.get(
    "/local/stores/{ref}/menu", response_model=MenuOut, responses={404: {"description": "no such store"}}
)
def get_menu(ref: IdPath, ctx: Ctx, principal: Caller) -> MenuOut:
    """A store's menu in its order, prices in minor units of the store's currency: the items on sale; the
    store's seller and operators also see those marked unavailable."""
    principal.require(*ROLES)
    with ctx.db.transaction() as session:
        store, items = menu_service.menu(session, principal, ref)
        return MenuOut(
            store=store.public_id, currency=store.currency, items=[item_out(i, store) for i in items]
        )


@router.post("/local/stores/{ref}/menu", status_code=201, response_model=MenuItemOut, responses=CHANGE_ERRORS)
def add_item(ref: IdPath, body: MenuItemIn, ctx: Ctx, principal: Caller) -> MenuItemOut:
    """Add an item to the store's menu (its own seller, or an operator)."""
    spec = menu_service.ItemSpec(body.name, body.price_minor, body.description, body.available, body.position)
    with ctx.db.transaction() as session:
        item = menu_service.add_item(session, principal, ref, spec, ctx.clock())
        return item_out(item, store_service.get_store(session, ref))


@router.patch("/local/stores/{ref}/menu/{item}", response_model=MenuItemOut, responses=CHANGE_ERRORS)
def change_item(ref: IdPath, item: IdPath, body: MenuItemPatch, ctx: Ctx, principal: Caller) -> MenuItemOut:
    """Change an item's name, price, description, availability or place on the menu. Orders already
    placed keep the name and price they were placed at."""
    change = menu_service.ItemChange(
        body.name, body.price_minor, body.description, body.available, body.position
    )
    with ctx.db.transaction() as session:
        changed = menu_service.change_item(session, principal, ref, item, change, ctx.clock())
        return item_out(changed, store_service.get_store(session, ref))


@router.delete(
    "/local/stores/{ref}/menu/{item}",
    response_model=MenuItemOut,
    responses={403: CHANGE_ERRORS[403], 404: CHANGE_ERRORS[404]},
)
def archive_item(ref: IdPath, item: IdPath, ctx: Ctx, principal: Caller) -> MenuItemOut:
    """Take an item off the menu: no longer listed or ordered, its name free again. Past orders keep
    naming it, so it is archived, not erased."""
    with ctx.db.transaction() as session:
        archived = menu_service.archive_item(session, principal, ref, item, ctx.clock())
        return item_out(archived, store_service.get_store(session, ref))
