"""Checkout's hot routes on a lean path: `POST /orders` and the provider's `POST /payments/webhook`.

Under the checkout bench a worker spent more CPU in the framework's layers (route matching over every
route of the app, dependency resolution, the exception and exit-stack middleware) than in checkout.
`CheckoutFastPath` answers these two paths before the router (installed by the app inside the body-size
limit, as the flash sale's is) with the same steps as the routes in `ordering.api`: the same
authentication and role check, the same Idempotency-Key check, the same body model, the same `place`
and `settle_verified`, and problems rendered by the app's own handlers. The routes stay to document
both in the OpenAPI schema and to serve them where the middleware is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from entrepot.ordering.api import deliver_in_process, order_out, place, settle_verified
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.payments import SIGNATURE_HEADER
from entrepot.ordering.schemas import OrderIn
from entrepot.platform.deps import IDEMPOTENCY_KEY_PATTERN, authenticated, buyer
from entrepot.platform.fast_path import JSON, ROUTE_TEMPLATE, Answer, json_body, respond

Route = Callable[[OrderingContext, Headers, bytes], Awaitable[Answer]]


async def answer_place(ctx: OrderingContext, headers: Headers, raw: bytes) -> Answer:
    """`POST /orders`, checked in the order the route's dependencies check it: the caller, then the
    Idempotency-Key, then the body."""
    principal = await buyer(await authenticated(ctx, headers.get("authorization"), headers.get("x-api-key")))
    key, body = _key_and_body(headers, raw)
    placed = await place(ctx, principal, body, key)
    out = order_out(placed.detail, ctx.clock()).model_dump_json().encode()
    extra = {"Idempotent-Replayed": "true"} if placed.replayed else {}
    delivery = placed.delivery
    if delivery is None:
        return Answer(200 if placed.replayed else 201, out, JSON, extra)

    async def after() -> None:  # the provider's webhook, once the buyer has the answer (as the route)
        await deliver_in_process(ctx, delivery)

    return Answer(200 if placed.replayed else 201, out, JSON, extra, after)


# The Idempotency-Key header as the route declares it (platform.deps.IdempotencyKey), so that a bad one
# gets the same field error on both paths.
_KEY = TypeAdapter(
    Annotated[str, StringConstraints(min_length=8, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN)]
)
_KEY_AT = ("header", "Idempotency-Key")


def _key_and_body(headers: Headers, raw: bytes) -> tuple[str, OrderIn]:
    """The Idempotency-Key and the body, their errors reported together as FastAPI reports a route's
    header and body errors."""
    errors: list[Any] = []
    key = headers.get("idempotency-key")
    if key is None:
        errors.append({"type": "missing", "loc": _KEY_AT, "msg": "Field required", "input": None})
    else:
        try:
            key = _KEY.validate_python(key)
        except PydanticValidationError as exc:
            errors += [{**e, "loc": (*_KEY_AT, *e["loc"])} for e in exc.errors()]
    try:
        body = json_body(OrderIn, raw, headers.get("content-type"))
    except RequestValidationError as exc:
        errors += exc.errors()
    if errors:
        raise RequestValidationError(errors)
    assert key is not None
    return key, body


async def answer_webhook(ctx: OrderingContext, headers: Headers, raw: bytes) -> Answer:
    """`POST /payments/webhook`: the signed event applied in the worker's next batch of events."""
    outcome = await settle_verified(ctx, raw, headers.get(SIGNATURE_HEADER))
    return Answer(200, json.dumps({"outcome": outcome}, separators=(",", ":")).encode())


class CheckoutFastPath:
    """Answers `POST {prefix}/orders` and `POST {prefix}/payments/webhook` itself; everything else goes
    to the app (and these too when the app's context has no ordering part)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.routes: dict[str, Route] = {
            prefix + "/orders": answer_place,
            prefix + "/payments/webhook": answer_webhook,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            route = self.routes.get(scope["path"])
            ctx = getattr(scope["app"].state, "ctx", None) if route is not None else None
            if route is not None and isinstance(ctx, OrderingContext):
                scope[ROUTE_TEMPLATE] = scope["path"]  # for the metrics: no router route names it
                await respond(scope, receive, send, lambda headers, raw: route(ctx, headers, raw))
                return
        await self.app(scope, receive, send)
