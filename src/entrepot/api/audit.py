"""The audit trail, readable by operators: who changed what and when, newest first (platform.audit)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.platform.audit import AuditEntry, AuditFilter, entries_page
from entrepot.platform.deps import Ctx, Operator, Paging, next_cursor
from entrepot.platform.schemas import SUPPORTED_YEARS, CodeQuery, IdQuery, ListPage, supported_moment

router = APIRouter(tags=["audit"])

Role = Literal["operator", "seller", "buyer", "carrier", "system"]
MomentQuery = Annotated[
    Annotated[AwareDatetime, AfterValidator(supported_moment)] | None,
    Query(json_schema_extra=SUPPORTED_YEARS, description="ISO 8601 with a time zone"),
]


class ActorOut(BaseModel):
    role: Role
    key: str = Field(description="the API key's id, or `system` for a change made by no request")
    seller: str | None


class AuditEntryOut(BaseModel):
    at: dt.datetime
    actor: ActorOut
    action: str = Field(examples=["price.set"])
    subject: str = Field(description="what was changed: its id, with the market or warehouse if any")
    before: dict[str, Any] | None = Field(description="null when the change created it")
    after: dict[str, Any] | None = Field(description="null when the change removed it")
    request_id: str | None


def _out(e: AuditEntry) -> AuditEntryOut:
    actor = ActorOut(role=e.actor_role, key=e.actor_key, seller=e.actor_seller)  # type: ignore[arg-type]
    return AuditEntryOut(
        at=e.at,
        actor=actor,
        action=e.action,
        subject=e.subject,
        before=e.before,
        after=e.after,
        request_id=e.request_id,
    )


@router.get("/audit", response_model=ListPage[AuditEntryOut])
def list_audit(
    ctx: Ctx,
    _: Operator,
    paging: Paging,
    actor: IdQuery = None,
    role: Role | None = None,
    seller: IdQuery = None,
    action: Annotated[
        CodeQuery, Query(description="exact (`price.set`) or a family ending in a dot (`price.`)")
    ] = None,
    subject: Annotated[str | None, Query(max_length=128, pattern=r"^[ -~]+$")] = None,
    since: MomentQuery = None,
    until: MomentQuery = None,
) -> ListPage[AuditEntryOut]:
    """Changes made by operators and sellers, newest first; follow `next_cursor` for older ones."""
    if since is not None and until is not None and since >= until:
        raise ValidationFailed("since must come before until", [FieldError("until", "not after since")])
    where = AuditFilter(actor, role, seller, action, subject, since, until)
    with ctx.db.transaction() as session:
        entries = entries_page(session, where, paging.after, paging.limit)
        items = [_out(e) for e in entries]
        return ListPage(items=items, next_cursor=next_cursor([e.id for e in entries], paging.limit))
