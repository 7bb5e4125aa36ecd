"""What every router needs: the application context, the caller's principal, the clock, paging, and
the Idempotency-Key header's check.

The context holds only what every context shares (settings, database, FX rates, clock); what one
context alone needs is that context's own (e.g. `entrepot.ordering.context.OrderingContext` adds the
payment provider, checkout's limits and the shipping rates). Everything is built once, in
`entrepot.bootstrap`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from entrepot.kernel.clock import Clock, system_clock
from entrepot.kernel.errors import FieldError, Forbidden, ValidationFailed
from entrepot.kernel.fx import FxRates
from entrepot.kernel.pagination import decode_cursor, encode_cursor
from entrepot.platform import audit, ratelimit
from entrepot.platform.db import Database
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import Text
from entrepot.platform.settings import Settings


class ApiKeys(Protocol):
    """Whose API key this is: the identity context answers (`entrepot.identity.service`)."""

    def cached_principal(self, raw_key: str | None, cache_seconds: float) -> Principal | None:
        """The key's principal if this process checked it in the last `cache_seconds`, else None."""
        ...

    def authenticate(self, session: Session, raw_key: str | None, cache_seconds: float) -> Principal:
        """The key's principal, checked against the store; raises Unauthenticated."""
        ...


@dataclass
class AppContext:
    settings: Settings
    db: Database
    fx: FxRates
    keys: ApiKeys
    clock: Clock = system_clock
    stale_currencies: list[str] = field(default_factory=list)  # as of the last FX refresh, for /healthz
    # the carriers a carrier key may be made for: logistics answers (the lanes' carriers); none known
    # until the composition root says so
    carriers: Callable[[Session], Collection[str]] = field(default=lambda _: ())
    # what a worker makes on first use and keeps for this context (a flash sale's runtime, the live
    # feed): they hold this context's database and clock, so a new context starts with none
    runtimes: dict[str, Any] = field(default_factory=dict)


# The light dependencies are `async def`: FastAPI would run a plain `def` one in the thread pool,
# a thread hop per dependency per request for what is a dictionary lookup.


async def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(context)]


def _raw_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_api_key


async def authenticated(
    ctx: Ctx,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> Principal:
    raw = _raw_key(authorization, x_api_key)
    cache = ctx.settings.api_key_cache_seconds
    principal = ctx.keys.cached_principal(raw, cache)
    if principal is None:
        principal = await run_in_threadpool(_authenticate, ctx, raw, cache)
    limits = ratelimit.of_context(ctx.settings, ctx.runtimes)
    if limits is not None:  # a key past its role's limit: 429 with Retry-After (platform.ratelimit)
        await limits.check_key(principal)
    audit.acting_as(principal, ctx.clock)  # whom the request's changes are recorded as (platform.audit)
    return principal


def _authenticate(ctx: AppContext, raw: str | None, cache: float) -> Principal:
    with ctx.db.transaction() as session:
        return ctx.keys.authenticate(session, raw, cache)


Caller = Annotated[Principal, Depends(authenticated)]


async def operator(principal: Caller) -> Principal:
    if not principal.is_operator:
        raise Forbidden("this needs an operator key")
    return principal


Operator = Annotated[Principal, Depends(operator)]


async def buyer(principal: Caller) -> Principal:
    if principal.role != "buyer":
        raise Forbidden("this needs a buyer key")
    return principal


BuyerCaller = Annotated[Principal, Depends(buyer)]


@dataclass(frozen=True)
class Page:
    after: int | None
    limit: int


async def page(
    ctx: Ctx,
    cursor: Annotated[
        Text | None, Query(max_length=64, description="`next_cursor` from the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page:
    return Page(decode_cursor(cursor), min(limit, ctx.settings.page_size_max))


Paging = Annotated[Page, Depends(page)]


def next_cursor(ids: list[int], limit: int) -> str | None:
    return encode_cursor(ids[-1]) if len(ids) == limit else None


# The Idempotency-Key of a request that must not be done twice (checkout, flash orders): 8 to 255
# printable ASCII characters, stated once for the document and for the fast path's own check.
IDEMPOTENCY_KEY_PATTERN = r"^[ -~]{8,255}$"
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 8,
    "maxLength": 255,
    "pattern": IDEMPOTENCY_KEY_PATTERN,
    "examples": ["order-2025-11-11-0001"],
}
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="a unique key per attempt: a retry with the same key and body is answered as the first",
        examples=["order-2025-11-11-0001"],
    ),
]
# Where a retry without a key is acceptable (an on-demand order): the same checks, the header optional.
# Typed `str` though it defaults to None: `str | None` would document a null branch, which clients (and
# the schema fuzz) send as an empty header, below the 8 characters the key needs.
OptionalIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="optional; a unique key per attempt: a retry with the same key and body is answered with"
        " the first request's result, another body with the same key is refused",
        examples=["lunch-2025-11-11-0001"],
    ),
]
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def check_idempotency_key(key: str | None) -> str:
    """The Idempotency-Key header, checked as `IdempotencyKey` is, where no router reads it (the flash
    fast path)."""
    if key is None:
        raise ValidationFailed(
            "the Idempotency-Key header is required", [FieldError("Idempotency-Key", "missing")]
        )
    if not _KEY.match(key):
        raise ValidationFailed(
            "invalid Idempotency-Key", [FieldError("Idempotency-Key", "8 to 255 printable characters")]
        )
    return key
