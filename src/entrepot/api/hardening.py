"""Headers every answer carries, and one log line (no request data) for an error nobody expected.

A pure ASGI middleware, outside all of ours but api.observed, so it sees the flash fast path's answers as
well as the routers': every answer gets `X-Content-Type-Options: nosniff`; the API's answers `Cache-Control:
no-store` (they carry private data, and new API keys in plain text), unless a route says otherwise;
HTML pages a Content-Security-Policy that allows only this server's files (and the inline scripts whose
hashes the page declares) and no framing.

An unexpected exception is answered here with a 500 problem and logged once, with its traceback but
without the request's body or the statement's parameters (the engines hide them: see
entrepot.platform.db); left to Starlette it would be logged twice, once by the app and once more by
the server. A database out of reach (stopped, restarting, its connections cut: `platform.db.is_unavailable`)
is not a bug: it is answered 503 with Retry-After and logged in one line, so clients back off and try
again (a write with the same Idempotency-Key) while the pool reconnects by itself once the server is back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrepot.platform.db import is_unavailable
from entrepot.platform.problems import PROBLEM_BASE

log = logging.getLogger("entrepot.api")

# Seconds a client is asked to wait when the database is out of reach: a restart takes a few.
RETRY_AFTER_S = 2

INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def script_hashes(html: str) -> list[str]:
    """CSP source expressions for the inline scripts of a page (each must match to the byte)."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    ]


def page_policy(scripts: Iterable[str] = ()) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self' " + " ".join(scripts),
            "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes as it renders
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


class Hardened:
    def __init__(self, app: ASGIApp, api_prefix: str, html_policy: str) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.html_policy = html_policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        is_api = scope["path"].startswith(self.api_prefix)

        async def send_hardened(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._headers(list(message.get("headers", [])), is_api)
            await send(message)

        try:
            await self.app(scope, receive, send_hardened)
        except Exception as exc:
            unavailable = is_unavailable(exc)
            if unavailable:
                log.warning(
                    "database out of reach on %s %s: %s", scope["method"], scope["path"], type(exc).__name__
                )
            else:
                log.error(
                    "unhandled %s on %s %s", type(exc).__name__, scope["method"], scope["path"], exc_info=exc
                )
            if started:  # past the start line the server can only cut the connection
                return
            if unavailable:
                await self._unavailable(scope, send_hardened)
            else:
                await self._internal_error(scope, send_hardened)

    def _headers(self, headers: list[tuple[bytes, bytes]], is_api: bool) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in headers}
        headers.append((b"x-content-type-options", b"nosniff"))
        if is_api and b"cache-control" not in names:
            headers.append((b"cache-control", b"no-store"))
        content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
        if content_type.startswith(b"text/html"):
            headers.append((b"content-security-policy", self.html_policy))
            headers.append((b"x-frame-options", b"DENY"))
        return headers

    async def _internal_error(self, scope: Scope, send: Send) -> None:
        detail = "an unexpected error; nothing was changed"
        await _send_problem(send, scope, 500, "internal-error", "Internal error", detail)

    async def _unavailable(self, scope: Scope, send: Send) -> None:
        # A write cut off as it committed may have been made: the client cannot know, so it is told how
        # to find out safely rather than promised that nothing changed.
        detail = (
            "the database is out of reach for the moment; try again after Retry-After seconds (a write "
            "sent again with the same Idempotency-Key, where the route takes one, is made at most once)"
        )
        retry = [(b"retry-after", str(RETRY_AFTER_S).encode())]
        await _send_problem(send, scope, 503, "database-unavailable", "Service unavailable", detail, retry)


async def _send_problem(
    send: Send,
    scope: Scope,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope["path"],
    }
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
