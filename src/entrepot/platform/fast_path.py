"""Answering a hot route in plain ASGI, before the router: what every such fast path shares.

A profile of an API worker under load shows the framework's layers per request (exception and exit-stack
middleware, matching the path against every route, dependency resolution, the request wrapper) costing
more CPU than the route's own work. A fast path answers its route from plain headers and body with the
same functions the route's dependencies call (authentication, the Idempotency-Key check, the same
Pydantic model for the body), renders its problems with the app's own handlers, and leaves the FastAPI
route in place to document it in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from entrepot.kernel.errors import DomainError
from entrepot.platform import problems

JSON = "application/json"
# The scope key under which a fast path names its route for the metrics (no router route names it).
ROUTE_TEMPLATE = "entrepot.route_template"

M = TypeVar("M", bound=BaseModel)
NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    after: Callable[[], Awaitable[None]] | None = None  # run once the answer is sent


Answering = Callable[[Headers, bytes], Awaitable[Answer]]


async def respond(scope: Scope, receive: Receive, send: Send, answering: Answering) -> None:
    """Read the body, answer it, send the answer (a DomainError or a validation error as the app's
    problem handlers render it), then run what comes after the answer."""
    try:
        answer = await answering(Headers(scope=scope), await read_body(receive))
    except DomainError as exc:
        await (await problems.on_domain_error(Request(scope), exc))(scope, receive, send)
        return
    except RequestValidationError as exc:
        await (await problems.on_validation_error(Request(scope), exc))(scope, receive, send)
        return
    headers = [
        (b"content-type", answer.media_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in answer.headers.items()),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
    if answer.after is not None:
        await answer.after()


def json_body(model: type[M], raw: bytes, content_type: str | None) -> M:
    """The body as `model`, sent as JSON: a form or text/plain (what a browser may send to another site
    without asking it first) is refused as FastAPI's JSON routes refuse it. Errors worded and located as
    FastAPI words and locates them (under "body"), so that a route and its fast path answer alike."""
    if not raw:  # no body at all, as FastAPI words it
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    if not is_json(content_type):  # FastAPI (strict content type) does not read it as JSON: not an object
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",), "msg": NOT_AN_OBJECT}]
        )
    try:
        return model.model_validate_json(raw)
    except PydanticValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "bad JSON"}]
            ) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == JSON or (media_type.startswith("application/") and media_type.endswith("+json"))


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
