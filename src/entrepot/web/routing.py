"""How a console page answers what went wrong: as a page, with the status the API gives.

A refusal a service raises (a DomainError: 403, 404, 409, 422 ...) is shown as an error page with the
problem's title and detail and the same status code the API answers with, so a page outside a role is
403 or 404 exactly as the API route is; bad query parameters are a 422 page; no session is a redirect
to the sign-in page. The API keeps its problem+json answers: this route class serves the console only.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from entrepot.kernel.errors import DomainError
from entrepot.platform.problems import PROBLEM_BASE
from entrepot.platform.schemas import error_message
from entrepot.web.auth import SignInRequired, sign_in_url
from entrepot.web.templating import render


def error_page(request: Request, status: int, title: str, detail: str, code: str) -> Response:
    return render(request, "error.html", status, title=title, detail=detail, type=PROBLEM_BASE + code)


class ConsoleRoute(APIRoute):
    """`error_page` draws the refusal; a section with its own layout (the storefront) gives its own."""

    error_page: Callable[[Request, int, str, str, str], Response] = staticmethod(error_page)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        error_page = self.error_page

        async def console_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired as needed:
                return RedirectResponse(sign_in_url(needed.next_path), status_code=303)
            except DomainError as problem:
                return error_page(request, problem.status, problem.title, problem.detail, problem.code)
            except RequestValidationError as invalid:
                fields = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {error_message(e)}"
                    for e in invalid.errors()
                )
                return error_page(request, 422, "Invalid input", fields, "validation-failed")

        return console_handler
