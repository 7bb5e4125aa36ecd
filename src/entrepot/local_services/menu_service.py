"""Use cases of a store's menu: its seller (or an operator) adds items, changes their name, price,
description, availability and place on the menu, and archives them; anyone reads the menu, seeing only
what is on sale unless the store is theirs to change. Orders are priced from here at placement
(`priced_lines`): the buyer names an item and a quantity, never a price.

Another seller's store is no store (404) for every change, as in store_service; a refused change writes
nothing (the checks run before the first write)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import amount_problem
from entrepot.local_services.delivery import Item, Line, Offer, price_lines
from entrepot.local_services.models import LocalStore, MenuItem
from entrepot.local_services.store_service import get_store, own_store
from entrepot.platform import audit
from entrepot.platform.db import by_public_id
from entrepot.platform.principal import Principal

ITEM_PREFIX = "itm"
MAX_ITEMS = 500  # on one store's menu: a long grocery list, still one answer


@dataclass(frozen=True)
class ItemSpec:
    name: str
    price_minor: int
    description: str | None = None
    available: bool = True
    position: int | None = None  # None: after the last


@dataclass(frozen=True)
class ItemChange:
    """What to change of an item; None keeps it. An empty description clears it."""

    name: str | None = None
    price_minor: int | None = None
    description: str | None = None
    available: bool | None = None
    position: int | None = None


def may_change(principal: Principal, store: LocalStore) -> bool:
    """Whether the principal sees the whole menu (items not on sale too): the store's seller, operators."""
    return principal.is_operator or (principal.role == "seller" and principal.seller_id == store.seller_id)


def menu(session: Session, principal: Principal, store_ref: str) -> tuple[LocalStore, list[MenuItem]]:
    """A store and its menu in order: the items on sale, or for those who may change it every item not
    archived."""
    store = get_store(session, store_ref)
    query = select(MenuItem).where(MenuItem.store_id == store.id, MenuItem.archived_at.is_(None))
    if not may_change(principal, store):
        query = query.where(MenuItem.available.is_(True))
    return store, list(session.scalars(query.order_by(MenuItem.position, MenuItem.id)))


def add_item(
    session: Session, principal: Principal, store_ref: str, spec: ItemSpec, now: dt.datetime
) -> MenuItem:
    store = own_store(session, principal, store_ref, lock=True)  # one change of a menu at a time
    errors = _price_errors(spec.price_minor, store.currency) + _name_errors(session, store, spec.name)
    if _on_menu(session, store) >= MAX_ITEMS:
        errors.append(FieldError("name", f"the menu holds at most {MAX_ITEMS} items: archive one first"))
    if errors:
        raise ValidationFailed(f"no such item for {store.name}'s menu", errors)
    item = MenuItem(
        public_id=new_id(ITEM_PREFIX),
        store_id=store.id,
        name=spec.name,
        price_minor=spec.price_minor,
        description=spec.description or None,
        available=spec.available,
        position=spec.position if spec.position is not None else _next_position(session, store),
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    audit.record(session, "local_menu_item.added", item.public_id, None, _payload(item, store), now)
    return item


def change_item(
    session: Session,
    principal: Principal,
    store_ref: str,
    item_ref: str,
    change: ItemChange,
    now: dt.datetime,
) -> MenuItem:
    store = own_store(session, principal, store_ref, lock=True)
    item = _item_of(session, store, item_ref)
    errors = []
    if change.price_minor is not None:
        errors += _price_errors(change.price_minor, store.currency)
    if change.name is not None and change.name != item.name:
        errors += _name_errors(session, store, change.name)
    if errors:
        raise ValidationFailed(f"{item.name} is not changed", errors)
    before = _payload(item, store)
    item.name = change.name if change.name is not None else item.name
    item.price_minor = change.price_minor if change.price_minor is not None else item.price_minor
    if change.description is not None:
        item.description = change.description or None
    item.available = change.available if change.available is not None else item.available
    item.position = change.position if change.position is not None else item.position
    item.updated_at = now
    audit.record(session, "local_menu_item.changed", item.public_id, before, _payload(item, store), now)
    return item


def archive_item(
    session: Session, principal: Principal, store_ref: str, item_ref: str, now: dt.datetime
) -> MenuItem:
    """Take an item off the menu for good: no longer listed or ordered, its name free for a new item;
    the row stays, since past orders name it."""
    store = own_store(session, principal, store_ref, lock=True)
    item = _item_of(session, store, item_ref)
    before = _payload(item, store)
    item.available, item.archived_at, item.updated_at = False, now, now
    audit.record(session, "local_menu_item.archived", item.public_id, before, _payload(item, store), now)
    return item


def priced_lines(session: Session, store: LocalStore, lines: Sequence[Line]) -> list[Item]:
    """The buyer's lines priced from the store's menu as it is now (delivery.price_lines' rules): one
    statement for the items named, whatever their number."""
    named = {line.item for line in lines}
    rows = session.scalars(
        select(MenuItem).where(MenuItem.store_id == store.id, MenuItem.public_id.in_(named))
    )
    offers = {
        row.public_id: Offer(
            row.public_id, row.name, row.price_minor, row.available and row.archived_at is None
        )
        for row in rows
    }
    return price_lines(lines, offers)


def _item_of(session: Session, store: LocalStore, ref: str) -> MenuItem:
    """An item of this store's menu, locked; an archived one, or another store's, is no item (404)."""
    mine = (MenuItem.store_id == store.id) & MenuItem.archived_at.is_(None)
    return by_public_id(session, MenuItem, ref, "menu item", lock=True, where=mine)


def _price_errors(price_minor: int, currency: str) -> list[FieldError]:
    problem = amount_problem(price_minor, currency)
    return [] if problem is None else [FieldError("price_minor", problem)]


def _name_errors(session: Session, store: LocalStore, name: str) -> list[FieldError]:
    """The name is free on the store's menu (the caller holds the store's lock, so no other change of the
    menu runs between this check and the write; the unique index stays the last guard)."""
    taken = select(MenuItem.id).where(
        MenuItem.store_id == store.id, MenuItem.name == name, MenuItem.archived_at.is_(None)
    )
    if session.scalar(taken) is None:
        return []
    return [FieldError("name", f"the menu has an item named {name!r} already")]


def _on_menu(session: Session, store: LocalStore) -> int:
    count = select(func.count()).where(MenuItem.store_id == store.id, MenuItem.archived_at.is_(None))
    return session.scalar(count) or 0


def _next_position(session: Session, store: LocalStore) -> int:
    last = select(func.max(MenuItem.position)).where(MenuItem.store_id == store.id)
    return (session.scalar(last) or 0) + 1


def _payload(item: MenuItem, store: LocalStore) -> dict[str, object]:
    return {
        "store": store.public_id,
        "name": item.name,
        "price_minor": item.price_minor,
        "currency": store.currency,
        "description": item.description,
        "available": item.available,
        "position": item.position,
        "archived": item.archived_at is not None,
    }
