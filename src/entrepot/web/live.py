"""The server side of the console's live-update component (static/live.js reads it): a page's figures
sent as server-sent events, polled from the database and sent when they change.

Each event is `data: {"field": "text", ...}` (one JSON object: the figures as the page shows them), so
the browser only puts each value into the elements marked `data-live="field"`. A comment every
KEEP_ALIVE_SECONDS keeps proxies from closing a quiet stream; the viewer's session is checked again
every SESSION_CHECK_SECONDS, so signing out (or a revoked key) ends the stream too. The stream ends
when the client goes away: nothing is left polling for a closed tab.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from entrepot.platform.deps import AppContext
from entrepot.web import auth

INTERVAL_SECONDS = 1.0  # how often the figures are read: a board a person watches, not a ticker
KEEP_ALIVE_SECONDS = 15.0
SESSION_CHECK_SECONDS = 15.0
RETRY_MILLISECONDS = 2000  # what the browser waits before reconnecting on its own (the `retry` field)

Figures = dict[str, Any]


def event(figures: Figures) -> str:
    return f"data: {json.dumps(figures, separators=(',', ':'))}\n\n"


async def figures_stream(
    request: Request,
    read: Callable[[], Figures],
    still_signed_in: Callable[[], bool],
    interval: float = INTERVAL_SECONDS,
) -> AsyncIterator[str]:
    """`read()`'s figures now and whenever they change (read every `interval` seconds in a worker
    thread: it queries the database), until the client disconnects or the session ends."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    last: str | None = None
    quiet = since_check = 0.0
    while not await request.is_disconnected():
        if since_check >= SESSION_CHECK_SECONDS:
            since_check = 0.0
            if not await run_in_threadpool(still_signed_in):
                return
        payload = event(await run_in_threadpool(read))
        if payload != last:
            last, quiet = payload, 0.0
            yield payload
        elif quiet >= KEEP_ALIVE_SECONDS:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(interval)
        quiet += interval
        since_check += interval


def session_check(request: Request, ctx: AppContext) -> Callable[[], bool]:
    """Whether the request's console session is still alive (auth.current), without counting the check
    as use: a board left open on an unattended screen still ends when the session goes idle."""
    return lambda: auth.current(request, ctx, in_use=False) is not None


def live_response(stream: AsyncIterator[str]) -> StreamingResponse:
    # no-cache and no proxy buffering: each event must reach the browser when it is sent
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
