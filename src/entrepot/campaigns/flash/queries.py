"""Flash sales as the console reads them: a seller's or the group's sales in pages, and one sale's board
(its counters and its waiting line) for the people running it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash.models import FLASH_ORDERS, FLASH_SALES, FlashSale
from entrepot.campaigns.listing import CampaignFilter, campaign_to_run, campaigns_page
from entrepot.platform.principal import Principal

_order = FLASH_ORDERS.c


def list_sales(
    session: Session,
    principal: Principal,
    filters: CampaignFilter,
    now: dt.datetime,
    before_id: int | None,
    limit: int,
) -> list[FlashSale]:
    return campaigns_page(session, FlashSale, principal, filters, now, before_id, limit)


def sale_to_run(session: Session, principal: Principal, public_id: str) -> FlashSale:
    """A sale for its seller or an operator (listing.campaign_to_run)."""
    return campaign_to_run(principal, lambda: flash.get_sale(session, public_id), "flash sale", public_id)


@dataclass(frozen=True)
class Board:
    """A sale's figures at one moment: what its live board shows."""

    stock: int
    available: int
    reserved: int
    sold: int
    waiting_units: int  # units the waiting line asks for
    in_line: int  # buyers' orders in the waiting line
    phase: str
    ends_at: dt.datetime


def board(session: Session, sale_id: int, now: dt.datetime) -> Board:
    """The sale's committed counters and its waiting line, read fresh (two statements): polled by the
    board's live feed, so it never uses an identity map's stale row."""
    row = session.execute(select(FLASH_SALES).where(FLASH_SALES.c.id == sale_id)).one()
    in_line = session.scalar(
        select(func.count()).where(_order.sale_id == sale_id, _order.status == "waiting")
    )
    counters = flash.counters_of(row)
    return Board(
        stock=row.stock,
        available=counters.available,
        reserved=row.reserved,
        sold=row.sold,
        waiting_units=row.waiting,
        in_line=in_line or 0,
        phase="closed" if row.closed_at else counters.phase(now),
        ends_at=row.ends_at,
    )
