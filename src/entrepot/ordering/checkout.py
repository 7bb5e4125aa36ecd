"""Checkout: price a basket and quote its delivery options; the shapes an order is written in.

Pricing reads what a batch of baskets needs once for all of them (`price_baskets`), and a single quote
is a batch of one. Placing orders (claiming keys, reserving stock, writing orders) is `ordering.placing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import commission_for
from entrepot.catalog.service import PricedSku
from entrepot.inventory import service as inventory
from entrepot.inventory.domain import Candidate, rank_for_line
from entrepot.kernel.errors import DomainError, FieldError, Forbidden, InsufficientStock, ValidationFailed
from entrepot.kernel.fx import FxRates
from entrepot.kernel.money import Money
from entrepot.ordering.delivery import delivery_options, parcels_to_ship
from entrepot.ordering.domain import MarketTerms, PricedLine, Quote, QuotedLine, price_quote
from entrepot.ordering.models import IdempotencyKey, Order
from entrepot.ordering.payments import PaymentProvider, WebhookDelivery
from entrepot.ordering.queries import OrderDetail
from entrepot.ordering.shipping import DeliveryOption, ShippingRates, default_option
from entrepot.organization import service as organization
from entrepot.organization.service import MarketView
from entrepot.platform.principal import Principal


@dataclass(frozen=True)
class Limits:
    max_lines: int
    max_quantity: int
    reservation_ttl: dt.timedelta


@dataclass(frozen=True)
class Basket:
    market: str
    currency: str | None
    lines: list[tuple[str, int]]  # (sku public id, quantity)


@dataclass
class Priced:
    market: MarketView
    skus: dict[str, PricedSku]
    commissions: dict[str, Decimal]
    ranked: list[list[Candidate]]  # per line, the warehouses able to fulfil it, best first


def price_basket(session: Session, principal: Principal, basket: Basket, limits: Limits) -> Priced:
    """One basket priced as `price_baskets` prices a batch; its problem raised."""
    [priced] = price_baskets(session, [(principal, basket)], limits)
    if isinstance(priced, DomainError):
        raise priced
    return priced


def price_baskets(
    session: Session, asks: Sequence[tuple[Principal, Basket]], limits: Limits
) -> list[Priced | DomainError]:
    """Price every basket of a batch, each with its own answer: the priced basket (its lines' able
    warehouses ranked for its buyer) or the precise problem that refuses it. The batch's markets, prices,
    commissions and stock are read once for all its baskets (a statement per market, one for the stock),
    and each basket is checked in the order a single checkout checks it."""
    answers: list[Priced | DomainError | None] = [_precheck(p, b, limits) for p, b in asks]
    live = [i for i, answer in enumerate(answers) if answer is None]
    markets = _markets(session, {asks[i][1].market for i in live})
    skus: dict[int, dict[str, PricedSku]] = {}
    for market_id, wanted in _skus_wanted(asks, live, markets).items():
        skus[market_id] = catalog.priced_skus(session, market_id, sorted(wanted))
    answers = [
        answer if answer is not None else _check_market(markets[b.market], b, skus)
        for answer, (_, b) in zip(answers, asks, strict=True)
    ]
    live = [i for i, answer in enumerate(answers) if answer is None]
    commissions = {
        unit: catalog.commission_rates(session, unit)
        for unit in {_market(markets, asks[i][1]).business_unit_id for i in live}
    }
    sku_ids = {s.sku_id for i in live for s in _basket_skus(asks[i][1], skus, markets).values()}
    stock = inventory.candidates(session, sku_ids) if sku_ids else []
    own: dict[int, list[Candidate]] = {}
    for candidate in stock:
        own.setdefault(candidate.sku_id, []).append(candidate)
    for i in live:
        principal, basket = asks[i]
        market = _market(markets, basket)
        found = _basket_skus(basket, skus, markets)
        answers[i] = _ranked(principal, basket, market, found, commissions[market.business_unit_id], own)
    return [answer for answer in answers if answer is not None]


def _precheck(principal: Principal, basket: Basket, limits: Limits) -> DomainError | None:
    """What refuses a basket before anything is read: the caller's role and the basket's shape."""
    try:
        if principal.role != "buyer":
            raise Forbidden("only buyers check out")
        _check_shape(basket, limits)
    except DomainError as problem:
        return problem
    return None


def _markets(session: Session, codes: set[str]) -> dict[str, MarketView | DomainError]:
    found: dict[str, MarketView | DomainError] = {}
    for code in sorted(codes):
        try:
            found[code] = organization.get_market(session, code)
        except DomainError as problem:  # no such market: the baskets that name it are refused
            found[code] = problem
    return found


def _market(markets: dict[str, MarketView | DomainError], basket: Basket) -> MarketView:
    market = markets[basket.market]
    assert isinstance(market, MarketView), "a basket in an unknown market was refused before"
    return market


def _skus_wanted(
    asks: Sequence[tuple[Principal, Basket]], live: list[int], markets: dict[str, MarketView | DomainError]
) -> dict[int, set[str]]:
    """Per market, the SKUs the batch's baskets there ask for: read in one statement per market."""
    wanted: dict[int, set[str]] = {}
    for i in live:
        basket = asks[i][1]
        market = markets[basket.market]
        if isinstance(market, MarketView) and _currency_problem(market, basket) is None:
            wanted.setdefault(market.id, set()).update(sku for sku, _ in basket.lines)
    return wanted


def _basket_skus(
    basket: Basket, skus: dict[int, dict[str, PricedSku]], markets: dict[str, MarketView | DomainError]
) -> dict[str, PricedSku]:
    in_market = skus[_market(markets, basket).id]
    return {sku: in_market[sku] for sku, _ in basket.lines}


def _currency_problem(market: MarketView, basket: Basket) -> DomainError | None:
    if basket.currency is not None and basket.currency != market.currency:
        return ValidationFailed(
            f"{market.code} sells in {market.currency}, not {basket.currency}",
            [FieldError("currency", f"must be {market.currency}")],
        )
    return None


def _check_market(
    market: MarketView | DomainError, basket: Basket, skus: dict[int, dict[str, PricedSku]]
) -> DomainError | None:
    """The market, its currency, and the basket's SKUs in it (one seller's)."""
    if isinstance(market, DomainError):
        return market
    problem = _currency_problem(market, basket)
    if problem is not None:
        return problem
    try:
        _check_skus(basket, skus.get(market.id, {}), market)
    except DomainError as refused:
        return refused
    return None


def _ranked(
    principal: Principal,
    basket: Basket,
    market: MarketView,
    skus: dict[str, PricedSku],
    commissions: dict[str, Decimal],
    stock: dict[int, list[Candidate]],
) -> Priced | DomainError:
    """The basket priced, each line with the warehouses able to serve it for this buyer, best first."""
    ranked = []
    for index, (sku, quantity) in enumerate(basket.lines):
        own = stock.get(skus[sku].sku_id, [])
        able = rank_for_line(own, quantity, market.country, principal.delivery_point)
        if not able:
            return InsufficientStock(
                f"line {index}: no warehouse holds {quantity} of {sku}", sku=sku, line=index
            )
        ranked.append(able)
    return Priced(market, skus, commissions, ranked)


def _check_shape(basket: Basket, limits: Limits) -> None:
    errors = []
    if not basket.lines:
        errors.append(FieldError("lines", "an order has at least one line"))
    if len(basket.lines) > limits.max_lines:
        errors.append(FieldError("lines", f"at most {limits.max_lines} lines"))
    seen: set[str] = set()
    for index, (sku, quantity) in enumerate(basket.lines):
        if not 1 <= quantity <= limits.max_quantity:
            errors.append(FieldError(f"lines[{index}].quantity", f"must be 1 to {limits.max_quantity}"))
        if sku in seen:
            errors.append(FieldError(f"lines[{index}].sku", "repeats an earlier line; add up the quantity"))
        seen.add(sku)
    if errors:
        raise ValidationFailed("invalid basket", errors)


def _check_skus(basket: Basket, skus: dict[str, PricedSku], market: MarketView) -> None:
    errors = [
        FieldError(f"lines[{i}].sku", f"no SKU {sku} is sold in {market.code}")
        for i, (sku, _) in enumerate(basket.lines)
        if sku not in skus
    ]
    if errors:
        raise ValidationFailed("unknown SKUs", errors)
    if len({skus[sku].seller_id for sku, _ in basket.lines}) > 1:
        raise ValidationFailed(
            "an order holds one seller's SKUs; place one order per seller",
            [FieldError("lines", "SKUs of several sellers")],
        )


def terms_of(market: MarketView) -> MarketTerms:
    return MarketTerms(
        market.country,
        market.currency,
        Decimal(market.tax_rate),
        market.prices_include_tax,
        market.shipping_domestic_minor,
        market.shipping_cross_border_minor,
    )


def quote_with(
    priced: Priced, basket: Basket, chosen: list[Candidate], delivery: DeliveryOption | None = None
) -> Quote:
    lines = [
        PricedLine(
            sku,
            quantity,
            priced.skus[sku].unit_price_minor,
            commission_for(priced.commissions, priced.skus[sku].category),
            candidate.warehouse_public_id,
            candidate.country,
        )
        for (sku, quantity), candidate in zip(basket.lines, chosen, strict=True)
    ]
    fees = None if delivery is None else delivery.parcel_fees_minor
    return price_quote(terms_of(priced.market), lines, fees)


def options_for(
    session: Session,
    principal: Principal,
    priced: Priced,
    basket: Basket,
    chosen: list[Candidate],
    rates: ShippingRates,
    now: dt.datetime,
) -> list[DeliveryOption]:
    parcels = parcels_to_ship(terms_of(priced.market), priced.skus, basket.lines, chosen)
    return delivery_options(session, rates, priced.market, principal, parcels, now)


@dataclass(frozen=True)
class Quoted:
    market: MarketView
    quote: Quote  # priced with the default delivery option
    options: list[DeliveryOption]


def quote(
    session: Session,
    principal: Principal,
    basket: Basket,
    limits: Limits,
    rates: ShippingRates,
    now: dt.datetime,
) -> Quoted:
    priced, chosen, options = _offered(session, principal, basket, limits, rates, now)
    return Quoted(priced.market, quote_with(priced, basket, chosen, default_option(options)), options)


def quote_each_option(
    session: Session,
    principal: Principal,
    basket: Basket,
    limits: Limits,
    rates: ShippingRates,
    now: dt.datetime,
) -> list[tuple[DeliveryOption, Quote]]:
    """The basket priced with each of its delivery options, as `quote` prices it with the default one:
    for a page that shows what each choice would cost in all."""
    priced, chosen, options = _offered(session, principal, basket, limits, rates, now)
    return [(option, quote_with(priced, basket, chosen, option)) for option in options]


def _offered(
    session: Session,
    principal: Principal,
    basket: Basket,
    limits: Limits,
    rates: ShippingRates,
    now: dt.datetime,
) -> tuple[Priced, list[Candidate], list[DeliveryOption]]:
    """The priced basket, the warehouse a quote takes each line from (the best able one), and the
    delivery options of the parcels that makes."""
    priced = price_basket(session, principal, basket, limits)
    chosen = [able[0] for able in priced.ranked]
    return priced, chosen, options_for(session, principal, priced, basket, chosen, rates, now)


@dataclass(frozen=True)
class PayNow:
    """Start paying in the same transaction as the order (one round trip for the buyer)."""

    method: str
    provider: PaymentProvider


@dataclass(frozen=True)
class Placed:
    detail: OrderDetail
    replayed: bool
    delivery: WebhookDelivery | None = None

    @property
    def order(self) -> Order:
        return self.detail.order


def earlier_claim(session: Session, principal: Principal, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.principal == principal.subject, IdempotencyKey.key == key)
    )


@dataclass(frozen=True)
class Promise:
    """The delivery option an order was placed with, and the objective the buyer asked it for."""

    option: DeliveryOption
    objective: str


@dataclass(frozen=True)
class OrderHead:
    """Who and when of an order row, apart from its amounts."""

    public_id: str
    buyer_id: int | None
    seller_id: int
    market_id: int
    status: str
    order_date: dt.date
    created_at: dt.datetime


def order_row(
    head: OrderHead,
    quote: Quote,
    fx: FxRates,
    promise: Promise | None,
    reservation_expires_at: dt.datetime,
    now: dt.datetime,
) -> dict[str, Any]:
    """The `orders` row of a priced order: its amounts, also in USD and CNY at the rates of its date
    (provisional when the newest rate held is older than the staleness limit), and the delivery it was
    promised (none for an order that never chose one)."""
    day = head.order_date
    option = promise.option if promise is not None else None
    return {
        "public_id": head.public_id,
        "buyer_id": head.buyer_id,
        "seller_id": head.seller_id,
        "market_id": head.market_id,
        "status": head.status,
        "currency": quote.currency,
        "subtotal_minor": quote.subtotal.minor,
        "tax_minor": quote.tax.minor,
        "shipping_minor": quote.shipping.minor,
        "total_minor": quote.total.minor,
        "refunded_minor": 0,
        "commission_minor": quote.commission.minor,
        **stated_in_usd_and_cny(fx, quote.subtotal, quote.total, day),
        "order_date": day,
        "cross_border": quote.cross_border,
        "delivery_service": option.service if option else None,
        "delivery_objective": promise.objective if promise else None,
        "delivery_promised_on": option.promised_on if option else None,
        "delivery_source": option.source if option else None,
        "cancel_reason": None,
        "reservation_expires_at": reservation_expires_at,
        "created_at": head.created_at,
        "updated_at": now,
    }


def stated_in_usd_and_cny(fx: FxRates, subtotal: Money, total: Money, day: dt.date) -> dict[str, Any]:
    """An order's subtotal and total in USD and CNY at the rates of its date: the `orders` columns that
    checkout writes and a re-statement rewrites."""
    usd_sub, usd_total = (fx.convert(m, "USD", day) for m in (subtotal, total))
    cny_sub, cny_total = (fx.convert(m, "CNY", day) for m in (subtotal, total))
    return {
        "subtotal_usd_minor": usd_sub.amount.minor,
        "total_usd_minor": usd_total.amount.minor,
        "subtotal_cny_minor": cny_sub.amount.minor,
        "total_cny_minor": cny_total.amount.minor,
        "usd_rate": usd_total.rate,
        "cny_rate": cny_total.rate,
        "fx_rate_date": min(usd_total.as_of, cny_total.as_of),
        "fx_provisional": usd_total.provisional or cny_total.provisional,
    }


def line_row(
    order_id: int, sku_id: int, warehouse_id: int, reservation_id: int, quoted: QuotedLine
) -> dict[str, Any]:
    """The `order_lines` row of a quoted line, from the warehouse and reservation it was taken from."""
    return {
        "order_id": order_id,
        "sku_id": sku_id,
        "warehouse_id": warehouse_id,
        "reservation_id": reservation_id,
        "quantity": quoted.line.quantity,
        "unit_price_minor": quoted.line.unit_price_minor,
        "line_total_minor": quoted.line_total.minor,
        "tax_minor": quoted.tax.minor,
        "commission_rate": quoted.line.commission_rate,
        "commission_minor": quoted.commission.minor,
        "cross_border": quoted.cross_border,
    }
