"""Routes of the organisation: units, moves, the tree on a date, markets and FX."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from entrepot.kernel.ecb import parse_ecb
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.money import Money, validate_currency
from entrepot.organization import rates, service
from entrepot.organization.domain import MarketSpec
from entrepot.organization.models import Market, OrgUnit
from entrepot.organization.schemas import (
    CloseIn,
    ConversionOut,
    FreshnessOut,
    ManualRateIn,
    ManualRateOut,
    MarketIn,
    MarketOut,
    MembershipOut,
    MoveCorrectionIn,
    MoveIn,
    MoveRevisionIn,
    MoveRevisionOut,
    RatesLoadedOut,
    TreeOut,
    UnitIn,
    UnitOut,
)
from entrepot.platform.deps import AppContext, Caller, Ctx, Operator, Paging, next_cursor
from entrepot.platform.schemas import CURRENCY_CODE, CodePath, CodeQuery, Day, ListPage, Text

router = APIRouter(tags=["organisation"])


def unit_out(unit: OrgUnit) -> UnitOut:
    return UnitOut(
        id=unit.public_id, kind=unit.kind, code=unit.code, name=unit.name, closed_on=unit.closed_on
    )


@router.post("/org/units", status_code=201, response_model=UnitOut)
def create_unit(body: UnitIn, ctx: Ctx, _: Operator) -> UnitOut:
    with ctx.db.transaction() as session:
        unit = service.create_unit(
            session, body.kind, body.code, body.name, body.parent, body.valid_from, ctx.clock()
        )
        return unit_out(unit)


@router.get("/org/units", response_model=ListPage[UnitOut])
def list_units(ctx: Ctx, _: Caller, paging: Paging, kind: CodeQuery = None) -> ListPage[UnitOut]:
    with ctx.db.transaction() as session:
        units = service.list_units(session, kind, paging.after, paging.limit)
        return ListPage(
            items=[unit_out(u) for u in units], next_cursor=next_cursor([u.id for u in units], paging.limit)
        )


@router.post("/org/units/{code}/moves", response_model=UnitOut)
def move_unit(code: CodePath, body: MoveIn, ctx: Ctx, _: Operator) -> UnitOut:
    """Move a unit under another parent from a date on; its earlier membership is kept as history."""
    with ctx.db.transaction() as session:
        return unit_out(service.move_unit(session, code, body.parent, body.effective_from, ctx.clock()))


@router.post("/org/units/{code}/close", response_model=UnitOut)
def close_unit(code: CodePath, body: CloseIn, ctx: Ctx, _: Operator) -> UnitOut:
    """Close a unit a reorganisation emptied, on its day: shown before it, gone from the tree after."""
    with ctx.db.transaction() as session:
        return unit_out(service.close_unit(session, code, body.on, ctx.clock()))


@router.put("/org/units/{code}/moves/planned", response_model=UnitOut)
def correct_move(code: CodePath, body: MoveCorrectionIn, ctx: Ctx, _: Operator) -> UnitOut:
    """Correct the unit's move that has not taken effect yet (another parent or day); audited."""
    with ctx.db.transaction() as session:
        unit = service.correct_move(session, code, body.parent, body.effective_from, body.reason, ctx.clock())
        return unit_out(unit)


@router.post("/org/units/{code}/moves/planned/withdraw", response_model=UnitOut)
def withdraw_move(code: CodePath, body: MoveRevisionIn, ctx: Ctx, _: Operator) -> UnitOut:
    """Withdraw the unit's move that has not taken effect yet; its membership runs on; audited."""
    with ctx.db.transaction() as session:
        return unit_out(service.withdraw_move(session, code, body.reason, ctx.clock()))


@router.get("/org/units/{code}/move-revisions", response_model=list[MoveRevisionOut])
def move_revisions(code: CodePath, ctx: Ctx, _: Operator) -> list[MoveRevisionOut]:
    """The audit records of the unit's planned moves corrected or withdrawn, oldest first."""
    with ctx.db.transaction() as session:
        return [
            MoveRevisionOut.model_validate(r, from_attributes=True)
            for r in service.move_revisions(session, code)
        ]


@router.get("/org/units/{code}/history", response_model=list[MembershipOut])
def unit_history(code: CodePath, ctx: Ctx, _: Caller) -> list[MembershipOut]:
    with ctx.db.transaction() as session:
        unit = service.get_unit(session, code)
        return [
            MembershipOut(parent=m.parent_code, valid_from=m.valid_from, valid_to=m.valid_to)
            for m in service.memberships(session, unit)
        ]


@router.get("/org/tree", response_model=list[TreeOut])
def tree(
    ctx: Ctx, _: Caller, on: Annotated[Day | None, Query(description="default: today")] = None
) -> list[TreeOut]:
    """The organisation as it stood on a date."""
    with ctx.db.transaction() as session:
        nodes = service.tree_on(session, on or ctx.clock().date())
        return [TreeOut.model_validate(n, from_attributes=True) for n in nodes]


def market_out(market: Market | service.MarketView, business_unit: str) -> MarketOut:
    return MarketOut(
        id=market.public_id,
        code=market.code,
        business_unit=business_unit,
        country=market.country,
        currency=market.currency,
        locale=market.locale,
        time_zone=market.time_zone,
        tax_rate=Decimal(market.tax_rate).normalize(),
        prices_include_tax=market.prices_include_tax,
        shipping_domestic_minor=market.shipping_domestic_minor,
        shipping_cross_border_minor=market.shipping_cross_border_minor,
    )


@router.post("/markets", status_code=201, response_model=MarketOut)
def create_market(body: MarketIn, ctx: Ctx, _: Operator) -> MarketOut:
    spec = MarketSpec(body.country.upper(), body.currency, body.locale, body.time_zone, body.tax_rate)
    with ctx.db.transaction() as session:
        market = service.create_market(
            session,
            body.business_unit,
            spec,
            body.prices_include_tax,
            body.shipping_domestic_minor,
            body.shipping_cross_border_minor,
            ctx.clock(),
        )
        return market_out(market, body.business_unit)


@router.get("/markets", response_model=ListPage[MarketOut])
def list_markets(ctx: Ctx, _: Caller, paging: Paging, country: CodeQuery = None) -> ListPage[MarketOut]:
    with ctx.db.transaction() as session:
        rows = service.list_markets(session, country.upper() if country else None, paging.after, paging.limit)
        return ListPage(
            items=[market_out(m, bu) for m, bu in rows],
            next_cursor=next_cursor([m.id for m, _ in rows], paging.limit),
        )


@router.get("/markets/{code}", response_model=MarketOut)
def get_market(code: CodePath, ctx: Ctx, _: Caller) -> MarketOut:
    with ctx.db.transaction() as session:
        market = service.get_market(session, code)
        return market_out(market, service.market_business_unit_code(session, market))


@router.get("/fx/manual-rates", response_model=ListPage[ManualRateOut])
def list_manual_rates(
    ctx: Ctx,
    _: Operator,
    paging: Paging,
    currency: Annotated[
        Text | None,
        Query(min_length=3, max_length=3, description="one currency", json_schema_extra=CURRENCY_CODE),
    ] = None,
) -> ListPage[ManualRateOut]:
    """The rates PUT /fx/manual-rates set, in the shape it takes them: every currency's, or one's."""
    if currency is not None:
        validate_currency(currency)  # as PUT takes it: VND, not vnd
    with ctx.db.transaction() as session:
        rows = service.list_manual_rates(session, currency, paging.after, paging.limit)
        return ListPage(
            items=[
                ManualRateOut(currency=r.currency, on=r.on, per_usd=_as_given(r.per_usd), note=r.note)
                for r in rows
            ],
            next_cursor=next_cursor([r.id for r in rows], paging.limit),
        )


def _as_given(stored: Decimal) -> Decimal:
    """26300.00000000 as stored (8 places) back to 26300, as it was put."""
    return Decimal(format(stored.normalize(), "f"))


@router.put("/fx/manual-rates", status_code=204)
def set_manual_rate(body: ManualRateIn, ctx: Ctx, _: Operator) -> None:
    """A rate for a currency the ECB does not publish (VND), in units per US dollar. Orders on stale
    rates for its day are re-stated in the background (event `fx.rates_loaded`)."""
    with ctx.db.transaction() as session:
        service.set_manual_rate(session, body.currency, body.on, body.per_usd, body.note)
        rates.announce(session, [body.currency], body.on, ctx.clock())


RATE_FILES = {"text/csv": {"schema": {"type": "string"}}, "application/xml": {"schema": {"type": "string"}}}


@router.post(
    "/fx/rates",
    response_model=RatesLoadedOut,
    openapi_extra={"requestBody": {"content": RATE_FILES, "required": True}},
)
async def load_rates(
    request: Request,
    ctx: Ctx,
    _: Operator,
    kind: Annotated[
        Literal["ecb", "operator"],
        Query(description="ecb: the ECB's CSV or XML (zipped or not); operator: currency,on,per_usd[,note]"),
    ] = "ecb",
) -> RatesLoadedOut:
    """Load exchange rates without a release. Every API process adds them to its rates within
    ENTREPOT_FX_REFRESH_SECONDS; orders stated on stale rates are re-stated in the background."""
    raw = await request.body()
    loaded = await run_in_threadpool(_load_rates, ctx, raw, kind)
    return RatesLoadedOut(rates=loaded.rates, stored=loaded.stored, newest=loaded.newest)


def _load_rates(ctx: AppContext, raw: bytes, kind: str) -> rates.Loaded:
    with ctx.db.transaction() as session:
        rates.sync_book(session, ctx.fx.book)
        if kind == "operator":
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationFailed("the file must be UTF-8", [FieldError("file", "not UTF-8")]) from None
            return rates.load_operator_csv(session, text, ctx.clock())
        return rates.load_ecb_rates(session, ctx.fx.book, parse_ecb(raw, "body"), "api upload", ctx.clock())


@router.get("/fx/status", response_model=list[FreshnessOut])
def fx_status(ctx: Ctx, _: Operator) -> list[FreshnessOut]:
    """How old the newest rate is for every currency the markets sell in (and USD and CNY). A stale
    currency still sells; its orders' USD and CNY amounts are provisional until rates are loaded."""
    with ctx.db.transaction() as session:
        rates.sync_book(session, ctx.fx.book)
        status = rates.fx_status(session, ctx.fx, ctx.clock().date())
    return [FreshnessOut(**asdict(f)) for f in status]


@router.get("/fx/convert", response_model=ConversionOut)
def convert(
    ctx: Ctx,
    _: Caller,
    amount_minor: Annotated[int, Query(ge=0, le=10**15)],
    source: Annotated[Text, Query(alias="from", min_length=3, max_length=3, json_schema_extra=CURRENCY_CODE)],
    to: Annotated[Text, Query(min_length=3, max_length=3, json_schema_extra=CURRENCY_CODE)],
    on: Day,
) -> ConversionOut:
    """Convert at the ECB reference rate of a day (the latest earlier rate on days without one)."""
    validate_currency(to)
    with ctx.db.transaction() as session:
        fx = service.rates_for(session, service.rates_for(session, ctx.fx, source, on), to, on)
    result = fx.convert(Money(amount_minor, validate_currency(source)), to, on)
    return ConversionOut(
        amount_minor=result.amount.minor,
        currency=to,
        rate=result.rate,
        rate_date=result.as_of,
        source=result.source,
        provisional=result.provisional,
    )
