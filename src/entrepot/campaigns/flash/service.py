"""Flash sales: create one, and take buyers' requests for units in batches.

`decide_batch` and `write_batch` are the hot path (run by flash_batch, with the sale's payment
events). Many buyers' requests go in ONE transaction: lock the sale row, read what those buyers already
hold, decide every request in arrival order (flash_rules.admit), write the orders, the buyers' holdings
and the sale's counters, commit. The commit (an fsync with synchronous commit on) and the hot row's
lock are paid once per batch instead of once per buyer, which is what lets one SKU go past the single
hot row's ceiling. With a batch of one it is the naive per-request
`SELECT ... FOR UPDATE` deduction, kept as the `row_lock` strategy to measure against.

Every writer of a sale's counters or holdings (batches, payment events, the sweeper) locks the sale row
first, so they never deadlock and each sees the others' committed work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from entrepot.campaigns.common import Window, campaign_sku, open_header
from entrepot.campaigns.flash.models import (
    FLASH_HOLDINGS,
    FLASH_ORDERS,
    FLASH_SALES,
    FLASH_STRATEGIES,
    FlashSale,
)
from entrepot.campaigns.flash.rules import RESERVED, WAITING, Ask, Decision, SaleCounters, admit
from entrepot.inventory.domain import MAX_STOCK_UNITS
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import amount_problem
from entrepot.platform import audit
from entrepot.platform.db import by_public_id, in_list, insert_many
from entrepot.platform.principal import Principal

_order = FLASH_ORDERS.c
_buyer = FLASH_HOLDINGS.c
_sale = FLASH_SALES.c


_LOCK_SALE = select(FLASH_SALES).where(_sale.id == bindparam("sale")).with_for_update()
_SET_COUNTERS = (
    update(FLASH_SALES)
    .where(_sale.id == bindparam("sale"))
    .values(reserved=bindparam("reserved"), sold=bindparam("sold"), waiting=bindparam("waiting"))
)


@dataclass(frozen=True)
class SaleSpec:
    sku: str
    market: str
    sale_price_minor: int
    stock: int
    per_buyer_limit: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    reservation_ttl_seconds: int = 600
    strategy: str = "batched"


def create_sale(session: Session, principal: Principal, spec: SaleSpec, now: dt.datetime) -> FlashSale:
    """Set the sale's units aside from a warehouse and schedule it. Sellers sell their own SKUs. Recorded
    in the audit trail with the sale's terms."""
    sale = open_sale(session, principal, spec, now)
    audit.record(session, "flash_sale.created", sale.public_id, None, sale_terms(sale), now)
    return sale


def open_sale(session: Session, principal: Principal, spec: SaleSpec, now: dt.datetime) -> FlashSale:
    """`create_sale` without its audit entry, for a change that records itself (a livestream drop opening
    is one change, one entry, though it makes a sale)."""
    target = campaign_sku(session, principal, spec.market, spec.sku, "flash sales")
    _check_spec(spec, target.market.currency, now)
    window = Window(spec.stock, spec.starts_at, spec.ends_at)
    sale = FlashSale(
        **open_header(session, target, spec.sku, new_id("fls"), window, now),
        market_id=target.market.id,
        sale_price_minor=spec.sale_price_minor,
        reserved=0,
        waiting=0,
        per_buyer_limit=spec.per_buyer_limit,
        reservation_ttl_seconds=spec.reservation_ttl_seconds,
        strategy=spec.strategy,
    )
    session.add(sale)
    session.flush()
    return sale


def sale_terms(sale: FlashSale) -> dict[str, Any]:
    """What a seller or an operator set when making the sale, as the audit trail shows it."""
    return {
        "sku": sale.sku_ref,
        "market": sale.market_ref,
        "sale_price_minor": sale.sale_price_minor,
        "currency": sale.currency,
        "stock": sale.stock,
        "per_buyer_limit": sale.per_buyer_limit,
        "starts_at": sale.starts_at,
        "ends_at": sale.ends_at,
        "reservation_ttl_seconds": sale.reservation_ttl_seconds,
        "strategy": sale.strategy,
    }


def _check_spec(spec: SaleSpec, currency: str, now: dt.datetime) -> None:
    errors = []
    price = amount_problem(spec.sale_price_minor, currency, allow_zero=True)
    if price is not None:
        errors.append(FieldError("sale_price_minor", price))
    if not 1 <= spec.stock <= MAX_STOCK_UNITS:
        errors.append(FieldError("stock", f"1 up to {MAX_STOCK_UNITS} units"))
    if not 1 <= spec.per_buyer_limit <= max(spec.stock, 1):
        errors.append(FieldError("per_buyer_limit", "1 up to the sale's stock"))
    if spec.ends_at <= spec.starts_at:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    if spec.ends_at <= now:
        errors.append(FieldError("ends_at", "must be in the future"))
    if not 5 <= spec.reservation_ttl_seconds <= 24 * 3600:
        errors.append(FieldError("reservation_ttl_seconds", "5 seconds to 24 hours"))
    if spec.strategy not in FLASH_STRATEGIES:
        errors.append(FieldError("strategy", " or ".join(FLASH_STRATEGIES)))
    if errors:
        raise ValidationFailed("invalid flash sale", errors)


def get_sale(session: Session, public_id: str) -> FlashSale:
    return by_public_id(session, FlashSale, public_id, "flash sale")


def counters_of(row: Any) -> SaleCounters:
    return SaleCounters(
        row.stock, row.reserved, row.sold, row.waiting, row.per_buyer_limit, row.starts_at, row.ends_at
    )


@dataclass(frozen=True)
class Ticket:
    """One buyer's request for units, as it waits in a batch."""

    buyer_id: int
    quantity: int
    idempotency_key: str
    pay: bool  # start paying at once: the order gets a payment id in the same transaction


@dataclass(frozen=True)
class Taken:
    decision: Decision
    quantity: int = 0
    order_id: str | None = None
    status: str | None = None
    amount_minor: int = 0
    expires_at: dt.datetime | None = None
    payment_id: str | None = None
    replayed: bool = False


def lock_sale(session: Session, sale_id: int) -> Any:
    """The sale row, locked until the transaction ends (see the module's note on lock order)."""
    return session.execute(_LOCK_SALE, {"sale": sale_id}).one()


@dataclass(frozen=True)
class Decided:
    """A batch of requests decided under the sale row's lock, not yet written."""

    taken: list[Taken]  # one per ticket, in order
    holdings: dict[int, int]  # units now held, for buyers whose holding changed
    after: SaleCounters


def decide_batch(
    session: Session, sale: Any, counters: SaleCounters, tickets: list[Ticket], now: dt.datetime
) -> Decided:
    """Decide a batch of requests in arrival order against the sale's counters (as locked, with any
    earlier change of this transaction applied). A buyer appears at most once per batch (the batcher
    defers repeats to the next batch), so their idempotency keys never clash."""
    held = _holdings(session, sale.id, [t.buyer_id for t in tickets])
    # Every order is written with its buyer's holding, so only a buyer with a holding can be retrying
    # a request: in a rush, where nearly every buyer is new, the batch skips this read.
    earlier = _earlier_orders(session, sale.id, [t for t in tickets if t.buyer_id in held])
    fresh = [t for t in tickets if (t.buyer_id, t.idempotency_key) not in earlier]
    decisions, after, changed = admit(counters, [Ask(t.buyer_id, t.quantity) for t in fresh], held, now)
    by_ticket = dict(zip(map(id, fresh), decisions, strict=True))
    taken = [
        earlier[(t.buyer_id, t.idempotency_key)]
        if (t.buyer_id, t.idempotency_key) in earlier
        else _record(sale, t, by_ticket[id(t)], now)
        for t in tickets
    ]
    return Decided(taken, changed, after)


def buyers_with_orders(session: Session, sale_id: int) -> frozenset[int]:
    return frozenset(session.scalars(select(_order.buyer_id).where(_order.sale_id == sale_id).distinct()))


def _earlier_orders(session: Session, sale_id: int, tickets: list[Ticket]) -> dict[tuple[int, str], Taken]:
    """Requests retried with a key already used: answered with the order they made (a replay)."""
    if not tickets:
        return {}
    pairs = {(t.buyer_id, t.idempotency_key) for t in tickets}
    rows = session.execute(
        select(_order.buyer_id, _order.idempotency_key, _order.public_id, _order.status, _order.amount_minor)
        .add_columns(_order.expires_at, _order.payment_id, _order.quantity)
        .where(
            _order.sale_id == sale_id,
            # each column against its own list (the unique index serves both), the pairs checked below
            in_list(session, _order.buyer_id, [buyer for buyer, _ in pairs]),
            in_list(session, _order.idempotency_key, [key for _, key in pairs]),
        )
    ).all()
    rows = [r for r in rows if (r.buyer_id, r.idempotency_key) in pairs]
    return {
        (r.buyer_id, r.idempotency_key): Taken(
            Decision(r.status),
            r.quantity,
            r.public_id,
            r.status,
            r.amount_minor,
            r.expires_at,
            r.payment_id,
            True,
        )
        for r in rows
    }


def _holdings(session: Session, sale_id: int, buyer_ids: list[int]) -> dict[int, int]:
    if not buyer_ids:
        return {}
    rows = session.execute(
        select(_buyer.buyer_id, _buyer.quantity).where(
            _buyer.sale_id == sale_id, in_list(session, _buyer.buyer_id, buyer_ids)
        )
    ).all()
    return {buyer_id: quantity for buyer_id, quantity in rows}


def _record(sale: Any, ticket: Ticket, decision: Decision, now: dt.datetime) -> Taken:
    if decision.outcome not in (RESERVED, WAITING):
        return Taken(decision)
    reserved = decision.outcome == RESERVED
    return Taken(
        decision,
        ticket.quantity,
        new_id("fo"),
        decision.outcome,
        sale.sale_price_minor * ticket.quantity,
        now + dt.timedelta(seconds=sale.reservation_ttl_seconds) if reserved else None,
        new_id("fpay") if reserved and ticket.pay else None,
    )


def write_batch(
    session: Session, sale_id: int, tickets: list[Ticket], decided: Decided, now: dt.datetime
) -> None:
    """The batch's new orders and the buyers' holdings (the counters are the caller's: see set_counters)."""
    rows = [
        {
            "public_id": r.order_id,
            "sale_id": sale_id,
            "buyer_id": t.buyer_id,
            "idempotency_key": t.idempotency_key,
            "quantity": t.quantity,
            "amount_minor": r.amount_minor,
            "status": r.status,
            "payment_id": r.payment_id,
            "payment_status": "pending" if r.payment_id else None,
            "decline_reason": None,
            "expires_at": r.expires_at,
            "paid_at": None,
            "created_at": now,
        }
        for t, r in zip(tickets, decided.taken, strict=True)
        if r.order_id is not None and not r.replayed
    ]
    insert_many(session, FLASH_ORDERS, rows)
    holdings = [{"sale_id": sale_id, "buyer_id": b, "quantity": q} for b, q in decided.holdings.items()]
    # absolute holdings per (sale, buyer): safe because every writer holds the sale row's lock
    insert_many(session, FLASH_HOLDINGS, holdings, conflict=("sale_id", "buyer_id"), update=("quantity",))


def set_counters(session: Session, sale_id: int, counters: SaleCounters) -> None:
    """Absolute values: safe because the caller holds the sale row's lock."""
    values = {"reserved": counters.reserved, "sold": counters.sold, "waiting": counters.waiting}
    session.execute(_SET_COUNTERS, {"sale": sale_id, **values})


def end_sale_now(session: Session, sale_id: int, now: dt.datetime) -> None:
    """Close the sale's window at once (a live host closing a drop); the sweeper then settles it."""
    row = lock_sale(session, sale_id)
    end = max(now, row.starts_at + dt.timedelta(microseconds=1))  # the window stays non-empty
    if end < row.ends_at:
        session.execute(update(FLASH_SALES).where(_sale.id == sale_id).values(ends_at=end))
