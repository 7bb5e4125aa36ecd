"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from entrepot.kernel.errors import DomainError

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
    return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, errors, exc.extra)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = list(exc.errors())
    if any(issue.get("type") == "json_invalid" for issue in issues):
        return problem(
            400, "malformed-json", "Malformed JSON", "the request body is not valid JSON", request.url.path
        )
    errors = [
        {"field": _field_name(tuple(i.get("loc", ()))), "message": i.get("msg", "invalid")} for i in issues
    ]
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
    # An unexpected exception is answered and logged once by entrepot.api.hardening.Hardened.
