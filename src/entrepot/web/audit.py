"""The audit trail for operators (as GET /api/v1/audit): who changed what and when, with the values before
and after, newest first, filtered by key, role, action (or a family: `price.`), subject and days; a bad
filter is shown beside the filters and lists nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.pagination import decode_cursor
from entrepot.platform.audit import AuditFilter, entries_page
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.web.auth import Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.orders import PAGE_SIZE, CursorQuery
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Filter = Annotated[str, Query(max_length=128)]
ROLES = ("operator", "seller", "buyer", "carrier", "system")
FIELDS = ("actor", "role", "action", "subject", "since", "until")


def _day(name: str, value: str, errors: list[FieldError]) -> dt.datetime | None:
    """A day (YYYY-MM-DD) as its first instant in UTC, or a field error."""
    if not value.strip():
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time(), dt.UTC)
    except ValueError:
        errors.append(FieldError(name, "a day as YYYY-MM-DD"))
        return None


def audit_filter(values: dict[str, str]) -> AuditFilter:
    """The filters as typed, checked as the API checks them; `until` is a day included whole."""
    errors: list[FieldError] = []
    if values["role"] and values["role"] not in ROLES:
        errors.append(FieldError("role", f"one of {', '.join(ROLES)}"))
    since, until = _day("since", values["since"], errors), _day("until", values["until"], errors)
    until = until + dt.timedelta(days=1) if until else None
    if since and until and since >= until:
        errors.append(FieldError("until", "not before since"))
    if errors:
        raise ValidationFailed("the filters are not valid", errors)
    text = {k: values[k].strip() or None for k in ("actor", "role", "action", "subject")}
    return AuditFilter(text["actor"], text["role"], None, text["action"], text["subject"], since, until)


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    cursor: CursorQuery = None,
    actor: Filter = "",
    role: Filter = "",
    action: Filter = "",
    subject: Filter = "",
    since: Filter = "",
    until: Filter = "",
) -> Response:
    viewer.principal.require("operator")
    values = {
        "actor": actor,
        "role": role,
        "action": action,
        "subject": subject,
        "since": since,
        "until": until,
    }
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    try:
        where = audit_filter(values)
    except ValidationFailed as refused:  # nothing listed: the problem beside the filters
        problem = FormProblem.of(refused)
        return render(request, "audit.html", 422, values=values, roles=ROLES, problem=problem, entries=[])
    with ctx.db.transaction() as session:
        entries = entries_page(session, where, decode_cursor(cursor), limit)
    return render(
        request,
        "audit.html",
        values=values,
        roles=ROLES,
        problem=FormProblem(),
        entries=entries,
        next_cursor=next_cursor([e.id for e in entries], limit),
        first_page=cursor is not None,
    )
