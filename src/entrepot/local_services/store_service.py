"""Use cases of stores: a seller opens and changes its own restaurants and groceries; anyone reads them
(a buyer chooses where to order). An operator acts for any seller, naming it. Another seller's store is
answered as no store (404); a buyer's or a carrier's key may not change one (403)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.local_services.delivery import opening_hours
from entrepot.local_services.locate import Located
from entrepot.local_services.models import LocalStore, OnDemandOrder
from entrepot.organization import service as organization
from entrepot.platform import audit
from entrepot.platform.db import by_public_id, record_event
from entrepot.platform.principal import Principal

STORE_PREFIX = "sto"
STORE_OPENED = "local.store_opened"
STORE_CHANGED = "local.store_changed"


@dataclass(frozen=True)
class StoreSpec:
    name: str
    kind: str
    market: str
    place: Located
    opens: str
    closes: str
    prep_minutes: int
    seller: str | None = None


def open_store(session: Session, principal: Principal, spec: StoreSpec, now: dt.datetime) -> LocalStore:
    seller = catalog.acting_seller(session, principal, spec.seller)
    market = organization.get_market(session, spec.market)
    opens, closes = opening_hours(spec.opens, spec.closes)
    store = LocalStore(
        public_id=new_id(STORE_PREFIX),
        seller_id=seller.id,
        name=spec.name,
        kind=spec.kind,
        market=market.code,
        currency=market.currency,
        time_zone=market.time_zone,
        address=spec.place.label,
        lat=spec.place.lat,
        lon=spec.place.lon,
        opens_minute=opens,
        closes_minute=closes,
        prep_minutes=spec.prep_minutes,
        created_at=now,
    )
    session.add(store)
    session.flush()
    after = _payload(store, seller.public_id)
    record_event(session, DomainEvent(STORE_OPENED, store.public_id, after), now)
    audit.record(session, "local_store.opened", store.public_id, None, after, now)
    return store


def _payload(store: LocalStore, seller: str) -> dict[str, object]:
    return {
        "seller": seller,
        "kind": store.kind,
        "market": store.market,
        "lat": store.lat,
        "lon": store.lon,
        "opens_minute": store.opens_minute,
        "closes_minute": store.closes_minute,
        "prep_minutes": store.prep_minutes,
    }


def own_store(session: Session, principal: Principal, ref: str, lock: bool = False) -> LocalStore:
    """A store its seller (or an operator) may change: any other key's role is refused first (403), and
    another seller's store is no store (404)."""
    principal.require("operator", "seller")
    where = None if principal.is_operator else LocalStore.seller_id == principal.seller_id
    return by_public_id(session, LocalStore, ref, "store", lock=lock, where=where)


def change_store(
    session: Session,
    principal: Principal,
    ref: str,
    now: dt.datetime,
    name: str | None = None,
    opens: str | None = None,
    closes: str | None = None,
    prep_minutes: int | None = None,
) -> LocalStore:
    store = own_store(session, principal, ref, lock=True)
    seller = _seller_public_id(session, store)
    before = _payload(store, seller)
    hours = opening_hours(
        opens or _hhmm(store.opens_minute), closes or _hhmm(store.closes_minute)
    )  # checked whole, so that changing one end never leaves a store closing before it opens
    store.opens_minute, store.closes_minute = hours
    store.name = name if name is not None else store.name
    store.prep_minutes = prep_minutes if prep_minutes is not None else store.prep_minutes
    after = _payload(store, seller)
    record_event(session, DomainEvent(STORE_CHANGED, store.public_id, after), now)
    audit.record(session, "local_store.changed", store.public_id, before, after, now)
    return store


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _seller_public_id(session: Session, store: LocalStore) -> str:
    found = select(catalog.seller_public_id(LocalStore.seller_id)).where(LocalStore.id == store.id)
    return session.scalar(found) or ""


def get_store(session: Session, ref: str) -> LocalStore:
    """Any key reads a store: what it is, where and when it is open."""
    return by_public_id(session, LocalStore, ref, "store")


def list_stores(session: Session, principal: Principal, after: int | None, limit: int) -> list[LocalStore]:
    """A seller's own stores; every store for anyone else (they are public: buyers choose among them)."""
    query = select(LocalStore).order_by(LocalStore.id).limit(limit)
    if principal.role == "seller":
        query = query.where(LocalStore.seller_id == principal.seller_id)
    if after is not None:
        query = query.where(LocalStore.id > after)
    return list(session.scalars(query))


def store_orders(session: Session, store: LocalStore, limit: int) -> list[OnDemandOrder]:
    """A store's latest orders, newest first (the console's store page; who may see the store is decided
    by own_store before)."""
    query = (
        select(OnDemandOrder)
        .where(OnDemandOrder.store_id == store.id)
        .order_by(OnDemandOrder.placed_at.desc(), OnDemandOrder.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
