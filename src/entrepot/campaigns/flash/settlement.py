"""After a flash order is taken: its payment, its expiry, the waiting queue, and closing the sale.

Units only ever move under the sale row's lock: paid (reserved -> sold), or back to the sale when a
payment is declined or a reservation runs out, in which case the waiting queue is served at once, in
arrival order. Payment events are applied in batches too (one transaction for many webhooks).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Result, func, select, update
from sqlalchemy.orm import Session

from entrepot.campaigns.flash.models import FLASH_HOLDINGS, FLASH_ORDERS, FLASH_SALES, FlashOrder, FlashSale
from entrepot.campaigns.flash.rules import SaleCounters, promote
from entrepot.campaigns.flash.service import counters_of
from entrepot.inventory import hot_stock
from entrepot.kernel.errors import Conflict, Forbidden, not_found
from entrepot.kernel.ids import new_id
from entrepot.ordering.payments import PaymentProvider, PaymentRequest, WebhookDelivery
from entrepot.platform.db import in_list, record_events
from entrepot.platform.principal import Principal

_order = FLASH_ORDERS.c
_sale = FLASH_SALES.c
_buyer = FLASH_HOLDINGS.c
# Written here, one per sale and batch that recorded payments; flash_orders turns it into ordinary orders.
PAID = "flash_orders.paid"


def _pay_orders(session: Session, payment_ids: list[str], now: dt.datetime) -> Result[Any]:
    """One statement for the whole batch: status and amount of each order were checked just before
    (see _classify). Only reserved orders are paid, and the caller who read them before taking the
    sale's lock checks that every one was (db.rows_changed). No RETURNING: what it changes is known
    from that read, so it can go out with the batch's other writes (db.pipelined)."""
    return session.execute(
        update(FLASH_ORDERS)
        .where(in_list(session, _order.payment_id, payment_ids), _order.status == "reserved")
        .values(status="paid", payment_status="succeeded", paid_at=now)
    )


_PAYMENT_ORDERS = select(
    _order.payment_id,
    _order.public_id,
    _order.sale_id,
    _order.status,
    _order.quantity,
    _order.amount_minor,
    _order.payment_status,
)


@dataclass(frozen=True)
class PaymentEvent:
    payment_id: str
    succeeded: bool
    amount_minor: int
    currency: str
    reason: str | None


def lock_sales(session: Session, sale_ids: set[int]) -> dict[int, Any]:
    """Lock sale rows in id order (the one order every writer uses) and return them."""
    rows = session.execute(
        select(FLASH_SALES).where(_sale.id.in_(sorted(sale_ids))).order_by(_sale.id).with_for_update()
    ).all()
    return {row.id: row for row in rows}


def apply_payment_events(session: Session, events: list[PaymentEvent], now: dt.datetime) -> list[str]:
    """Outcome per event: paid, declined, refunded (money arrived for an order that had lapsed: it goes
    back), duplicate, mismatch (amount or currency not what was asked: nothing applied) or unknown."""
    ids = [e.payment_id for e in events]
    sales = lock_sales(
        session, set(session.scalars(select(_order.sale_id).where(_order.payment_id.in_(ids))))
    )
    orders = payment_orders(session, ids)
    outcomes = classify_events(events, orders, sales)
    apply_outcomes(session, events, outcomes, orders, sales, now)
    return outcomes


def payment_orders(session: Session, payment_ids: list[str], sale_id: int | None = None) -> dict[str, Any]:
    """The orders the payments are for, by payment id (only the sale's, when given). Read under the
    sales' locks, nobody can move them before this transaction commits; read before (flash_batch),
    what is written from it must be checked."""
    # by payment id alone, which is unique: the sale's own index would have the server filter all its
    # orders, as it does while a rush outgrows the table's statistics
    found = session.execute(_PAYMENT_ORDERS.where(in_list(session, _order.payment_id, payment_ids))).all()
    return {row.payment_id: row for row in found if sale_id is None or row.sale_id == sale_id}


def classify_events(events: list[PaymentEvent], orders: dict[str, Any], sales: dict[int, Any]) -> list[str]:
    outcomes, seen = [], set()
    for event in events:
        repeat = event.payment_id in seen  # the same event twice in one batch counts once
        seen.add(event.payment_id)
        outcomes.append("duplicate" if repeat else _classify(event, orders.get(event.payment_id), sales))
    return outcomes


def beyond_payments(outcomes: list[str]) -> bool:
    """Whether these outcomes need more than recording payments: a decline gives units back and serves
    the waiting queue (which reads in turn); money for an order that had lapsed is marked refunded."""
    return any(outcome in ("declined", "refunded") for outcome in outcomes)


def paid_orders(events: list[PaymentEvent], outcomes: list[str], orders: dict[str, Any]) -> list[Any]:
    return [orders[e.payment_id] for e, o in zip(events, outcomes, strict=True) if o == "paid"]


def apply_outcomes(
    session: Session,
    events: list[PaymentEvent],
    outcomes: list[str],
    orders: dict[str, Any],
    sales: dict[int, Any],
    now: dt.datetime,
) -> None:
    """Record classified events, one statement after another (declines read the waiting queue)."""
    paid = paid_orders(events, outcomes, orders)
    record_paid(session, paid, sales, now)
    for sale_id, units in units_by_sale(paid).items():
        session.execute(
            update(FLASH_SALES)
            .where(_sale.id == sale_id)
            .values(reserved=_sale.reserved - units, sold=_sale.sold + units)
        )
    for event, outcome in zip(events, outcomes, strict=True):
        if outcome == "declined":
            _decline(session, event, now)
        elif outcome == "refunded":
            session.execute(
                update(FlashOrder)
                .where(FlashOrder.payment_id == event.payment_id)
                .values(payment_status="refunded")
            )


def _classify(event: PaymentEvent, order: Any, sales: dict[int, Any]) -> str:
    if order is None:
        return "unknown"
    if order.payment_status != "pending":
        return "duplicate"
    if event.amount_minor != order.amount_minor or event.currency != sales[order.sale_id].currency:
        return "mismatch"
    if order.status != "reserved":
        return "refunded" if event.succeeded else "duplicate"
    return "paid" if event.succeeded else "declined"


def units_by_sale(paid: list[Any]) -> dict[int, int]:
    per_sale: dict[int, int] = defaultdict(int)
    for order in paid:
        per_sale[order.sale_id] += order.quantity
    return per_sale


def record_paid(
    session: Session, paid: list[Any], sales: dict[int, Any], now: dt.datetime
) -> Result[Any] | None:
    """Mark the orders paid and write one event per sale (not per order: the relay turns them into
    ordinary orders together). The caller moves the units on the sales' counters (reserved -> sold).
    Returns the result of the statement that marked them paid (None when there were none): it changes
    fewer rows than `paid` if one was no longer reserved (db.rows_changed)."""
    if not paid:
        return None
    paying = _pay_orders(session, [order.payment_id for order in paid], now)
    refs_by_sale: dict[int, list[str]] = defaultdict(list)
    for order in paid:
        refs_by_sale[order.sale_id].append(order.public_id)
    events = [(sales[sale].public_id, {"orders": refs}) for sale, refs in refs_by_sale.items()]
    record_events(session, PAID, events, now)
    return paying


def _decline(session: Session, event: PaymentEvent, now: dt.datetime) -> None:
    order = session.execute(select(FlashOrder).where(FlashOrder.payment_id == event.payment_id)).scalar_one()
    order.status, order.payment_status, order.decline_reason = "released", "failed", event.reason
    sale = lock_sales(session, {order.sale_id})[order.sale_id]
    counters = counters_of(sale)
    counters = replace(counters, reserved=counters.reserved - order.quantity)
    _give_back(session, order.sale_id, {order.buyer_id: order.quantity})
    session.flush()
    _serve_queue(session, sale, counters, now)


def _give_back(session: Session, sale_id: int, units_by_buyer: dict[int, int]) -> None:
    for buyer_id, units in units_by_buyer.items():
        session.execute(
            update(FLASH_HOLDINGS)
            .where(_buyer.sale_id == sale_id, _buyer.buyer_id == buyer_id)
            .values(quantity=_buyer.quantity - units)
        )


def _serve_queue(session: Session, sale: Any, counters: SaleCounters, now: dt.datetime) -> None:
    """Units came back: promote waiting orders in arrival order while the sale is open, then save."""
    if now < counters.ends_at and counters.waiting > 0:
        queue = session.execute(
            select(_order.id, _order.quantity)
            .where(_order.sale_id == sale.id, _order.status == "waiting")
            .order_by(_order.id)
        ).all()
        promoted, counters = promote(counters, [(r.id, r.quantity) for r in queue])
        if promoted:
            expires = now + dt.timedelta(seconds=sale.reservation_ttl_seconds)
            refs = session.execute(
                update(FLASH_ORDERS)
                .where(_order.id.in_(promoted))
                .values(status="reserved", expires_at=expires)
                .returning(_order.public_id)
            ).scalars()
            record_events(
                session, "flash_order.reserved", [(ref, {"pay_by": expires.isoformat()}) for ref in refs], now
            )
    session.execute(
        update(FLASH_SALES)
        .where(_sale.id == sale.id)
        .values(reserved=counters.reserved, waiting=counters.waiting)
    )


def sweep(session: Session, now: dt.datetime, batch: int = 50) -> int:
    """Expire reservations that ran out (their units go to the queue, else back on sale), lapse the
    queue of ended sales, and close ended sales with nothing left in flight. Sales another worker is
    busy with are skipped this round (SKIP LOCKED). Returns the orders changed."""
    due = (
        select(_sale.id)
        .where(
            _sale.closed_at.is_(None),
            (_sale.ends_at <= now)
            | select(_order.id)
            .where(_order.sale_id == _sale.id, _order.status == "reserved", _order.expires_at <= now)
            .exists(),
        )
        .order_by(_sale.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    changed = 0
    for sale_id in session.scalars(due).all():
        changed += _sweep_sale(session, sale_id, now)
    return changed


def _sweep_sale(session: Session, sale_id: int, now: dt.datetime) -> int:
    sale = lock_sales(session, {sale_id})[sale_id]
    counters = counters_of(sale)
    expired = session.execute(
        update(FLASH_ORDERS)
        .where(_order.sale_id == sale_id, _order.status == "reserved", _order.expires_at <= now)
        .values(status="expired")
        .returning(_order.public_id, _order.buyer_id, _order.quantity)
    ).all()
    lapsed: Sequence[Any] = []
    if now >= counters.ends_at:
        lapsed = session.execute(
            update(FLASH_ORDERS)
            .where(_order.sale_id == sale_id, _order.status == "waiting")
            .values(status="lapsed")
            .returning(_order.public_id, _order.buyer_id, _order.quantity)
        ).all()
    back: dict[int, int] = defaultdict(int)
    for row in [*expired, *lapsed]:
        back[row.buyer_id] += row.quantity
    _give_back(session, sale_id, back)
    counters = replace(
        counters,
        reserved=counters.reserved - sum(r.quantity for r in expired),
        waiting=counters.waiting - sum(r.quantity for r in lapsed),
    )
    record_events(session, "flash_order.expired", [(r.public_id, {}) for r in expired], now)
    _serve_queue(session, sale, counters, now)
    if now >= counters.ends_at and counters.reserved == 0 and counters.waiting == 0:
        _close(session, sale, counters, now)
    return len(expired) + len(lapsed)


def _close(session: Session, sale: Any, counters: SaleCounters, now: dt.datetime) -> None:
    """The sale is over and nothing is in flight: sold units leave the warehouse, the rest go back."""
    hot_stock.settle_sale(session, sale.public_id, sale.sku_id, sale.warehouse_id, counters.sold, now)
    session.execute(update(FLASH_SALES).where(_sale.id == sale.id).values(closed_at=now))


def start_payment(
    session: Session,
    principal: Principal,
    order_ref: str,
    method: str,
    provider: PaymentProvider,
    now: dt.datetime,
) -> WebhookDelivery:
    """Pay for a reserved order that has no payment in flight (one promoted from the waiting queue)."""
    if principal.role not in ("buyer", "operator"):
        raise Forbidden("only the buyer (or an operator) pays for a flash order")
    order = get_flash_order(session, principal, order_ref)
    if order.status != "reserved" or order.expires_at is None or now >= order.expires_at:
        raise Conflict(
            f"the order is {order.status}; only a reserved order can be paid", code="invalid-transition"
        )
    if order.payment_status == "pending":
        raise Conflict("a payment for this order is already pending", code="payment-exists")
    sale = session.get(FlashSale, order.sale_id)
    assert sale is not None
    order.payment_id, order.payment_status = new_id("fpay"), "pending"
    session.flush()
    return provider.authorize(
        PaymentRequest(order.payment_id, order.public_id, order.amount_minor, sale.currency, method)
    )


def get_flash_order(session: Session, principal: Principal, order_ref: str) -> FlashOrder:
    """Its buyer's, its sale's seller's or an operator's to see; anyone else's is an unknown order."""
    principal.require("buyer", "seller", "operator")  # a carrier's 403 whatever the id
    row = session.execute(
        select(FlashOrder, _sale.seller_id)
        .join(FLASH_SALES, _sale.id == FlashOrder.sale_id)
        .where(FlashOrder.public_id == order_ref)
    ).first()
    if row is None or not principal.sees(seller_id=row[1], buyer_id=row[0].buyer_id):
        raise not_found("flash order", order_ref)
    order: FlashOrder = row[0]
    return order


def units_held(session: Session, sale_id: int) -> int:
    """Units held by buyers (waiting, reserved or paid), for invariant checks."""
    return int(
        session.scalar(select(func.coalesce(func.sum(_buyer.quantity), 0)).where(_buyer.sale_id == sale_id))
        or 0
    )
