"""Livestream selling: a host's session with a queue of drops that the operator opens and closes live.

Each drop becomes a flash sale when it opens (its units set aside from the warehouse then), so buying
a drop is buying from a flash sale, with the same batching, limits and waiting line. Closing a drop
ends its sale's window; the sweeper settles it like any ended sale.

Each change a host's seller or an operator makes (a session started or ended, a drop added, opened or
closed) is one entry of the audit trail, written in the change's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash.models import FlashSale
from entrepot.campaigns.flash.rules import SaleCounters
from entrepot.campaigns.livestream.models import LiveDrop, LiveSession
from entrepot.catalog import service as catalog
from entrepot.inventory.domain import MAX_STOCK_UNITS
from entrepot.kernel.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed, not_found
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import amount_problem
from entrepot.organization import service as organization
from entrepot.platform import audit
from entrepot.platform.db import by_public_id
from entrepot.platform.principal import Principal

SALE_HORIZON = dt.timedelta(days=1)  # an open drop sells until closed, at most a day


@dataclass(frozen=True)
class DropSpec:
    sku: str
    sale_price_minor: int
    stock: int
    per_buyer_limit: int
    reservation_ttl_seconds: int = 300


def start_session(
    session: Session, principal: Principal, market: str, host: str, title: str, now: dt.datetime
) -> LiveSession:
    seller_id = _seller_of(session, principal)
    organization.get_market(session, market)  # 404 for an unknown market
    if not host.strip() or not title.strip():
        raise ValidationFailed(
            "invalid session", [FieldError("host" if not host.strip() else "title", "required")]
        )
    live = LiveSession(
        public_id=new_id("live"),
        seller_id=seller_id,
        market_ref=market,
        host=host.strip(),
        title=title.strip(),
        status="live",
        started_at=now,
    )
    session.add(live)
    session.flush()
    after = {"market": market, "host": live.host, "title": live.title, "status": live.status}
    audit.record(session, "live_session.started", live.public_id, None, after, now)
    return live


def _seller_of(session: Session, principal: Principal) -> int:
    if principal.role == "seller" and principal.seller_id is not None:
        return principal.seller_id
    raise Forbidden("a livestream belongs to a seller: use the seller's key")


def get_session(
    session: Session, ref: str, principal: Principal | None = None, for_update: bool = False
) -> LiveSession:
    """A session: anyone watches one (no principal); its seller or an operator runs it, and to any
    other seller another's session is an unknown one."""
    if principal is not None:
        principal.require("seller", "operator")  # buyers and carriers never run one, whatever the id
    live = by_public_id(session, LiveSession, ref, "live session", lock=for_update)
    if principal is not None and not principal.sees(seller_id=live.seller_id):
        raise not_found("live session", ref)
    return live


def add_drop(session: Session, principal: Principal, ref: str, spec: DropSpec) -> LiveDrop:
    live = get_session(session, ref, principal, for_update=True)  # positions are given out in order
    if live.status != "live":
        raise Conflict("the session has ended", code="session-ended")
    catalog.get_sku(session, spec.sku, live.seller_id)  # 404 for another seller's SKU
    errors = []
    if not 1 <= spec.stock <= MAX_STOCK_UNITS:
        errors.append(FieldError("stock", f"1 up to {MAX_STOCK_UNITS} units"))
    if not 1 <= spec.per_buyer_limit <= max(spec.stock, 1):
        errors.append(FieldError("per_buyer_limit", "1 up to the drop's stock"))
    currency = organization.get_market(session, live.market_ref).currency
    price = amount_problem(spec.sale_price_minor, currency, allow_zero=True)
    if price is not None:
        errors.append(FieldError("sale_price_minor", price))
    if errors:
        raise ValidationFailed("invalid drop", errors)
    last = session.scalar(select(func.max(LiveDrop.position)).where(LiveDrop.session_id == live.id))
    drop = LiveDrop(
        public_id=new_id("drop"),
        session_id=live.id,
        position=(last or 0) + 1,
        sku_ref=spec.sku,
        sale_price_minor=spec.sale_price_minor,
        stock=spec.stock,
        per_buyer_limit=spec.per_buyer_limit,
        reservation_ttl_seconds=spec.reservation_ttl_seconds,
        status="queued",
    )
    session.add(drop)
    session.flush()
    audit.record(session, "live_drop.added", drop.public_id, None, _drop_terms(live, drop))
    return drop


def _drop_terms(live: LiveSession, drop: LiveDrop) -> dict[str, Any]:
    return {
        "session": live.public_id,
        "position": drop.position,
        "sku": drop.sku_ref,
        "sale_price_minor": drop.sale_price_minor,
        "stock": drop.stock,
        "per_buyer_limit": drop.per_buyer_limit,
        "reservation_ttl_seconds": drop.reservation_ttl_seconds,
        "status": drop.status,
    }


def _drop(session: Session, live: LiveSession, drop_ref: str) -> LiveDrop:
    drop = session.scalar(
        select(LiveDrop)
        .where(LiveDrop.public_id == drop_ref, LiveDrop.session_id == live.id)
        .with_for_update()
    )
    if drop is None:
        raise NotFound(f"no drop {drop_ref} in this session")
    return drop


def open_drop(session: Session, principal: Principal, ref: str, drop_ref: str, now: dt.datetime) -> LiveDrop:
    live = get_session(session, ref, principal)
    drop = _drop(session, live, drop_ref)
    if live.status != "live" or drop.status != "queued":
        raise Conflict(
            f"the drop is {drop.status}; only a queued drop of a live session opens", code="drop-not-queued"
        )
    spec = flash.SaleSpec(
        drop.sku_ref,
        live.market_ref,
        drop.sale_price_minor,
        drop.stock,
        drop.per_buyer_limit,
        now,
        now + SALE_HORIZON,
        drop.reservation_ttl_seconds,
    )
    sale = flash.open_sale(session, principal, spec, now)  # the drop's entry below names the sale
    drop.status, drop.sale_id, drop.opened_at = "open", sale.id, now
    session.flush()
    after = {"status": "open", "sale": sale.public_id, **flash.sale_terms(sale)}
    audit.record(session, "live_drop.opened", drop.public_id, {"status": "queued"}, after, now)
    return drop


def close_drop(session: Session, principal: Principal, ref: str, drop_ref: str, now: dt.datetime) -> LiveDrop:
    live = get_session(session, ref, principal)
    drop = _drop(session, live, drop_ref)
    if drop.status != "open":
        raise Conflict(f"the drop is {drop.status}; only an open drop closes", code="drop-not-open")
    _close(session, drop, now)
    audit.record(session, "live_drop.closed", drop.public_id, {"status": "open"}, {"status": "closed"}, now)
    return drop


def _close(session: Session, drop: LiveDrop, now: dt.datetime) -> None:
    assert drop.sale_id is not None
    flash.end_sale_now(session, drop.sale_id, now)
    drop.status, drop.closed_at = "closed", now
    session.flush()


def end_session(session: Session, principal: Principal, ref: str, now: dt.datetime) -> LiveSession:
    live = get_session(session, ref, principal, for_update=True)
    if live.status != "live":
        raise Conflict("the session has ended", code="session-ended")
    still_open = list(
        session.scalars(select(LiveDrop).where(LiveDrop.session_id == live.id, LiveDrop.status == "open"))
    )
    for drop in still_open:
        _close(session, drop, now)
    live.status, live.ended_at = "ended", now
    session.flush()
    # one entry for the host's one action, naming the drops it closed
    closed = [drop.public_id for drop in still_open]
    before, after = {"status": "live", "open_drops": closed}, {"status": "ended", "closed_drops": closed}
    audit.record(session, "live_session.ended", live.public_id, before, after, now)
    return live


def snapshot(session: Session, live: LiveSession, now: dt.datetime) -> list[dict[str, Any]]:
    """Every drop in queue order with its live stock: one query, as viewers' feeds poll it."""
    rows = session.execute(
        select(LiveDrop, FlashSale)
        .outerjoin(FlashSale, FlashSale.id == LiveDrop.sale_id)
        .where(LiveDrop.session_id == live.id)
        .order_by(LiveDrop.position)
    ).all()
    return [_drop_view(drop, sale, now) for drop, sale in rows]


def _drop_view(drop: LiveDrop, sale: FlashSale | None, now: dt.datetime) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": drop.public_id,
        "position": drop.position,
        "status": drop.status,
        "sku": drop.sku_ref,
        "sale_price_minor": drop.sale_price_minor,
        "stock": drop.stock,
        "sale": None,
        "available": drop.stock if drop.status == "queued" else 0,
        "sold": 0,
        "phase": drop.status,
    }
    if sale is not None:
        counters = SaleCounters(
            sale.stock,
            sale.reserved,
            sale.sold,
            sale.waiting,
            sale.per_buyer_limit,
            sale.starts_at,
            sale.ends_at,
        )
        view.update(
            sale=sale.public_id, available=counters.available, sold=sale.sold, phase=counters.phase(now)
        )
    return view
