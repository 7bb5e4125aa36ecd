"""Orders sold and paid elsewhere, recorded as ordinary orders in bulk (a flash sale's paid orders).

`record_paid_orders` writes, for a whole batch in one transaction and one statement per table, what
checkout writes for an order paid at once: the order (status `paid`, its amounts in the order's currency
and in USD and CNY), its one line, the succeeded payment, and the `order.placed` and `order.paid`
events, so the order ships through the ordinary `order.paid -> logistics` handler, shows in reporting,
and can be refunded. Orders already written (by public id) are skipped, so a repeat writes nothing twice.

The money: the unit price includes tax and there is no shipping fee, so an order is priced as checkout
prices a one-line basket (`domain.price_quote`) on the market's terms with tax included and a free
parcel: its total is exactly what the buyer paid, its tax the part of that price the market's rate
implies, its commission the marketplace's rate for the SKU's category.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import commission_for
from entrepot.inventory import hot_stock
from entrepot.kernel.fx import FxRates
from entrepot.ordering.checkout import OrderHead, line_row, order_row, terms_of
from entrepot.ordering.domain import MarketTerms, PricedLine, Quote, price_quote
from entrepot.ordering.models import Order, OrderLine, Payment
from entrepot.organization import service as organization
from entrepot.organization.domain import local_date
from entrepot.platform.db import record_events


@dataclass(frozen=True)
class PaidSale:
    """What every order of a batch shares: the market, the SKU, and the stock its units came from."""

    market: str  # the market's code
    sku: str  # the SKU's public id
    sku_id: int
    seller_id: int
    warehouse_id: int
    reservation_id: int  # the reservation that set the units aside
    provider: str  # the payment provider the orders were paid through


@dataclass(frozen=True)
class PaidOrder:
    """One order, paid in full: `quantity` units at `unit_price_minor` (tax included, delivery free)."""

    public_id: str
    buyer_id: int
    quantity: int
    unit_price_minor: int
    payment_id: str
    amount_minor: int  # what the payment took
    currency: str
    created_at: dt.datetime
    paid_at: dt.datetime


def record_paid_orders(
    session: Session, sale: PaidSale, orders: Sequence[PaidOrder], fx: FxRates, now: dt.datetime
) -> list[str]:
    """Write these paid orders as ordinary ones, skipping those already written; the public ids of the
    orders written. `fx`: the rates the USD and CNY amounts are stated at."""
    refs = [o.public_id for o in orders]
    existing = set(session.scalars(select(Order.public_id).where(Order.public_id.in_(refs))))
    todo = [o for o in orders if o.public_id not in existing]
    if not todo:
        return []
    terms = _terms(session, sale)
    rates: dict[dt.date, FxRates] = {}  # an operator's rate (VND) is read once per day, not per order
    priced = [_priced(session, sale, terms, o, fx, rates, now) for o in todo]
    ids = (
        session.execute(
            insert(Order).returning(Order.id, sort_by_parameter_order=True), [p.values for p in priced]
        )
        .scalars()
        .all()
    )
    pairs = list(zip(priced, ids, strict=True))
    session.execute(insert(OrderLine), [_line(sale, p, order_id) for p, order_id in pairs])
    session.execute(insert(Payment), [_payment(sale, p.order, order_id) for p, order_id in pairs])
    placed = {"market": terms.market_code}  # with each order's total, as checkout's `order.placed`
    totals = [(p.ref, {**placed, **p.amount}) for p in priced]
    record_events(session, "order.placed", totals, now)
    record_events(session, "order.paid", [(p.ref, {"payment": p.order.payment_id}) for p in priced], now)
    return [p.ref for p in priced]


@dataclass(frozen=True)
class _Terms:
    market_id: int
    market_code: str
    time_zone: str
    pricing: MarketTerms  # the market's, with tax included in the price
    warehouse_country: str
    commission_rate: Decimal


def _terms(session: Session, sale: PaidSale) -> _Terms:
    market = organization.get_market(session, sale.market)
    priced = catalog.priced_skus(session, market.id, [sale.sku])[sale.sku]
    rates = catalog.commission_rates(session, market.business_unit_id)
    return _Terms(
        market.id,
        market.code,
        market.time_zone,
        replace(terms_of(market), prices_include_tax=True),
        hot_stock.warehouse_country(session, sale.warehouse_id),
        commission_for(rates, priced.category),
    )


@dataclass(frozen=True)
class _Priced:
    """One paid order in an ordinary order's terms."""

    order: PaidOrder
    quote: Quote
    values: dict[str, Any]  # the orders row

    @property
    def ref(self) -> str:
        return str(self.values["public_id"])

    @property
    def amount(self) -> dict[str, Any]:
        return {"total_minor": self.values["total_minor"], "currency": self.values["currency"]}


def _priced(
    session: Session,
    sale: PaidSale,
    terms: _Terms,
    order: PaidOrder,
    fx: FxRates,
    rates: dict[dt.date, FxRates],
    now: dt.datetime,
) -> _Priced:
    order_date = local_date(order.paid_at, terms.time_zone)
    if order_date not in rates:
        rates[order_date] = organization.rates_for(session, fx, order.currency, order_date)
    line = PricedLine(
        sale.sku,
        order.quantity,
        order.unit_price_minor,
        terms.commission_rate,
        "",  # the warehouse label only names the parcel, which is free
        terms.warehouse_country,
    )
    quote = price_quote(terms.pricing, [line], parcel_fees=(0,))
    head = OrderHead(
        order.public_id, order.buyer_id, sale.seller_id, terms.market_id, "paid", order_date, order.created_at
    )
    values = order_row(head, quote, rates[order_date], None, order.paid_at, now)
    return _Priced(order, quote, values)


def _line(sale: PaidSale, p: _Priced, order_id: int) -> dict[str, Any]:
    """The order's one line: the whole order, from the sale's warehouse and reservation."""
    [quoted] = p.quote.lines
    return line_row(order_id, sale.sku_id, sale.warehouse_id, sale.reservation_id, quoted)


def _payment(sale: PaidSale, order: PaidOrder, order_id: int) -> dict[str, Any]:
    return {
        "public_id": order.payment_id,
        "order_id": order_id,
        "provider": sale.provider,
        "status": "succeeded",
        "amount_minor": order.amount_minor,
        "currency": order.currency,
        "decline_reason": None,
        "created_at": order.created_at,
        "updated_at": order.paid_at,
    }
