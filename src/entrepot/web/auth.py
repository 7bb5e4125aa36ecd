"""Who is signed in, from the session cookie; the CSRF checks every form is held to.

The cookie holds the session's token: HttpOnly (no script reads it), SameSite=Lax (another site's form
posts arrive without it), Secure whenever the page was asked for over https. A form carries the
session's CSRF token (identity.sessions.csrf_token) and a POST without the right one is refused with 403
before anything is done. The sign-in form, which comes before any session, carries a token that must
match a cookie set with the page (a double submit): another site cannot read that cookie to copy it.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from starlette.responses import Response

from entrepot.identity import sessions
from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import Forbidden
from entrepot.platform import audit
from entrepot.platform.deps import AppContext, Ctx

SESSION_COOKIE = "entrepot_session"
SIGN_IN_COOKIE = "entrepot_sign_in"  # the sign-in form's double-submit token
SIGN_IN_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # as secrets.token_urlsafe(24) makes them


class SignInRequired(Exception):
    """No session, or it ended: the console answers with the sign-in page (routing.ConsoleRoute)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_url(next_path: str) -> str:
    return "/sign-in" if next_path in ("/", "") else f"/sign-in?next={quote(next_path, safe='/')}"


def current(request: Request, ctx: Ctx, in_use: bool = True) -> SignedIn | None:
    """The session this request's cookie names, if it is alive (its idle time reset when `in_use`)."""
    cookie, life = request.cookies.get(SESSION_COOKIE), sessions.Lifetime.of(ctx.settings)
    with ctx.db.transaction() as session:
        viewer = sessions.resume(session, cookie, ctx.clock(), life, in_use)
    request.state.viewer = viewer
    return viewer


def signed_in(request: Request, ctx: Ctx) -> SignedIn:
    viewer = current(request, ctx)
    if viewer is None:
        # back to the page after signing in; a form sent after the session ended is not sent again (the
        # browser would ask for its address with GET, which no form route answers): the role's home then
        raise SignInRequired(request.url.path if request.method == "GET" else "/")
    return viewer


async def signed_in_acting(ctx: Ctx, viewer: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    """The signed-in viewer, whom the page's changes are recorded as (platform.audit): async, so that the
    route sees what it binds (a sync dependency runs in a copy of the request's context)."""
    audit.acting_as(viewer.principal, ctx.clock)
    return viewer


Viewer = Annotated[SignedIn, Depends(signed_in_acting)]
MaybeViewer = Annotated[SignedIn | None, Depends(current)]
CsrfField = Annotated[str, Form(max_length=128)]


def check_csrf(viewer: SignedIn, given: str) -> None:
    if not hmac.compare_digest(given.encode(), viewer.csrf_token.encode()):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again")


def check_sign_in_csrf(request: Request, given: str) -> None:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again")


def _secure(request: Request) -> bool:
    """Over https (uvicorn reads X-Forwarded-Proto from the proxies FORWARDED_ALLOW_IPS trusts), or
    always when the settings say the console is served behind TLS."""
    ctx: AppContext = request.app.state.ctx
    return request.url.scheme == "https" or ctx.settings.console_secure_cookies


def sign_in_token(request: Request) -> str:
    """The browser's sign-in token, or a new one: reused, so that a second tab or a reload does not make
    the form already open in the first one fail its CSRF check."""
    given = request.cookies.get(SIGN_IN_COOKIE, "")
    return given if SIGN_IN_TOKEN.fullmatch(given) else secrets.token_urlsafe(24)


def set_sign_in_cookie(request: Request, response: Response, token: str) -> None:
    # path "/": the sign-in form is also served at "/", which must see the token a tab already has
    secure = _secure(request)
    response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    # no Max-Age: a browser session cookie; the server ends idle sessions (console_idle_minutes)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
