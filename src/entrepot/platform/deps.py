"""What every router needs: the application context, the caller's principal, the clock, paging."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from entrepot.identity import service as identity
from entrepot.kernel.clock import Clock, system_clock
from entrepot.kernel.errors import Forbidden
from entrepot.kernel.fx import FxRates
from entrepot.kernel.pagination import decode_cursor, encode_cursor
from entrepot.ordering.checkout import Limits
from entrepot.ordering.payments import PaymentProvider
from entrepot.ordering.shipping import FlatZoneRates, ShippingRates
from entrepot.platform.db import Database
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import Text
from entrepot.platform.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    fx: FxRates
    payments: PaymentProvider
    limits: Limits
    clock: Clock = system_clock
    shipping: ShippingRates = field(default_factory=FlatZoneRates)  # delivery options at checkout
    stale_currencies: list[str] = field(default_factory=list)  # as of the last FX refresh, for /healthz


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
    cached = identity.cached_principal(raw, cache)
    if cached is not None:
        return cached
    return await run_in_threadpool(_authenticate, ctx, raw, cache)


def _authenticate(ctx: AppContext, raw: str | None, cache: float) -> Principal:
    with ctx.db.transaction() as session:
        return identity.authenticate(session, raw, cache)


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
