"""Paid flash orders become ordinary orders, off the hot path.

A flash batch that records payments writes ONE outbox event per sale, `flash_orders.paid`, listing the
flash orders it marked paid (see flash_settle). The relay hands it to `on_flash_orders_paid`, which
writes, for the whole list in one transaction, what checkout writes for an order paid at once: the order
(status `paid`, its amounts in the order's currency and in USD and CNY), its line, the succeeded payment,
and the `order.placed` and `order.paid` events, so the order ships through the ordinary
`order.paid -> logistics` handler, shows in reporting, and can be refunded.

Idempotent: an ordinary order's public id is derived from its flash order's (`fo_X` -> `ord_fX`), and
flash orders that already have theirs are skipped, so a redelivered event writes nothing twice.

The money: a flash sale's price is a unit price with tax included and no shipping fee, so the order is
priced as checkout prices a one-line basket (`domain.price_quote`) on the market's terms with tax
included and a free parcel: its total is exactly what the buyer paid, its tax the part of that price the
market's rate implies, its commission the marketplace's rate for the SKU's category.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from entrepot.campaigns.flash.models import ORDERS, SALES
from entrepot.campaigns.flash.settlement import PAID
from entrepot.catalog import service as catalog
from entrepot.catalog.domain import commission_for
from entrepot.inventory import hot_stock
from entrepot.kernel.fx import FxRates
from entrepot.ordering.checkout import OrderHead, line_row, order_row, terms_of
from entrepot.ordering.domain import MarketTerms, PricedLine, Quote, price_quote
from entrepot.ordering.models import Order, OrderLine, Payment
from entrepot.organization import service as organization
from entrepot.organization.domain import local_date
from entrepot.organization.models import Market
from entrepot.organization.rates import rates_of
from entrepot.platform.db import record_events
from entrepot.platform.outbox import Event, HandlerRegistry
from entrepot.platform.settings import get_settings

PROVIDER = "simulated"  # the provider flash payments go through (the app's SimulatedProvider)
_order = ORDERS.c
_sale = SALES.c


def order_ref_of(flash_ref: str) -> str:
    """The ordinary order's public id of a flash order: derived, so a repeat finds it."""
    return "ord_f" + flash_ref.removeprefix("fo_")


@dataclass(frozen=True)
class SaleTerms:
    """What every order of one sale shares: its market, SKU, warehouse and rates."""

    market: Market
    pricing: MarketTerms  # the market's, with tax included in the price
    sku_id: int
    seller_id: int
    warehouse_id: int
    warehouse_country: str
    reservation_id: int
    commission_rate: Decimal


def convert(session: Session, flash_refs: list[str], fx: FxRates, now: dt.datetime) -> list[str]:
    """Write the ordinary orders of these paid flash orders, skipping those already written; returns the
    public ids of the orders written."""
    wanted = {order_ref_of(ref): ref for ref in flash_refs}
    existing = set(session.scalars(select(Order.public_id).where(Order.public_id.in_(wanted))))
    todo = [flash for ref, flash in wanted.items() if ref not in existing]
    if not todo:
        return []
    rows = session.execute(
        select(ORDERS, _sale.public_id.label("sale_ref"), _sale.market_ref, _sale.sku_ref, _sale.currency)
        .add_columns(_sale.seller_id, _sale.warehouse_id, _sale.sku_id, _sale.sale_price_minor)
        .join(SALES, _sale.id == _order.sale_id)
        .where(_order.public_id.in_(todo), _order.status == "paid")
        .order_by(_order.id)
    ).all()
    by_sale: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_sale[row.sale_ref].append(row)
    written = []
    for sale_rows in by_sale.values():
        terms = _terms(session, sale_rows[0])
        written += _write(session, terms, sale_rows, fx, now)
    return written


def _terms(session: Session, sale: Any) -> SaleTerms:
    market = organization.get_market(session, sale.market_ref)
    priced = catalog.priced_skus(session, market.id, [sale.sku_ref])[sale.sku_ref]
    rates = catalog.commission_rates(session, market.business_unit_id)
    return SaleTerms(
        market,
        replace(terms_of(market), prices_include_tax=True),
        sale.sku_id,
        sale.seller_id,
        sale.warehouse_id,
        hot_stock.warehouse_country(session, sale.warehouse_id),
        hot_stock.sale_reservation_id(session, sale.sale_ref),
        commission_for(rates, priced.category),
    )


@dataclass(frozen=True)
class Converted:
    """One paid flash order in an ordinary order's terms."""

    row: Any  # the flash order
    paid_at: dt.datetime
    quote: Quote
    values: dict[str, Any]  # the orders row

    @property
    def ref(self) -> str:
        return str(self.values["public_id"])

    @property
    def amount(self) -> dict[str, Any]:
        return {"total_minor": self.values["total_minor"], "currency": self.values["currency"]}


def _write(session: Session, terms: SaleTerms, rows: list[Any], fx: FxRates, now: dt.datetime) -> list[str]:
    rates: dict[dt.date, FxRates] = {}  # an operator's rate (VND) is read once per day, not per order
    converted = [_converted(session, terms, row, fx, rates, now) for row in rows]
    ids = (
        session.execute(
            insert(Order).returning(Order.id, sort_by_parameter_order=True), [c.values for c in converted]
        )
        .scalars()
        .all()
    )
    session.execute(
        insert(OrderLine), [_line(terms, c, order_id) for c, order_id in zip(converted, ids, strict=True)]
    )
    session.execute(
        insert(Payment), [_payment(c, order_id) for c, order_id in zip(converted, ids, strict=True)]
    )
    placed = {"market": terms.market.code}  # with each order's total, as checkout's `order.placed`
    totals = [(c.ref, {**placed, **c.amount}) for c in converted]
    record_events(session, "order.placed", totals, now)
    record_events(session, "order.paid", [(c.ref, {"payment": c.row.payment_id}) for c in converted], now)
    return [c.ref for c in converted]


def _converted(
    session: Session,
    terms: SaleTerms,
    row: Any,
    fx: FxRates,
    rates: dict[dt.date, FxRates],
    now: dt.datetime,
) -> Converted:
    market = terms.market
    paid_at: dt.datetime = row.paid_at or now
    order_date = local_date(paid_at, market.time_zone)
    if order_date not in rates:
        rates[order_date] = organization.rates_for(session, fx, row.currency, order_date)
    line = PricedLine(
        row.sku_ref,
        row.quantity,
        row.sale_price_minor,
        terms.commission_rate,
        "",  # the warehouse label only names the parcel, which is free
        terms.warehouse_country,
    )
    quote = price_quote(terms.pricing, [line], parcel_fees=(0,))
    head = OrderHead(
        order_ref_of(row.public_id),
        row.buyer_id,
        terms.seller_id,
        market.id,
        "paid",
        order_date,
        row.created_at,
    )
    values = order_row(head, quote, rates[order_date], None, paid_at, now)
    return Converted(row, paid_at, quote, values)


def _line(terms: SaleTerms, c: Converted, order_id: int) -> dict[str, Any]:
    """The order's one line: the whole order, from the sale's warehouse and reservation."""
    [quoted] = c.quote.lines
    return line_row(order_id, terms.sku_id, terms.warehouse_id, terms.reservation_id, quoted)


def _payment(c: Converted, order_id: int) -> dict[str, Any]:
    return {
        "public_id": c.row.payment_id,
        "order_id": order_id,
        "provider": PROVIDER,
        "status": "succeeded",
        "amount_minor": c.row.amount_minor,
        "currency": c.row.currency,
        "decline_reason": None,
        "created_at": c.row.created_at,
        "updated_at": c.paid_at,
    }


@functools.cache
def _app_fx() -> FxRates:
    settings = get_settings()
    return rates_of(settings)


def handler(fx: FxRates | None = None) -> Any:
    def on_flash_orders_paid(session: Session, event: Event) -> None:
        convert(session, list(event.payload["orders"]), fx or _app_fx(), event.occurred_at)

    return on_flash_orders_paid


def register(registry: HandlerRegistry, fx: FxRates | None = None) -> None:
    """`fx`: the rates to convert with; by default the app's settings' (loaded on first use)."""
    registry.register(PAID, handler(fx))
