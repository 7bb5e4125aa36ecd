"""An order's live status as server-sent events, as the console's live boards send theirs
(web/live.py): the status read from the store every INTERVAL_SECONDS in a worker thread, sent when it
changes, a comment every KEEP_ALIVE_SECONDS so proxies keep a quiet stream open; the stream ends when
the order is delivered or cancelled, or when the client goes away (nothing is left polling)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from entrepot.local_services import order_service
from entrepot.local_services.models import Courier, Trip
from entrepot.platform.deps import AppContext
from entrepot.platform.principal import Principal

INTERVAL_SECONDS = 1.0
KEEP_ALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
FINAL = ("delivered", "cancelled")


def read_status(ctx: AppContext, principal: Principal, ref: str) -> dict[str, Any]:
    """What the buyer's screen shows: state, ETA with its spread, the promise, the courier's position."""
    with ctx.db.transaction() as session:
        order = order_service.get_order(session, principal, ref)
        status: dict[str, Any] = {
            "order": order.public_id,
            "state": order.state,
            "eta_at": order.eta_at.isoformat(),
            "eta_spread_s": order.spread_s,
            "promised_at": order.promised_at.isoformat(),
            "courier": None,
        }
        if order.trip_id is not None and order.state in ("assigned", "picked_up"):
            where = session.execute(
                select(Courier.lat, Courier.lon, Courier.position_at)
                .join(Trip, Trip.courier_id == Courier.id)
                .where(Trip.id == order.trip_id)
            ).first()
            if where is not None and where.lat is not None:
                status["courier"] = {
                    "lat": where.lat,
                    "lon": where.lon,
                    "at": where.position_at.isoformat() if where.position_at else None,
                }
        return status


def event(status: dict[str, Any], number: int) -> str:
    return f"id: {number}\nevent: status\ndata: {json.dumps(status, separators=(',', ':'))}\n\n"


async def stream(
    request: Request, ctx: AppContext, principal: Principal, ref: str, interval: float = INTERVAL_SECONDS
) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    last: dict[str, Any] | None = None
    sent, quiet = 0, 0.0
    while not await request.is_disconnected():
        status = await run_in_threadpool(read_status, ctx, principal, ref)
        if status != last:
            last, sent, quiet = status, sent + 1, 0.0
            yield event(status, sent)
            if status["state"] in FINAL:
                return
        elif quiet >= KEEP_ALIVE_SECONDS:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(interval)
        quiet += interval


def current_trips(session: Session, courier_ids: list[int]) -> dict[int, str]:
    """Each courier's trip in hand (offered or accepted), by the courier's key: one statement, for the
    console's board of couriers."""
    if not courier_ids:
        return {}
    found = select(Trip.courier_id, Trip.public_id).where(
        Trip.courier_id.in_(courier_ids), Trip.state.in_(("offered", "accepted"))
    )
    return {courier: trip for courier, trip in session.execute(found)}
