"""GET /api/v1/metrics: the Prometheus text format, for an operator's key (Prometheus sends it with its
`authorization` setting): what the API served and how fast, the events recorded, the outbox's backlog and
the database pool (entrepot.platform.metrics)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from entrepot.platform.deps import Ctx, Operator
from entrepot.platform.metrics import CONTENT_TYPE, exposition

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus' text exposition format", "content": {CONTENT_TYPE: {}}}},
)
async def metrics(ctx: Ctx, _: Operator) -> Response:
    """Counters and histograms of this process (of every worker under `entrepot serve --workers N`), then
    the store's gauges, read now."""
    body = await run_in_threadpool(exposition, ctx.db, ctx.clock())
    return Response(body, media_type=CONTENT_TYPE)
