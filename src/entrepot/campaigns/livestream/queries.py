"""Livestream sessions as the console lists them: a seller's own, or every one for an operator."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.campaigns.listing import seller_scope
from entrepot.campaigns.livestream.models import LiveDrop, LiveSession
from entrepot.platform.principal import Principal

LIVE_STATUSES = ("live", "ended")


def list_sessions(
    session: Session,
    principal: Principal,
    status: str | None,
    market: str | None,
    before_id: int | None,
    limit: int,
) -> list[tuple[LiveSession, int]]:
    """Newest first, keyset-paginated on the internal id, each with its number of drops."""
    drops = (
        select(func.count())
        .where(LiveDrop.session_id == LiveSession.id)
        .correlate(LiveSession)
        .scalar_subquery()
    )
    query = select(LiveSession, drops)
    seller_id = seller_scope(principal)
    if seller_id is not None:
        query = query.where(LiveSession.seller_id == seller_id)
    if status:
        query = query.where(LiveSession.status == status)
    if market:
        query = query.where(LiveSession.market_ref == market)
    if before_id is not None:
        query = query.where(LiveSession.id < before_id)
    rows = session.execute(query.order_by(LiveSession.id.desc()).limit(limit)).all()
    return [(live, count) for live, count in rows]
