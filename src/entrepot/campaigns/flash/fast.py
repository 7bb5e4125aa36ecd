"""The flash order request (`POST /flash-sales/{id}/orders`) on a lean path.

A rush is tens of thousands of these requests at once, most of them refusals, and a profile of an API
worker showed the framework's layers per request (exception and exit-stack middleware, route matching,
dependency resolution, the request wrapper) costing more CPU than the flash code. `answer_take` is the
route's whole behaviour, written against plain headers and body; two adapters serve it:

- `FlashFastPath`, a pure ASGI middleware that answers this one path before the router (installed by the
  app inside the body-size limit); it renders its errors with the app's own problem handlers;
- the FastAPI route in `campaigns.flash.api`, which documents the route in the OpenAPI schema and serves
  it where the middleware is not installed.

Authentication, authorisation, validation and every answer are the same on both.
"""

from __future__ import annotations

import functools
import re

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash.rules import WAITING
from entrepot.campaigns.flash.runtime import TITLES, FlashRuntime, runtime_of
from entrepot.campaigns.flash.schemas import FlashOrderIn, FlashOrderOut
from entrepot.kernel.bounds import ID_LENGTH, checked_text
from entrepot.kernel.errors import FieldError, Forbidden, UnsupportedMediaType, ValidationFailed
from entrepot.platform import problems
from entrepot.platform.deps import authenticated, check_idempotency_key
from entrepot.platform.fast_path import JSON, ROUTE_TEMPLATE, Answer, respond


async def answer_take(
    rt: FlashRuntime, sale_ref: str, headers: Headers, raw_body: bytes, path: str
) -> Answer:
    """Take units at the sale price; raises DomainError or RequestValidationError for a bad request."""
    principal = await authenticated(rt.ctx, headers.get("authorization"), headers.get("x-api-key"))
    if principal.role != "buyer" or principal.buyer_id is None:
        raise Forbidden("this needs a buyer key")
    key = check_idempotency_key(headers.get("idempotency-key"))
    sale_ref = checked_text("sale_id", sale_ref, ID_LENGTH)  # the router's path check is not on this path
    body = order_body(raw_body, headers.get("content-type"))
    meta = await rt.meta(sale_ref)
    ticket = flash.Ticket(principal.buyer_id, body.quantity, key, body.payment_method is not None)
    taken = await rt.take(meta, ticket)
    if taken.order_id is None:  # answered, not raised: most requests of a rush end here, cheaply
        refusal = refusal_body(taken.decision.outcome, taken.decision.detail, path, meta.public_id)
        return Answer(409, refusal, problems.MEDIA_TYPE)
    status, extra, after = 201, {}, None
    if taken.replayed:
        if taken.quantity != body.quantity:
            raise ValidationFailed(
                "this Idempotency-Key was used for another request",
                [FieldError("Idempotency-Key", f"used for {taken.quantity} unit(s)")],
            )
        status, extra = 200, {"Idempotent-Replayed": "true"}
    elif taken.status == WAITING:
        status = 202
    elif taken.payment_id and body.payment_method:
        method = body.payment_method

        async def after() -> None:
            await rt.pay_in_process(meta, taken, method)

    out = order_out(taken, meta.public_id, meta.currency)
    return Answer(status, out.model_dump_json().encode(), JSON, extra, after)


@functools.lru_cache(maxsize=1024)
def refusal_body(code: str, detail: str, path: str, sale: str) -> bytes:
    """The problem document refusing a request; a rush sends thousands of identical ones."""
    return bytes(problems.problem(409, code, TITLES[code], detail, path, None, {"sale": sale}).body)


def order_out(taken: flash.Taken, sale: str, currency: str) -> FlashOrderOut:
    return FlashOrderOut(
        id=taken.order_id or "",
        sale=sale,
        status=taken.status or "",
        quantity=taken.quantity,
        amount_minor=taken.amount_minor,
        currency=currency,
        expires_at=taken.expires_at,
        payment_id=taken.payment_id,
        payment_status="pending" if taken.payment_id and not taken.replayed else None,
    )


def order_body(raw: bytes, content_type: str | None) -> FlashOrderIn:
    """The JSON body, sent as JSON: a form or text/plain is what a browser may send to another site
    without asking it first (FastAPI's JSON routes refuse them as well)."""
    if raw and not _is_json(content_type):
        raise UnsupportedMediaType("send the order as application/json")
    try:
        return FlashOrderIn.model_validate_json(raw or b"{}")
    except PydanticValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "bad JSON"}]
            ) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == JSON or (media_type.startswith("application/") and media_type.endswith("+json"))


class FlashFastPath:
    """Answers `POST {prefix}/flash-sales/{id}/orders` itself; everything else goes to the app."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.orders_path = re.compile(re.escape(prefix) + r"/flash-sales/([^/]+)/orders")
        self.template = prefix + "/flash-sales/{sale_id}/orders"  # as the router would name the route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = self.orders_path.fullmatch(scope["path"])
            if match is not None:
                scope[ROUTE_TEMPLATE] = self.template  # for the metrics: no router route to name it
                await self._take(scope, receive, send, match.group(1))
                return
        await self.app(scope, receive, send)

    async def _take(self, scope: Scope, receive: Receive, send: Send, sale_ref: str) -> None:
        rt = runtime_of(scope["app"].state)  # the app's, whatever context it has now (attach_context)

        async def answering(headers: Headers, raw: bytes) -> Answer:
            return await answer_take(rt, sale_ref, headers, raw, scope["path"])

        await respond(scope, receive, send, answering)
