"""The outbox, readable by operators: what happened, in order, for integrations to follow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from entrepot.api.deps import Ctx, Operator, Paging, next_cursor
from entrepot.api.schemas import ListPage
from entrepot.db import OutboxEvent

router = APIRouter(tags=["events"])


class EventOut(BaseModel):
    id: str
    type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: dt.datetime


@router.get("/events", response_model=ListPage[EventOut])
def list_events(
    ctx: Ctx, _: Operator, paging: Paging, type: str | None = None, aggregate_id: str | None = None
) -> ListPage[EventOut]:
    """Oldest first, so a consumer can follow the cursor to keep up."""
    with ctx.db.transaction() as session:
        query = select(OutboxEvent).order_by(OutboxEvent.id).limit(paging.limit)
        if type:
            query = query.where(OutboxEvent.type == type)
        if aggregate_id:
            query = query.where(OutboxEvent.aggregate_id == aggregate_id)
        if paging.after is not None:
            query = query.where(OutboxEvent.id > paging.after)
        events = list(session.scalars(query))
        items = [
            EventOut(
                id=e.public_id,
                type=e.type,
                aggregate_id=e.aggregate_id,
                payload=e.payload,
                occurred_at=e.occurred_at,
            )
            for e in events
        ]
        return ListPage(items=items, next_cursor=next_cursor([e.id for e in events], paging.limit))
