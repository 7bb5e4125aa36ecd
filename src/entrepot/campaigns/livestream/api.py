"""Routes of livestream sessions: the host's queue of drops, opened and closed live, and a server-sent
events feed of every drop's remaining stock for the viewers.

The feed polls the database once per session per API worker, every half second, however many viewers
watch: each viewer only waits on a queue of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import defaultdict
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from entrepot.campaigns.livestream import service as livestream
from entrepot.campaigns.livestream.models import LiveSession
from entrepot.campaigns.livestream.schemas import DropIn, DropOut, LiveSessionIn, LiveSessionOut
from entrepot.platform.deps import AppContext, Caller, Ctx
from entrepot.platform.schemas import IdPath

router = APIRouter(tags=["livestream"])
FEED_INTERVAL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0


class LiveFeed:
    """Per worker: one poller per watched session, fanning each change out to its viewers."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.viewers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self.latest: dict[str, str] = {}
        self.pollers: dict[str, asyncio.Task[None]] = {}

    def subscribe(self, ref: str) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=4)
        self.viewers[ref].add(queue)
        if ref in self.latest:
            queue.put_nowait(self.latest[ref])
        if ref not in self.pollers:
            self.pollers[ref] = asyncio.get_running_loop().create_task(self._poll(ref))
        return queue

    def unsubscribe(self, ref: str, queue: asyncio.Queue[str]) -> None:
        self.viewers[ref].discard(queue)

    async def _poll(self, ref: str) -> None:
        try:
            while self.viewers[ref]:
                payload = await run_in_threadpool(self._snapshot, ref)
                if payload != self.latest.get(ref):
                    self.latest[ref] = payload
                    for queue in list(self.viewers[ref]):
                        _offer(queue, payload)
                await asyncio.sleep(FEED_INTERVAL_SECONDS)
        finally:
            self.pollers.pop(ref, None)
            self.latest.pop(ref, None)

    def _snapshot(self, ref: str) -> str:
        with self.ctx.db.transaction() as session:
            live = livestream.get_session(session, ref)
            body = {
                "session": ref,
                "status": live.status,
                "drops": livestream.snapshot(session, live, self.ctx.clock()),
            }
            return json.dumps(body, separators=(",", ":"))


def _offer(queue: asyncio.Queue[str], payload: str) -> None:
    """A slow viewer skips states it has not read yet: only the newest matters."""
    while queue.full():
        queue.get_nowait()
    queue.put_nowait(payload)


def feed_of(request: Request) -> LiveFeed:
    ctx = request.app.state.ctx
    feed: LiveFeed | None = ctx.runtimes.get("live_feed")
    if feed is None:
        feed = ctx.runtimes["live_feed"] = LiveFeed(ctx)
    return feed


def session_out(session: Session, live: LiveSession, now: dt.datetime) -> LiveSessionOut:
    drops = [DropOut(**view) for view in livestream.snapshot(session, live, now)]
    return LiveSessionOut(
        id=live.public_id,
        market=live.market_ref,
        host=live.host,
        title=live.title,
        status=live.status,
        started_at=live.started_at,
        ended_at=live.ended_at,
        drops=drops,
    )


@router.post("/live-sessions", status_code=201, response_model=LiveSessionOut)
def start_session(body: LiveSessionIn, ctx: Ctx, principal: Caller) -> LiveSessionOut:
    """A seller goes live in a market; drops are queued, then opened and closed during the show."""
    with ctx.db.transaction() as session:
        live = livestream.start_session(session, principal, body.market, body.host, body.title, ctx.clock())
        return session_out(session, live, ctx.clock())


@router.get("/live-sessions/{ref}", response_model=LiveSessionOut)
def get_session(ref: IdPath, ctx: Ctx, _: Caller) -> LiveSessionOut:
    with ctx.db.transaction() as session:
        return session_out(session, livestream.get_session(session, ref), ctx.clock())


@router.post("/live-sessions/{ref}/drops", status_code=201, response_model=LiveSessionOut)
def add_drop(ref: IdPath, body: DropIn, ctx: Ctx, principal: Caller) -> LiveSessionOut:
    spec = livestream.DropSpec(**body.model_dump())
    with ctx.db.transaction() as session:
        livestream.add_drop(session, principal, ref, spec)
        return session_out(session, livestream.get_session(session, ref), ctx.clock())


@router.post("/live-sessions/{ref}/drops/{drop}/open", response_model=LiveSessionOut)
def open_drop(ref: IdPath, drop: IdPath, ctx: Ctx, principal: Caller) -> LiveSessionOut:
    """Put a queued drop on sale now: its units are set aside and buyers take them from its flash sale."""
    with ctx.db.transaction() as session:
        livestream.open_drop(session, principal, ref, drop, ctx.clock())
        return session_out(session, livestream.get_session(session, ref), ctx.clock())


@router.post("/live-sessions/{ref}/drops/{drop}/close", response_model=LiveSessionOut)
def close_drop(ref: IdPath, drop: IdPath, ctx: Ctx, principal: Caller) -> LiveSessionOut:
    with ctx.db.transaction() as session:
        livestream.close_drop(session, principal, ref, drop, ctx.clock())
        return session_out(session, livestream.get_session(session, ref), ctx.clock())


@router.post("/live-sessions/{ref}/end", response_model=LiveSessionOut)
def end_session(ref: IdPath, ctx: Ctx, principal: Caller) -> LiveSessionOut:
    with ctx.db.transaction() as session:
        live = livestream.end_session(session, principal, ref, ctx.clock())
        return session_out(session, live, ctx.clock())


@router.get(
    "/live-sessions/{ref}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`event: drops` with JSON data"}},
)
async def events(ref: IdPath, request: Request, ctx: Ctx, _: Caller) -> StreamingResponse:
    """Server-sent events: the session's drops with their remaining stock, sent when anything changes
    (checked every half second), and a comment every 15 s to keep the connection open."""

    def exists() -> None:
        with ctx.db.transaction() as session:
            livestream.get_session(session, ref)

    await run_in_threadpool(exists)  # a 404 problem, not an empty stream
    feed = feed_of(request)
    return StreamingResponse(
        _stream(feed, ref, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(feed: LiveFeed, ref: str, request: Request) -> AsyncIterator[str]:
    queue = feed.subscribe(ref)
    sent, quiet = 0, 0.0
    try:
        while not await request.is_disconnected():
            try:
                payload = await asyncio.wait_for(queue.get(), timeout=1.0)
            except TimeoutError:
                quiet += 1.0
                if quiet >= KEEP_ALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                continue
            sent, quiet = sent + 1, 0.0
            yield f"id: {sent}\nevent: drops\ndata: {payload}\n\n"
    finally:
        feed.unsubscribe(ref, queue)
