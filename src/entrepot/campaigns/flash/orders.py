"""Paid flash orders become ordinary orders, off the hot path.

A flash batch that records payments writes ONE outbox event per sale, `flash_orders.paid`, listing the
flash orders it marked paid (see campaigns.flash.settlement). The relay hands it to the handler here,
which gives ordering the whole list, per sale, in one transaction (`ordering.paid_orders.
record_paid_orders`): ordering writes each as an ordinary order paid at once, priced at the sale price
with tax included and free delivery, so it ships, shows in reporting and can be refunded like any other.

Idempotent: an ordinary order's public id is derived from its flash order's (`fo_X` -> `ord_fX`), and
ordering skips the orders it already has, so a redelivered event writes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.campaigns.flash.models import FLASH_ORDERS, FLASH_SALES
from entrepot.campaigns.flash.settlement import PAID
from entrepot.inventory import hot_stock
from entrepot.kernel.fx import FxRates
from entrepot.ordering.paid_orders import PaidOrder, PaidSale, record_paid_orders
from entrepot.platform.outbox import Event, Handler, HandlerRegistry

PROVIDER = "simulated"  # the provider flash payments go through (the app's SimulatedProvider)
_order = FLASH_ORDERS.c
_sale = FLASH_SALES.c


def order_ref_of(flash_ref: str) -> str:
    """The ordinary order's public id of a flash order: derived, so a repeat finds it."""
    return "ord_f" + flash_ref.removeprefix("fo_")


def convert(session: Session, flash_refs: list[str], fx: FxRates, now: dt.datetime) -> list[str]:
    """Write the ordinary orders of these paid flash orders, skipping those already written; returns the
    public ids of the orders written."""
    rows = session.execute(
        select(FLASH_ORDERS, _sale.public_id.label("sale_ref"), _sale.market_ref, _sale.sku_ref)
        .add_columns(_sale.currency, _sale.seller_id, _sale.warehouse_id, _sale.sku_id)
        .add_columns(_sale.sale_price_minor)
        .join(FLASH_SALES, _sale.id == _order.sale_id)
        .where(_order.public_id.in_(flash_refs), _order.status == "paid")
        .order_by(_order.id)
    ).all()
    by_sale: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_sale[row.sale_ref].append(row)
    written = []
    for sale_rows in by_sale.values():
        orders = [_paid_order(row, now) for row in sale_rows]
        written += record_paid_orders(session, _paid_sale(session, sale_rows[0]), orders, fx, now)
    return written


def _paid_sale(session: Session, row: Any) -> PaidSale:
    return PaidSale(
        row.market_ref,
        row.sku_ref,
        row.sku_id,
        row.seller_id,
        row.warehouse_id,
        hot_stock.sale_reservation_id(session, row.sale_ref),
        PROVIDER,
    )


def _paid_order(row: Any, now: dt.datetime) -> PaidOrder:
    assert row.payment_id is not None, "a paid flash order has its payment"
    return PaidOrder(
        order_ref_of(row.public_id),
        row.buyer_id,
        row.quantity,
        row.sale_price_minor,
        row.payment_id,
        row.amount_minor,
        row.currency,
        row.created_at,
        row.paid_at or now,
    )


def handler(fx: FxRates) -> Handler:
    def on_flash_orders_paid(session: Session, event: Event) -> None:
        convert(session, list(event.payload["orders"]), fx, event.occurred_at)

    return on_flash_orders_paid


def register(registry: HandlerRegistry, fx: FxRates) -> None:
    """`fx`: the rates to state the orders' USD and CNY amounts at (the app's context's)."""
    registry.register(PAID, handler(fx))
