"""Buyers (id and country only: no names) for the reporting snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.identity.models import Buyer

Row = dict[str, Any]


def buyer_rows(session: Session) -> list[Row]:
    query = select(Buyer.id.label("buyer_id"), Buyer.public_id.label("buyer"), Buyer.country)
    return [dict(r) for r in session.execute(query.order_by(Buyer.id)).mappings()]
