"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from entrepot.kernel.errors import DomainError
from entrepot.platform.schemas import error_message

PROBLEM_BASE = "https://entrepot.dev/problems/"
MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    # Extension members never overwrite the standard ones.
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    name = ""
    for part in parts:
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or "body"


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    errors = [{"field": e.field, "message": e.message} for e in exc.field_errors]
    # a rate limit's answer says when to come back (platform.ratelimit.RateLimited)
    retry = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
    return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, errors, exc.extra, retry)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = list(exc.errors())
    if any(issue.get("type") == "json_invalid" for issue in issues):
        return problem(
            400, "malformed-json", "Malformed JSON", "the request body is not valid JSON", request.url.path
        )
    errors = [{"field": _field_name(tuple(i.get("loc", ()))), "message": error_message(i)} for i in issues]
    return problem(
        422, "validation-failed", "Invalid input", "the request has invalid fields", request.url.path, errors
    )


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
    }
    code = codes.get(exc.status_code, f"http-{exc.status_code}")
    title = code.replace("-", " ").capitalize()
    headers = dict(exc.headers or {})  # what the client needs next
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(exc.status_code, code, title, str(exc.detail), request.url.path, headers=headers or None)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette names only the first route's, and a path
    such as /markets has its GET and its POST in two routes."""
    routes = request.app.router.routes
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    _with_problem_schema(app)
    # An unexpected exception is answered and logged once by entrepot.api.hardening.Hardened.


# --- The problems in the OpenAPI document ---------------------------------------------------------


class FieldProblem(BaseModel):
    field: str = Field(examples=["lines[0].quantity"])
    message: str = Field(examples=["Input should be greater than or equal to 1"])


class Problem(BaseModel):
    """An RFC 9457 problem: `type` names the kind (`.../problems/validation-failed`); extension members
    (`reason`, `available`, ...) may follow the standard ones."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_BASE + "validation-failed",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "the request has invalid fields",
                    "instance": "/api/v1/orders",
                    "errors": [{"field": "lines", "message": "List should have at least 1 item"}],
                }
            ]
        },
    )

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None


# What each status means, whatever the route; a route's own `responses=` may say more.
MEANINGS = {
    400: "Malformed JSON, or a request the server cannot read",
    401: "No API key, or one that is unknown or revoked (`WWW-Authenticate: Bearer`)",
    403: "The key's role may not do this",
    404: "Nothing by that id or code, or nothing the caller may see",
    409: "The state of what is named forbids it now (the problem's `type` says which rule)",
    413: "The request body is larger than ENTREPOT_MAX_BODY_BYTES",
    415: "The body is not of a media type this operation reads",
    422: "Invalid input: `errors` names each field and what is wrong with it",
    429: "The key went past its role's rate limit (`Retry-After` says when to try again)",
    503: "The database is out of reach for the moment (`Retry-After` says when to try again)",
}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A provider's signed webhook: the signature is the key (401 when it is missing or wrong).
SIGNED: dict[int | str, dict[str, Any]] = {
    401: {"description": "The signature is missing or does not match the body"}
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _takes_input(dependant: Dependant) -> bool:
    if dependant.path_params or dependant.query_params or dependant.header_params or dependant.body_params:
        return True
    return any(_takes_input(sub) for sub in dependant.dependencies)


def problem_statuses(route: APIRoute, authenticated: Callable[..., Any]) -> set[int]:
    """The problem answers a route can give, from what it is made of: a key (401, 403), input (422), a
    body (400, 413), something named in the path (404), a write (409); and every route, the database out
    of reach (503: entrepot.api.hardening)."""
    statuses: set[int] = {503}
    if authenticated in set(_calls(route.dependant)):
        statuses |= {401, 403, 429}
    if _takes_input(route.dependant):
        statuses |= {404, 422}
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if route.dependant.path_params:
        statuses.add(404)
    if (route.methods or set()) & WRITES:
        statuses |= {404, 409, 422}
    return statuses


def problem_response(status: int, declared: dict[str, Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"description": MEANINGS.get(status, "A problem")}
    entry.update(declared or {})
    entry["content"] = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if status in (429, 503):
        entry["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer"},
            }
        }
    return entry


def document(router: APIRouter, authenticated: Callable[..., Any]) -> None:
    """Declare each of the router's routes' problem answers: those `problem_statuses` finds and any 4xx
    the route's own `responses=` names (its description kept, the problem schema added). Call before
    the router is included; `install` puts `Problem` among the document's schemas."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        declared: dict[int | str, dict[str, Any]] = {int(s): entry for s, entry in route.responses.items()}
        statuses = problem_statuses(route, authenticated) | {int(s) for s in declared if 400 <= int(s) < 500}
        route.responses = {
            **declared,
            **{status: problem_response(status, declared.get(status)) for status in sorted(statuses)},
        }


def _with_problem_schema(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" not in schemas:
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
