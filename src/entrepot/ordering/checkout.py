"""Checkout: quote a basket and place an order, reserving stock without ever overselling.

Placing an order is one transaction: claim the idempotency key, reserve each line with a conditional
UPDATE (falling back to the next-best warehouse when a faster buyer took the stock), and write the order,
its lines, reservations, an `order.placed` event and, when the buyer pays at once, the pending payment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import commission_for
from entrepot.catalog.service import PricedSku
from entrepot.inventory import service as inventory
from entrepot.inventory.domain import Candidate, rank_for_line
from entrepot.kernel.errors import FieldError, Forbidden, InsufficientStock, ValidationFailed
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.fx import FxRates
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import Money
from entrepot.ordering import service as ordering
from entrepot.ordering.delivery import delivery_options, parcels_to_ship
from entrepot.ordering.domain import (
    IdempotencyKeyReused,
    MarketTerms,
    PricedLine,
    Quote,
    QuotedLine,
    price_quote,
)
from entrepot.ordering.models import IdempotencyKey, Order, OrderLine, Payment
from entrepot.ordering.payments import PaymentProvider, WebhookDelivery
from entrepot.ordering.queries import OrderDetail, order_by_ref, order_detail
from entrepot.ordering.shipping import (
    OPTION_IDS,
    DeliveryOption,
    FlatZoneRates,
    ShippingRates,
    UnknownDeliveryOption,
    default_option,
    pick,
)
from entrepot.organization import service as organization
from entrepot.organization.domain import local_date
from entrepot.organization.service import MarketView
from entrepot.platform.db import dialect_of, insert_or_skip, record_event
from entrepot.platform.principal import Principal

# Statements of the hot path, built once (see inventory.service for why).
_KEYS = cast(Table, IdempotencyKey.__table__)
_ORDERS = cast(Table, Order.__table__)
_CLAIM_KEY = insert_or_skip(_KEYS, ["principal", "key"], [_KEYS.c.id])
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_LINES = insert(cast(Table, OrderLine.__table__))


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
    if principal.role != "buyer":
        raise Forbidden("only buyers check out")
    _check_shape(basket, limits)
    market = organization.get_market(session, basket.market)
    if basket.currency is not None and basket.currency != market.currency:
        raise ValidationFailed(
            f"{market.code} sells in {market.currency}, not {basket.currency}",
            [FieldError("currency", f"must be {market.currency}")],
        )
    skus = catalog.priced_skus(session, market.id, [sku for sku, _ in basket.lines])
    _check_skus(basket, skus, market)
    commissions = catalog.commission_rates(session, market.business_unit_id)
    stock = inventory.candidates(session, {s.sku_id for s in skus.values()})
    ranked = []
    for index, (sku, quantity) in enumerate(basket.lines):
        own = [c for c in stock if c.sku_id == skus[sku].sku_id]
        able = rank_for_line(own, quantity, market.country, principal.delivery_point)
        if not able:
            raise InsufficientStock(
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
    if len({s.seller_id for s in skus.values()}) > 1:
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


def claim_idempotency_key(
    session: Session, principal: Principal, key: str, fingerprint: str, order_ref: str, now: dt.datetime
) -> IdempotencyKey | None:
    """Insert the key, or return the earlier claim. Concurrent duplicates wait on the unique index."""
    values = {
        "principal": principal.subject,
        "key": key,
        "request_hash": fingerprint,
        "order_ref": order_ref,
        "created_at": now,
    }
    claimed = session.execute(_CLAIM_KEY[dialect_of(session)], values).first()
    if claimed is not None:
        return None
    earlier = earlier_claim(session, principal, key)
    assert earlier is not None
    return earlier


def earlier_claim(session: Session, principal: Principal, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.principal == principal.subject, IdempotencyKey.key == key)
    )


def place_order(
    session: Session,
    principal: Principal,
    basket: Basket,
    idempotency_key: str,
    fingerprint: str,
    limits: Limits,
    fx: FxRates,
    now: dt.datetime,
    pay_now: PayNow | None = None,
    rates: ShippingRates | None = None,
    delivery_option: str | None = None,
) -> Placed:
    """Place an order with the delivery option asked for (by id), else the default one; an option the
    basket does not have is a 422 and, the transaction rolling back, changes nothing. Without `rates`,
    the market's flat zone fees."""
    if delivery_option is not None and delivery_option not in OPTION_IDS:
        raise UnknownDeliveryOption(delivery_option)
    order_ref = new_id("ord")
    earlier = claim_idempotency_key(session, principal, idempotency_key, fingerprint, order_ref, now)
    if earlier is not None:
        if earlier.request_hash != fingerprint:
            raise IdempotencyKeyReused()
        return Placed(order_detail(session, order_by_ref(session, earlier.order_ref)), replayed=True)
    priced = price_basket(session, principal, basket, limits)
    chosen = [
        _reserve_line(session, able, q) for able, (_, q) in zip(priced.ranked, basket.lines, strict=True)
    ]
    options = options_for(session, principal, priced, basket, chosen, rates or FlatZoneRates(), now)
    option = pick(options, delivery_option)
    placed = quote_with(priced, basket, chosen, option)
    expires_at = now + limits.reservation_ttl
    taken = [(c.stock_id, q) for c, (_, q) in zip(chosen, basket.lines, strict=True)]
    reservation_ids = inventory.add_reservations(session, order_ref, taken, expires_at, now)
    promise = Promise(option, (delivery_option or option.id).split("-", 1)[1])
    order = _write_order(session, principal, priced, placed, order_ref, fx, expires_at, now, promise)
    lines = _write_lines(session, order, priced, placed, chosen, reservation_ids)
    payload = {"total_minor": order.total_minor, "currency": order.currency, "market": priced.market.code}
    record_event(session, DomainEvent("order.placed", order.public_id, payload), now)
    payments: list[Payment] = []
    delivery = None
    if pay_now is not None:
        payment, delivery = ordering.open_payment(session, order, pay_now.method, pay_now.provider, now)
        payments.append(payment)
    seller = next(iter(priced.skus.values())).seller_public_id
    detail = OrderDetail(
        order, priced.market.code, principal.buyer_public_id or "", seller, lines, payments, []
    )
    return Placed(detail, replayed=False, delivery=delivery)


@dataclass(frozen=True)
class Promise:
    """The delivery option an order was placed with, and the objective the buyer asked it for."""

    option: DeliveryOption
    objective: str


def _reserve_line(session: Session, able: list[Candidate], quantity: int) -> Candidate:
    for candidate in able:
        if inventory.try_reserve(session, candidate.stock_id, quantity):
            return candidate
    raise InsufficientStock(f"the last units were just taken: {quantity} no longer available")


def _write_order(
    session: Session,
    principal: Principal,
    priced: Priced,
    placed: Quote,
    order_ref: str,
    fx: FxRates,
    expires_at: dt.datetime,
    now: dt.datetime,
    promise: Promise,
) -> Order:
    market = priced.market
    order_date = local_date(now, market.time_zone)
    fx = organization.rates_for(session, fx, market.currency, order_date)
    seller_id = next(iter(priced.skus.values())).seller_id
    values = order_row(
        OrderHead(order_ref, principal.buyer_id, seller_id, market.id, "placed", order_date, now),
        placed,
        fx,
        promise,
        expires_at,
        now,
    )
    # A Core insert: the ORM's unit of work costs more than the whole statement on this hot path.
    order_id = session.execute(_INSERT_ORDER, values).scalar_one()
    return Order(id=order_id, **values)


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


def _write_lines(
    session: Session,
    order: Order,
    priced: Priced,
    placed: Quote,
    chosen: list[Candidate],
    reservation_ids: list[int],
) -> list[dict[str, object]]:
    rows = [
        line_row(order.id, priced.skus[q.line.sku].sku_id, candidate.warehouse_id, reservation_id, q)
        for q, candidate, reservation_id in zip(placed.lines, chosen, reservation_ids, strict=True)
    ]
    session.execute(_INSERT_LINES, rows)
    return [
        {
            "sku": q.line.sku,
            "quantity": q.line.quantity,
            "unit_price_minor": q.line.unit_price_minor,
            "line_total_minor": q.line_total.minor,
            "tax_minor": q.tax.minor,
            "commission_rate": str(q.line.commission_rate),
            "commission_minor": q.commission.minor,
            "warehouse": q.line.warehouse,
            "cross_border": q.cross_border,
        }
        for q in placed.lines
    ]
