"""The outbox, readable by operators: what happened, in order, and how far the relay got with each event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from entrepot.platform.db import OutboxEvent
from entrepot.platform.deps import Ctx, Operator, Paging, next_cursor
from entrepot.platform.outbox import EventState, list_events_page, state_of
from entrepot.platform.schemas import CodeQuery, IdQuery, ListPage

router = APIRouter(tags=["events"])


class EventOut(BaseModel):
    id: str
    type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: dt.datetime
    state: EventState = Field(description="pending (waiting or retrying), published, or dead (gave up)")
    attempts: int = Field(description="tries by the relay so far, the successful one included")
    last_error: str | None = Field(description="why the latest failed try failed")
    next_attempt_at: dt.datetime | None = Field(description="when a failed event is tried again")
    published_at: dt.datetime | None
    dead_at: dt.datetime | None
    request_id: str | None = Field(
        description="the X-Request-Id of the request whose change recorded it; null when no request made it"
    )


def _out(e: OutboxEvent) -> EventOut:
    return EventOut(
        id=e.public_id,
        type=e.type,
        aggregate_id=e.aggregate_id,
        payload=e.payload,
        occurred_at=e.occurred_at,
        state=state_of(e),
        attempts=e.attempts,
        last_error=e.last_error,
        next_attempt_at=e.next_attempt_at,
        published_at=e.published_at,
        dead_at=e.dead_at,
        request_id=e.request_id,
    )


@router.get("/events", response_model=ListPage[EventOut])
def list_events(
    ctx: Ctx,
    _: Operator,
    paging: Paging,
    type: CodeQuery = None,
    aggregate_id: IdQuery = None,
    state: EventState | None = None,
) -> ListPage[EventOut]:
    """Oldest first, so a consumer can follow the cursor to keep up; `state=dead` shows what is stuck."""
    with ctx.db.transaction() as session:
        events = list_events_page(session, type, aggregate_id, state, paging.after, paging.limit)
        items = [_out(e) for e in events]
        return ListPage(items=items, next_cursor=next_cursor([e.id for e in events], paging.limit))
