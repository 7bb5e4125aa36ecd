"""Rows of ordering for the reporting snapshot, in batches since a watermark. Reporting reads ordering
through these functions only, never its tables.

Orders change (status, refunds), so they are exported by `updated_at`; lines and refunds never change
after they are written, so they are exported by id, together with those of the orders changed in the
reader's overlap (see lines_after)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from entrepot.ordering.models import Order, OrderLine, Payment, Refund

Row = dict[str, Any]


def orders_changed_since(
    session: Session, since: dt.datetime | None, batch: int = 50_000
) -> Iterator[list[Row]]:
    """Orders updated at or after `since` (all when None), with whether a payment for them succeeded."""
    paid = exists().where(Payment.order_id == Order.id, Payment.status == "succeeded")
    query = select(
        Order.id,
        Order.public_id,
        Order.buyer_id,
        Order.seller_id,
        Order.market_id,
        Order.status,
        Order.currency,
        Order.subtotal_minor,
        Order.tax_minor,
        Order.shipping_minor,
        Order.total_minor,
        Order.refunded_minor,
        Order.commission_minor,
        Order.order_date,
        Order.updated_at,
        paid.label("paid"),
    ).order_by(Order.id)
    if since is not None:
        query = query.where(Order.updated_at >= since)
    yield from _batches(session, query, batch)


def lines_after(
    session: Session, last_id: int, orders_since: dt.datetime | None = None, batch: int = 50_000
) -> Iterator[list[Row]]:
    """Order lines with an id above `last_id`, and the lines of orders updated at or after
    `orders_since`: a line is written in its order's transaction, so one that committed late under a
    lower id is found again through its order."""
    query = select(
        OrderLine.id,
        OrderLine.order_id,
        OrderLine.sku_id,
        OrderLine.quantity,
        OrderLine.line_total_minor,
        OrderLine.tax_minor,
        OrderLine.commission_minor,
    )
    query = query.where(_after_or_of_changed_orders(OrderLine.id, OrderLine.order_id, last_id, orders_since))
    yield from _batches(session, query.order_by(OrderLine.id), batch)


def refunds_after(
    session: Session, last_id: int, orders_since: dt.datetime | None = None, batch: int = 50_000
) -> Iterator[list[Row]]:
    """Refunds with an id above `last_id`, and those of orders updated at or after `orders_since` (a
    refund updates its order in the same transaction)."""
    query = select(Refund.id, Refund.order_id, Refund.amount_minor, Refund.created_at)
    query = query.where(_after_or_of_changed_orders(Refund.id, Refund.order_id, last_id, orders_since))
    yield from _batches(session, query.order_by(Refund.id), batch)


def _after_or_of_changed_orders(
    row_id: Any, order_id: Any, last_id: int, orders_since: dt.datetime | None
) -> ColumnElement[bool]:
    after: ColumnElement[bool] = row_id > last_id
    if orders_since is None:
        return after
    changed = select(Order.id).where(Order.updated_at >= orders_since)
    return or_(after, order_id.in_(changed))


def _batches(session: Session, query: Any, size: int) -> Iterator[list[Row]]:
    result = session.execute(query.execution_options(yield_per=size))
    for part in result.mappings().partitions(size):
        yield [dict(row) for row in part]
