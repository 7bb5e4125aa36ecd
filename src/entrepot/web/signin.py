"""Signing in (with a user name and password, or with an API key) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from entrepot.identity import sessions
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.platform import ratelimit
from entrepot.platform.deps import Ctx
from entrepot.platform.ratelimit import RateLimited
from entrepot.web import auth
from entrepot.web.auth import CsrfField, MaybeViewer, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import nav_for, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Short = Annotated[str, Form(max_length=256)]
NextQuery = Annotated[str, Query(max_length=512)]


def safe_next(path: str) -> str:
    """Only a path of this site: `//elsewhere` or `https://...` would send the person away."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def home_of(role: str) -> str:
    if role == "buyer":  # a buyer comes to shop: the storefront's markets (web.storefront)
        return "/shop"
    if role == "carrier":  # a carrier comes for the parcels it carries, not the organisation
        return "/logistics/shipments"
    links = nav_for(role)
    return links[0][1] if links else "/home"


def _sign_in_page(
    request: Request, next_path: str, status: int = 200, problem: FormProblem | None = None, **values: str
) -> Response:
    token = auth.sign_in_token(request)
    problem = problem or FormProblem()
    by_key = values.get("method") == "key"
    response = render(
        request,
        "sign_in.html",
        status,
        csrf=token,
        next=next_path,
        problem=problem,
        password_fields=FormProblem() if by_key else problem,  # errors beside the form that was sent
        key_fields=problem if by_key else FormProblem(),
        values=values,
    )
    auth.set_sign_in_cookie(request, response, token)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="entrepot"'
    return response


@router.get("/")
def root(request: Request, viewer: MaybeViewer) -> Response:
    """Signed out: the sign-in page; signed in: the first page of the role."""
    if viewer is None:
        return _sign_in_page(request, "/")
    return RedirectResponse(home_of(viewer.principal.role), status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, viewer: MaybeViewer, next: NextQuery = "/") -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next) if next != "/" else home_of(viewer.principal.role), 303)
    return _sign_in_page(request, safe_next(next))


async def _too_many_attempts(request: Request, ctx: Ctx) -> RateLimited | None:
    """The refusal when this client address tried to sign in too often (platform.ratelimit), else None."""
    limits = ratelimit.of_context(ctx.settings, ctx.runtimes)
    if limits is None:
        return None
    try:
        await limits.check_sign_in(request.client.host if request.client else "unknown")
    except RateLimited as refused:
        return refused
    return None


@router.post("/sign-in")
def sign_in(
    request: Request,
    ctx: Ctx,
    too_many: Annotated[RateLimited | None, Depends(_too_many_attempts)],
    csrf: CsrfField = "",
    method: Annotated[str, Form(pattern="^(password|key)$")] = "password",
    username: Short = "",
    password: Short = "",
    api_key: Short = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    auth.check_sign_in_csrf(request, csrf)
    next_path = safe_next(next)
    if too_many is not None:  # before any password is checked: guessing costs the guesser time
        page = _sign_in_page(
            request, next_path, 429, FormProblem.of(too_many), method=method, username=username
        )
        page.headers["Retry-After"] = str(too_many.extra["retry_after"])
        return page
    try:
        # user names are made lower case (identity.users.USERNAME): `Ops` signs in as `ops`
        token = _start_session(ctx, method, username.strip().lower(), password, api_key)
    except DomainError as problem:
        problem_page = FormProblem.of(problem)
        return _sign_in_page(
            request, next_path, problem.status, problem_page, method=method, username=username
        )
    response = RedirectResponse(next_path, status_code=303)
    auth.set_session_cookie(request, response, token)
    return response


def _start_session(ctx: Ctx, method: str, username: str, password: str, api_key: str) -> str:
    """A new session with a new token: never one the browser brought (no session fixation)."""
    missing = _missing(method, username, password, api_key)
    if missing:
        raise ValidationFailed("fill in the fields to sign in", missing)
    with ctx.db.transaction() as session:
        if method == "key":
            return sessions.sign_in_with_key(session, api_key, ctx.clock())
        return sessions.sign_in_with_password(session, username, password, ctx.clock())


def _missing(method: str, username: str, password: str, api_key: str) -> list[FieldError]:
    wanted = {"api_key": api_key} if method == "key" else {"username": username, "password": password}
    return [FieldError(name, "required") for name, value in wanted.items() if not value.strip()]


@router.post("/sign-out")
def sign_out(request: Request, ctx: Ctx, viewer: Viewer, csrf: CsrfField = "") -> Response:
    auth.check_csrf(viewer, csrf)
    with ctx.db.transaction() as session:
        sessions.sign_out(session, request.cookies.get(auth.SESSION_COOKIE), ctx.clock())
    response = RedirectResponse("/sign-in", status_code=303)
    auth.clear_session_cookie(request, response)
    return response


@router.get("/home")
def home(request: Request, viewer: Viewer) -> Response:
    """The page of a role with no console pages yet (carriers): who is signed in, and how to sign out."""
    return render(request, "home.html")
