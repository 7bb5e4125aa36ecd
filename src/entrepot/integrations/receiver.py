"""A webhook receiver for development and benchmarks: checks each delivery's Standard Webhooks signature
with the spec's library and hands it on (`entrepot webhooks listen` prints it). It answers 204 when the
signature verifies and 401 when it does not; `answer` may choose another status (a benchmark's receiver
that fails for a while)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Received:
    webhook_id: str
    timestamp: str
    body: bytes
    verified: bool
    error: str | None
    at: float  # time.time() when it arrived


Answer = Callable[[Received], Awaitable[int]]


async def verified_or_refused(received: Received) -> int:
    return 204 if received.verified else 401


def verify(secrets: Sequence[str], body: bytes, headers: dict[str, str]) -> str | None:
    """None when one of `secrets` signed this body with these headers, else why not."""
    error = "no secret"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return None
        except WebhookVerificationError as exc:
            error = str(exc)
    return error


def receiver_app(secrets: Sequence[str], answer: Answer = verified_or_refused) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        error = verify(secrets, body, headers)
        received = Received(
            headers.get("webhook-id", ""),
            headers.get("webhook-timestamp", ""),
            body,
            error is None,
            error,
            time.time(),
        )
        return web.Response(status=await answer(received))

    app = web.Application(client_max_size=10 * 1024 * 1024)
    app.router.add_post("/{tail:.*}", receive)
    return app
