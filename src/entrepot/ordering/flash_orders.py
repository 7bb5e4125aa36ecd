"""Paid flash orders become ordinary orders, off the hot path.

A flash batch that records payments writes ONE outbox event per sale, `flash_orders.paid`, listing the
flash orders it marked paid (see flash_settle). The relay hands it to `on_flash_orders_paid`, which
writes, for the whole list in one transaction, what checkout writes for an order paid at once: the order
(status `paid`, its amounts in the order's currency and in USD and CNY), its line, the succeeded payment,
and the `order.placed` and `order.paid` events, so the order ships through the ordinary
`order.paid -> logistics` handler, shows in reporting, and can be refunded.

Idempotent: an ordinary order's public id is derived from its flash order's (`fo_X` -> `ord_fX`), and
flash orders that already have theirs are skipped, so a redelivered event writes nothing twice.

The money: a flash sale's price is a unit price with tax included and no shipping fee, so the order's
total is exactly what the buyer paid; its tax is the part of that price the market's rate implies, and
the commission is the marketplace's rate for the SKU's category, as at checkout.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import commission_for
from entrepot.db import record_event
from entrepot.inventory import hot_stock
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.fx import FxRates, load_ecb
from entrepot.kernel.money import Money
from entrepot.ordering.domain import tax_in
from entrepot.ordering.models import Order, OrderLine, Payment
from entrepot.ordering.peak_models import ORDERS, SALES
from entrepot.organization import service as organization
from entrepot.organization.domain import local_date
from entrepot.organization.models import Market
from entrepot.outbox import Event, HandlerRegistry
from entrepot.settings import get_settings

PAID = "flash_orders.paid"
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
    sku_id: int
    seller_id: int
    warehouse_id: int
    reservation_id: int
    commission_rate: Any
    cross_border: bool


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
        .add_columns(_sale.seller_id, _sale.warehouse_id, _sale.sku_id)
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
    country = hot_stock.warehouse_country(session, sale.warehouse_id)
    return SaleTerms(
        market,
        sale.sku_id,
        sale.seller_id,
        sale.warehouse_id,
        hot_stock.sale_reservation_id(session, sale.sale_ref),
        commission_for(rates, priced.category),
        country != market.country,
    )


def _write(session: Session, terms: SaleTerms, rows: list[Any], fx: FxRates, now: dt.datetime) -> list[str]:
    market = terms.market
    orders, lines, payments, refs = [], [], [], []
    for row in rows:
        paid_at: dt.datetime = row.paid_at or now
        order_date = local_date(paid_at, market.time_zone)
        rates = organization.rates_for(session, fx, row.currency, order_date)
        total = Money(row.amount_minor, row.currency)
        usd, cny = (rates.convert(total, code, order_date) for code in ("USD", "CNY"))
        tax = tax_in(total, market.tax_rate, True)
        commission = total.share(terms.commission_rate)
        ref = order_ref_of(row.public_id)
        refs.append(ref)
        orders.append(
            {
                "public_id": ref,
                "buyer_id": row.buyer_id,
                "seller_id": terms.seller_id,
                "market_id": market.id,
                "status": "paid",
                "currency": row.currency,
                "subtotal_minor": total.minor,
                "tax_minor": tax.minor,
                "shipping_minor": 0,
                "total_minor": total.minor,
                "refunded_minor": 0,
                "commission_minor": commission.minor,
                "subtotal_usd_minor": usd.amount.minor,
                "total_usd_minor": usd.amount.minor,
                "subtotal_cny_minor": cny.amount.minor,
                "total_cny_minor": cny.amount.minor,
                "usd_rate": usd.rate,
                "cny_rate": cny.rate,
                "fx_rate_date": min(usd.as_of, cny.as_of),
                "order_date": order_date,
                "cross_border": terms.cross_border,
                "delivery_service": None,
                "delivery_objective": None,
                "delivery_promised_on": None,
                "delivery_source": None,
                "cancel_reason": None,
                "reservation_expires_at": paid_at,
                "created_at": row.created_at,
                "updated_at": now,
            }
        )
        lines.append((row, total, tax, commission))
        payments.append((row, paid_at))
    ids = (
        session.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True), orders)
        .scalars()
        .all()
    )
    session.execute(
        insert(OrderLine),
        [
            {
                "order_id": order_id,
                "sku_id": terms.sku_id,
                "warehouse_id": terms.warehouse_id,
                "reservation_id": terms.reservation_id,
                "quantity": row.quantity,
                "unit_price_minor": row.amount_minor // row.quantity,
                "line_total_minor": total.minor,
                "tax_minor": tax.minor,
                "commission_rate": terms.commission_rate,
                "commission_minor": commission.minor,
                "cross_border": terms.cross_border,
            }
            for order_id, (row, total, tax, commission) in zip(ids, lines, strict=True)
        ],
    )
    session.execute(
        insert(Payment),
        [
            {
                "public_id": row.payment_id,
                "order_id": order_id,
                "provider": PROVIDER,
                "status": "succeeded",
                "amount_minor": row.amount_minor,
                "currency": row.currency,
                "decline_reason": None,
                "created_at": row.created_at,
                "updated_at": paid_at,
            }
            for order_id, (row, paid_at) in zip(ids, payments, strict=True)
        ],
    )
    for ref, order, (row, _) in zip(refs, orders, payments, strict=True):
        placed = {"total_minor": order["total_minor"], "currency": order["currency"], "market": market.code}
        record_event(session, DomainEvent("order.placed", ref, placed), now)
        record_event(session, DomainEvent("order.paid", ref, {"payment": row.payment_id}), now)
    return refs


@functools.cache
def _app_fx() -> FxRates:
    settings = get_settings()
    return FxRates(load_ecb(settings.fx_ecb_file), settings.fx_max_staleness_days)


def handler(fx: FxRates | None = None) -> Any:
    def on_flash_orders_paid(session: Session, event: Event) -> None:
        convert(session, list(event.payload["orders"]), fx or _app_fx(), event.occurred_at)

    return on_flash_orders_paid


def register(registry: HandlerRegistry, fx: FxRates | None = None) -> None:
    """`fx`: the rates to convert with; by default the app's settings' (loaded on first use)."""
    registry.register(PAID, handler(fx))
