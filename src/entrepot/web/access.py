"""API keys and console users, for operators only (as POST/DELETE /api/v1/api-keys and `entrepot
users`): the keys by their prefix (never a secret), a new key shown once, a revocation after a
confirmation; the users, a new user, a new password (which ends the user's open sessions). Every form
carries its CSRF token and shows the service's field errors beside its fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from entrepot.identity import service, users
from entrepot.identity.schemas import ApiKeyIn
from entrepot.kernel.errors import DomainError
from entrepot.kernel.pagination import decode_cursor
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.platform.principal import ROLES
from entrepot.platform.schemas import IdPath, Text
from entrepot.web import auth, forms
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.orders import PAGE_SIZE, CursorQuery
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Field = Annotated[str, Form(max_length=400)]
Secret = Annotated[str, Form(max_length=1024)]
DoneQuery = Annotated[Text | None, Query(max_length=64, description="what was just done, to say so")]
OWNER_FIELDS = {"seller_id": "seller", "buyer_id": "buyer"}  # the services' names -> the forms'
KEY_FIELDS = ("role", "name", "seller", "buyer", "carrier")
USER_FIELDS = ("username", "role", "seller", "buyer", "carrier")


def _blank_to_none(value: str) -> str | None:
    return value.strip() or None


@router.get("/api-keys")
def list_keys(
    request: Request, ctx: Ctx, viewer: Viewer, cursor: CursorQuery = None, revoked: DoneQuery = None
) -> Response:
    viewer.principal.require("operator")
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        keys = service.list_api_keys(session, decode_cursor(cursor), limit)
    return render(
        request,
        "api_keys.html",
        keys=keys,
        revoked=revoked,
        next_cursor=next_cursor([k.row_id for k in keys], limit),
        first_page=cursor is not None,
    )


@router.get("/api-keys/new")
def new_key_form(request: Request, viewer: Viewer) -> Response:
    viewer.principal.require("operator")
    return _form(request, viewer, "api_key_new.html", dict.fromkeys(KEY_FIELDS, ""))


def _form(
    request: Request,
    viewer: Viewer,
    template: str,
    values: dict[str, str],
    status: int = 200,
    problem: FormProblem | None = None,
) -> Response:
    """A new key's or user's form, with the values as typed and the problem's errors beside them."""
    return render(
        request,
        template,
        status,
        csrf=viewer.csrf_token,
        values=values,
        roles=ROLES,
        problem=problem or FormProblem(),
    )


@router.post("/api-keys")
def create_key(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    role: Field = "",
    name: Field = "",
    seller: Field = "",
    buyer: Field = "",
    carrier: Field = "",
) -> Response:
    """Make the key (identity.service.create_api_key, as POST /api-keys) and show its secret this once:
    on the answer's page itself, never in an address a browser keeps."""
    auth.check_csrf(viewer, csrf)
    viewer.principal.require("operator")
    values = {"role": role, "name": name, "seller": seller, "buyer": buyer, "carrier": carrier}
    try:
        body = forms.parse(
            ApiKeyIn,
            "invalid key",
            {"role": role, "name": name.strip(), **{k: _blank_to_none(values[k]) for k in KEY_FIELDS[2:]}},
        )
        with ctx.db.transaction() as session:
            key, secret = service.create_api_key(
                session,
                body.role,
                body.name,
                ctx.clock(),
                body.seller,
                body.buyer,
                body.carrier,
                ctx.carriers,
            )
            shown = service.get_api_key(session, key.public_id)
    except DomainError as problem:
        found = FormProblem.of(problem, OWNER_FIELDS)
        return _form(request, viewer, "api_key_new.html", values, problem.status, found)
    return render(request, "api_key_made.html", 201, key=shown, secret=secret)


@router.get("/api-keys/{key_id}/revoke")
def revoke_form(request: Request, key_id: IdPath, ctx: Ctx, viewer: Viewer) -> Response:
    viewer.principal.require("operator")
    with ctx.db.transaction() as session:
        key = service.get_api_key(session, key_id)
    return render(request, "api_key_revoke.html", key=key, csrf=viewer.csrf_token)


@router.post("/api-keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: IdPath, ctx: Ctx, viewer: Viewer, csrf: CsrfField = "") -> Response:
    """As DELETE /api-keys/{id}: the key stops working at once, and so do the sessions signed in with it."""
    auth.check_csrf(viewer, csrf)
    viewer.principal.require("operator")
    with ctx.db.transaction() as session:
        service.revoke_api_key(session, key_id, ctx.clock())
    return RedirectResponse(f"/api-keys?revoked={key_id}", status_code=303)


@router.get("/users")
def list_users(
    request: Request, ctx: Ctx, viewer: Viewer, cursor: CursorQuery = None, done: DoneQuery = None
) -> Response:
    viewer.principal.require("operator")
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        found = users.list_users(session, decode_cursor(cursor), limit)
    return render(
        request,
        "users.html",
        users=found,
        done=done,
        next_cursor=next_cursor([u.row_id for u in found], limit),
        first_page=cursor is not None,
    )


@router.get("/users/new")
def new_user_form(request: Request, viewer: Viewer) -> Response:
    viewer.principal.require("operator")
    return _form(request, viewer, "user_new.html", dict.fromkeys(USER_FIELDS, ""))


@router.post("/users")
def create_user(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    username: Field = "",
    password: Secret = "",
    role: Field = "",
    seller: Field = "",
    buyer: Field = "",
    carrier: Field = "",
) -> Response:
    """As `entrepot users create`: the same rules for the name, the password and the owner a role needs."""
    auth.check_csrf(viewer, csrf)
    viewer.principal.require("operator")
    values = {"username": username, "role": role, "seller": seller, "buyer": buyer, "carrier": carrier}
    name = username.strip().lower()  # as the sign-in form takes it
    try:
        with ctx.db.transaction() as session:
            users.create_user(
                session,
                name,
                password,
                role,
                ctx.clock(),
                seller_public_id=_blank_to_none(seller),
                buyer_public_id=_blank_to_none(buyer),
                carrier=_blank_to_none(carrier),
                carriers=ctx.carriers,
            )
    except DomainError as problem:
        found = FormProblem.of(problem, OWNER_FIELDS)
        return _form(request, viewer, "user_new.html", values, problem.status, found)
    return RedirectResponse(f"/users?done=created-{name}", status_code=303)


@router.get("/users/{username}/password")
def password_form(request: Request, username: IdPath, ctx: Ctx, viewer: Viewer) -> Response:
    viewer.principal.require("operator")
    with ctx.db.transaction() as session:
        user = users.get_user(session, username)
    return _password_form(request, viewer, user.username)


def _password_form(
    request: Request, viewer: Viewer, username: str, status: int = 200, problem: FormProblem | None = None
) -> Response:
    return render(
        request,
        "user_password.html",
        status,
        username=username,
        csrf=viewer.csrf_token,
        problem=problem or FormProblem(),
    )


@router.post("/users/{username}/password")
def reset_password(
    request: Request, username: IdPath, ctx: Ctx, viewer: Viewer, csrf: CsrfField = "", password: Secret = ""
) -> Response:
    auth.check_csrf(viewer, csrf)
    viewer.principal.require("operator")
    try:
        with ctx.db.transaction() as session:
            users.set_password(session, username, password, ctx.clock())
    except DomainError as problem:
        if problem.status == 404:
            raise
        return _password_form(request, viewer, username, problem.status, FormProblem.of(problem))
    return RedirectResponse(f"/users?done=password-{username}", status_code=303)
