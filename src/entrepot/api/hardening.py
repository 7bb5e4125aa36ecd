"""Headers every answer carries, and one log line (no request data) for an error nobody expected.

A pure ASGI middleware, outermost of ours, so it sees the flash fast path's answers as well as the
routers': every answer gets `X-Content-Type-Options: nosniff`; the API's answers `Cache-Control:
no-store` (they carry private data, and new API keys in plain text), unless a route says otherwise;
HTML pages a Content-Security-Policy that allows only this server's files (and the inline scripts whose
hashes the page declares) and no framing.

An unexpected exception is answered here with a 500 problem and logged once, with its traceback but
without the request's body or the statement's parameters (the engines hide them: see
entrepot.platform.db); left to Starlette it would be logged twice, once by the app and once more by
the server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("entrepot.api")

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
            log.error(
                "unhandled %s on %s %s", type(exc).__name__, scope["method"], scope["path"], exc_info=exc
            )
            if not started:  # past the start line the server can only cut the connection
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
        body = {
            "type": "https://entrepot.dev/problems/internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": "an unexpected error; nothing was changed",
            "instance": scope["path"],
        }
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
