"""The outermost middleware: each request gets an id (the client's `X-Request-Id` when it is a plain
token, else a new one) that its log lines carry and its answer returns, and is counted and timed by route
template for the metrics (GET /api/v1/metrics). Outermost, so the fast path's answers and the problems
the hardening middleware writes (500, 503) are counted as the client saw them.

A route's template (`/api/v1/orders/{order_id}`), not its path, labels the samples: ids in paths would
make a series per order. Requests no route matched are counted under `unmatched`; the flash fast path,
which answers before the router, under its own template.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrepot.platform.fast_path import ROUTE_TEMPLATE
from entrepot.platform.logs import bind_request_id, request_id_for, unbind_request_id
from entrepot.platform.metrics import HTTP_REQUESTS, HTTP_SECONDS

UNMATCHED = "unmatched"


class Observed:
    def __init__(self, app: ASGIApp, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_for(_header(scope, b"x-request-id"))
        token = bind_request_id(request_id)
        status = 500  # what the server answers if the app raises past every handler

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            unbind_request_id(token)
            route = self._route_of(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_SECONDS.labels(scope["method"], route).observe(time.perf_counter() - started)

    def _route_of(self, scope: Scope) -> str:
        route = scope.get("route")
        template = getattr(route, "path", None)
        if isinstance(template, str):
            # FastAPI keeps an included router's routes as written, without the prefix they serve under
            under_api = scope["path"].startswith(self.api_prefix + "/")
            return (
                self.api_prefix + template
                if under_api and not template.startswith(self.api_prefix)
                else template
            )
        return str(scope.get(ROUTE_TEMPLATE, UNMATCHED))  # a fast path names its template itself


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None
