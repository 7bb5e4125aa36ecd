"""Use cases after checkout: payment and its webhook, the order's state machine, refunds, returns,
and expiring orders whose stock reservation ran out."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from entrepot.inventory import service as inventory
from entrepot.kernel.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    ValidationFailed,
    not_found,
)
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.ordering import reconciliation
from entrepot.ordering.domain import (
    ACTORS,
    REFUNDABLE,
    TRANSITIONS,
    check_refund,
    follow_parcels,
    next_status,
)
from entrepot.ordering.models import Order, Payment, Refund
from entrepot.ordering.payments import (
    PaymentEvent,
    PaymentProvider,
    PaymentRequest,
    WebhookDelivery,
    parse_event,
    verify,
)
from entrepot.ordering.queries import get_order
from entrepot.ordering.reconciliation import Due, Reconciled
from entrepot.platform import audit
from entrepot.platform.db import (
    Database,
    as_read,
    by_public_id,
    dialect_of,
    insert_many_skipping,
    record_event,
    record_events,
    record_timed_events,
    table_of,
)
from entrepot.platform.principal import Principal

log = logging.getLogger("entrepot.ordering")

_PAYMENTS = table_of(Payment)
_payment = _PAYMENTS.c
# the one payment an order may have in flight or done (uq_payments_order_live)
_LIVE_PAYMENT = text("status IN ('pending','succeeded')")
# PostgreSQL: a batch's events as arrays, one statement whatever their number
_CLAIM_PAYMENTS = text(
    "UPDATE payments SET status = e.to_status, decline_reason = e.why, updated_at = :at"
    " FROM unnest(CAST(:pids AS VARCHAR[]), CAST(:amts AS BIGINT[]), CAST(:curs AS VARCHAR[]),"
    " CAST(:tos AS VARCHAR[]), CAST(:whys AS VARCHAR[])) AS e(pid, amt, cur, to_status, why)"
    " WHERE payments.public_id = e.pid AND payments.status = 'pending'"
    " AND payments.amount_minor = e.amt AND payments.currency = e.cur"
    " RETURNING payments.public_id, payments.order_id"
)
_CLAIM_PAYMENT = (
    update(_PAYMENTS)
    .where(
        _payment.public_id == bindparam("pid"),
        _payment.status == "pending",
        # an event settles a payment only for the amount and currency that were asked for
        _payment.amount_minor == bindparam("amt"),
        _payment.currency == bindparam("cur"),
    )
    .values(status=bindparam("to"), decline_reason=bindparam("why"), updated_at=bindparam("at"))
    .returning(_payment.order_id, _payment.public_id)
)


def start_payment(
    session: Session,
    principal: Principal,
    order_id: str,
    method: str,
    provider: PaymentProvider,
    now: dt.datetime,
) -> tuple[Payment, WebhookDelivery]:
    if principal.role not in ("buyer", "operator"):
        raise Forbidden("only the buyer (or an operator) pays for an order")
    order = get_order(session, order_id, principal)
    if order.status != "placed":
        raise Conflict(
            f"the order is {order.status}; only a placed order can be paid", code="invalid-transition"
        )
    if now >= order.reservation_expires_at:
        raise Conflict(
            "the stock reservation of this order has expired; place the order again",
            code="reservation-expired",
        )
    return open_payment(session, order, method, provider, now)


def open_payment(
    session: Session, order: Order, method: str, provider: PaymentProvider, now: dt.datetime
) -> tuple[Payment, WebhookDelivery]:
    """Record a pending payment and ask the provider to authorise it. The partial unique index on
    payments allows one pending or succeeded payment per order, so a double click cannot pay twice."""
    [opened] = open_payments(session, provider, [(order, method)], now)
    if isinstance(opened, Conflict):
        raise opened
    return opened


def open_payments(
    session: Session, provider: PaymentProvider, asks: Sequence[tuple[Order, str]], now: dt.datetime
) -> list[tuple[Payment, WebhookDelivery] | Conflict]:
    """`open_payment` for many orders (by method) with one provider, in one statement and one call to
    the provider (a batch of orders paid at placement): each order's pending payment and the provider's
    answer, or the conflict of a payment already pending or done."""
    if not asks:
        return []
    rows = [_payment_row(order, provider, now) for order, _ in asks]
    opened = insert_many_skipping(session, _PAYMENTS, rows, ("order_id",), ("id", "order_id"), _LIVE_PAYMENT)
    inserted = {order_id: payment_id for payment_id, order_id in opened}
    payments: list[Payment | Conflict] = []
    requests = []
    for (order, method), values in zip(asks, rows, strict=True):
        if order.id not in inserted:
            payments.append(
                Conflict("a payment for this order is already pending or done", code="payment-exists")
            )
            continue
        payment = as_read(Payment, {"id": inserted[order.id], "decline_reason": None, **values})
        payments.append(payment)
        requests.append(
            PaymentRequest(payment.public_id, order.public_id, order.total_minor, order.currency, method)
        )
    deliveries = iter(provider.authorize_all(requests, session))
    return [p if isinstance(p, Conflict) else (p, next(deliveries)) for p in payments]


def _payment_row(order: Order, provider: PaymentProvider, now: dt.datetime) -> dict[str, Any]:
    return {
        "public_id": new_id("pay"),
        "order_id": order.id,
        "provider": provider.name,
        "status": "pending",
        "amount_minor": order.total_minor,
        "currency": order.currency,
        "created_at": now,
        "updated_at": now,
    }


def handle_payment_event(session: Session, body: bytes, now: dt.datetime) -> str:
    """Apply a verified provider event (a batch of one: `apply_payment_events`); its problem raised.
    Idempotent: a repeated event changes nothing the second time."""
    [outcome] = apply_payment_events(session, [parse_event(body)], now)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def apply_payment_events(
    session: Session, events: Sequence[PaymentEvent], now: dt.datetime
) -> list[str | DomainError]:
    """Apply verified provider events, one payment each, in the caller's transaction; an outcome per
    event: paid, declined, refunded (money for an order cancelled meanwhile), duplicate, or the problem
    that refused it (changing nothing). The common case, a succeeded payment of a placed order, is
    set-based for the batch: the payments claimed in one conditional UPDATE (pending, and for the
    amount asked), the orders locked in id order, their reservations confirmed, their status and
    `order.paid` events written a statement each for all. Declines and late money, rare, go one by one
    in a savepoint each. Two events of one payment go in turn (the second sees what the first did)."""
    outcomes: list[str | DomainError | None] = [None] * len(events)
    for wave in _waves([event.payment_id for event in events]):
        for index, outcome in zip(wave, _apply_wave(session, [events[i] for i in wave], now), strict=True):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _waves(keys: Sequence[str]) -> list[list[int]]:
    """Indexes by wave: the n-th item with a key goes in wave n."""
    seen: dict[str, int] = {}
    waves: list[list[int]] = []
    for index, key in enumerate(keys):
        wave = seen[key] = seen.get(key, -1) + 1
        if wave == len(waves):
            waves.append([])
        waves[wave].append(index)
    return waves


def _apply_wave(
    session: Session, events: Sequence[PaymentEvent], now: dt.datetime
) -> list[str | DomainError]:
    outcomes: list[str | DomainError | None] = [None] * len(events)
    claimed = _claim_payments(session, events, now)
    for i, event in enumerate(events):
        if event.payment_id not in claimed:
            try:
                outcomes[i] = _unclaimed(session, event)
            except DomainError as problem:  # nothing was written for it
                outcomes[i] = problem
    mine = [i for i, event in enumerate(events) if event.payment_id in claimed]
    order_ids = sorted({claimed[events[i].payment_id] for i in mine})
    locked = session.scalars(
        select(Order).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update()
    ).all()
    orders = {order.id: order for order in locked}
    of = {i: orders[claimed[events[i].payment_id]] for i in mine}
    placed = [i for i in mine if events[i].succeeded and of[i].status == "placed"]
    settled = inventory.settle_orders(session, [of[i].public_id for i in placed], "confirmed")
    paying = [i for i in placed if of[i].public_id in settled]
    _mark_paid(session, [of[i] for i in paying], now)
    paid_events = [(of[i].public_id, {"payment": events[i].payment_id}) for i in paying]
    record_events(session, "order.paid", paid_events, now)
    for i in paying:
        outcomes[i] = "paid"
    for i in mine:
        if outcomes[i] is None:
            with session.begin_nested():  # rare, written statement by statement: alone if it fails
                outcomes[i] = _settle_one(session, of[i], events[i], now)
    return [outcome for outcome in outcomes if outcome is not None]


def _settle_one(session: Session, order: Order, event: PaymentEvent, now: dt.datetime) -> str:
    if event.succeeded:
        return _on_paid(session, order, event.payment_id, now)
    _cancel_placed(session, order, f"payment_declined:{event.reason}", "released", now)
    return "declined"


def _claim_payments(session: Session, events: Sequence[PaymentEvent], now: dt.datetime) -> dict[str, int]:
    """Settle the events' payments that are pending for the amount and currency the event says: their
    public id -> their order's id. One statement on PostgreSQL."""
    if not events:
        return {}
    if dialect_of(session) == "postgresql":
        columns = {
            "pids": [e.payment_id for e in events],
            "amts": [e.amount_minor for e in events],
            "curs": [e.currency for e in events],
            "tos": ["succeeded" if e.succeeded else "failed" for e in events],
            "whys": [e.reason for e in events],
            "at": now,
        }
        return {pid: order_id for pid, order_id in session.execute(_CLAIM_PAYMENTS, columns)}
    claimed = {}
    for e in events:
        outcome = {
            "pid": e.payment_id,
            "amt": e.amount_minor,
            "cur": e.currency,
            "to": "succeeded" if e.succeeded else "failed",
            "why": e.reason,
            "at": now,
        }
        row = session.execute(_CLAIM_PAYMENT, outcome).first()
        if row is not None:
            claimed[row.public_id] = row.order_id
    return claimed


def _mark_paid(session: Session, orders: Sequence[Order], now: dt.datetime) -> None:
    """Placed -> paid for orders this transaction locked, in one compare-and-set."""
    if not orders:
        return
    changed = session.execute(
        update(Order)
        .where(Order.id.in_([o.id for o in orders]), Order.status == "placed")
        .values(status="paid", updated_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount  # type: ignore[attr-defined]
    if changed != len(orders):  # they are locked: only a bug gets here
        raise RuntimeError(f"{len(orders)} locked orders to mark paid, {changed} were placed")
    for order in orders:
        set_committed_value(order, "status", "paid")
        set_committed_value(order, "updated_at", now)


def receive_webhook(
    db: Database,
    secrets: Sequence[str],
    tolerance_s: int,
    body: bytes,
    signature: str | None,
    now: dt.datetime,
) -> str:
    """Verify a provider's signed event (with any of the secrets in force), then apply it in a
    transaction of its own."""
    verify(secrets, body, signature, time.time(), tolerance_s)
    with db.transaction() as session:
        return handle_payment_event(session, body, now)


def _unclaimed(session: Session, event: PaymentEvent) -> str:
    """Why an event claimed no pending payment: unknown, already settled, or not what was asked for."""
    payment = by_public_id(session, Payment, event.payment_id, "payment")
    if payment.status == "pending":
        raise ValidationFailed(
            f"the event is for {event.amount_minor} {event.currency}, the payment for"
            f" {payment.amount_minor} {payment.currency}; nothing was applied",
            [FieldError("amount_minor", "does not match the payment")],
        )
    return "duplicate"


def _on_paid(session: Session, order: Order, payment_id: str, now: dt.datetime) -> str:
    # The order row is locked, and the sweeper expires reservations only together with cancelling the
    # order under that lock: a placed order therefore still holds all its reservations.
    if order.status == "placed" and inventory.settle(session, order.public_id, "confirmed"):
        _set_status(session, order, "paid", now)
        record_event(session, DomainEvent("order.paid", order.public_id, {"payment": payment_id}), now)
        return "paid"
    # The money arrived after the order was cancelled or its reservation expired: give it back.
    _refund(session, order, order.total_minor - order.refunded_minor, "payment after cancellation", now)
    return "refunded"


def _set_status(session: Session, order: Order, status: str, now: dt.datetime, **columns: Any) -> None:
    """Compare-and-set on the status; the session's copy of the order is updated in place."""
    values = {"status": status, "updated_at": now, **columns}
    changed = session.execute(
        update(Order).where(Order.id == order.id, Order.status == order.status).values(**values),
        # Not the ORM's own synchronisation: it checks every order the session holds, so a sweep of a
        # batch of orders would cost the square of the batch. This order is the only one that changed.
        execution_options={"synchronize_session": False},
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise Conflict("the order changed meanwhile; try again", code="concurrent-update")
    for key, value in values.items():
        set_committed_value(order, key, value)


def _cancel_placed(session: Session, order: Order, reason: str, outcome: str, now: dt.datetime) -> bool:
    if order.status != "placed":
        return False
    inventory.settle(session, order.public_id, outcome)
    _set_status(session, order, next_status("cancel", order.status), now, cancel_reason=reason)
    record_event(session, DomainEvent("order.cancelled", order.public_id, {"reason": reason}), now)
    return True


def require_actor(principal: Principal, action: str) -> None:
    """A 422 for no such action, a 403 for a role that may not ask for it (before any order is looked
    up, so the answer is the same for every order)."""
    if action not in ACTORS:
        raise ValidationFailed(
            f"unknown action {action!r}", [FieldError("action", ", ".join(sorted(ACTORS)))]
        )
    if principal.role not in ACTORS[action]:
        raise Forbidden(f"a {principal.role} cannot {action.replace('_', ' ')} an order")


def transition(session: Session, principal: Principal, order_id: str, action: str, now: dt.datetime) -> Order:
    require_actor(principal, action)
    order = get_order(session, order_id, principal, for_update=True)
    if action == "cancel":
        return _cancel(session, order, principal, now)
    new_status = next_status(action, order.status)
    if action == "receive_return":
        inventory.restock_order(session, order.public_id)
    _set_status(session, order, new_status, now)
    record_event(session, DomainEvent(f"order.{new_status}", order.public_id, {"by": principal.role}), now)
    return order


def _cancel(session: Session, order: Order, principal: Principal, now: dt.datetime) -> Order:
    next_status("cancel", order.status)  # raises 409 for anything past `paid`
    if order.status == "placed":
        _cancel_placed(session, order, f"cancelled_by_{principal.role}", "released", now)
        return order
    # Paid but not yet picked: the goods go back on the shelf and the money back to the buyer.
    inventory.restock_order(session, order.public_id)
    _set_status(session, order, "cancelled", now, cancel_reason=f"cancelled_by_{principal.role}")
    record_event(
        session, DomainEvent("order.cancelled", order.public_id, {"reason": order.cancel_reason}), now
    )
    _refund(session, order, order.total_minor - order.refunded_minor, "order cancelled", now)
    return order


def require_refunder(principal: Principal) -> None:
    """Refunds are issued by the seller or an operator (a buyer asks for a return): a 403 for any other
    role, decided before the order is looked up, as `Principal.require` does."""
    if principal.role not in ("seller", "operator"):
        raise Forbidden("refunds are issued by the seller or an operator")


def refund(
    session: Session, principal: Principal, order_id: str, amount_minor: int, reason: str, now: dt.datetime
) -> Refund:
    require_refunder(principal)
    order = get_order(session, order_id, principal, for_update=True)
    captured = session.scalar(
        select(Payment.id).where(Payment.order_id == order.id, Payment.status == "succeeded").limit(1)
    )
    return _refund(session, order, amount_minor, reason, now, captured is not None)


def _refund(
    session: Session, order: Order, amount_minor: int, reason: str, now: dt.datetime, captured: bool = True
) -> Refund:
    full = check_refund(order.status, amount_minor, order.total_minor, order.refunded_minor, captured)
    was = order.refunded_minor  # the update below changes the loaded order too
    # Conditional on the refunded total, so two refunds racing cannot give back more than was paid.
    changed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.refunded_minor + amount_minor <= Order.total_minor)
        .values(refunded_minor=Order.refunded_minor + amount_minor, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise Conflict("the order was refunded meanwhile; reload it", code="concurrent-update")
    refund_row = Refund(
        public_id=new_id("ref"), order_id=order.id, amount_minor=amount_minor, reason=reason, created_at=now
    )
    session.add(refund_row)
    if full and order.status != "cancelled":
        _set_status(session, order, "refunded", now)
    payload = {"amount_minor": amount_minor, "currency": order.currency, "full": full, "reason": reason}
    record_event(session, DomainEvent("order.refunded", order.public_id, payload), now)
    before = {"refunded_minor": was, "currency": order.currency}
    after = before | {"refunded_minor": was + amount_minor, "refund": refund_row.public_id, "reason": reason}
    audit.record(session, "order.refunded", order.public_id, before, after, now)
    session.flush()
    return refund_row


def reconcile_payments(db: Database, provider: PaymentProvider, due: Due, batch: int = 500) -> Reconciled:
    """Ask the provider about the pending payments `due` says, and settle each decided one as its webhook
    would (paid; declined and its stock released; or refunded if the order was cancelled meanwhile), in
    a transaction of its own. A webhook landing at the same time makes one of the two a duplicate."""
    with db.transaction() as session:
        pending = reconciliation.pending_payments(session, due, batch)
    done = reconciliation.Reconciled(asked=len(pending))
    for payment in pending:
        event = reconciliation.settlement(provider, payment, due.now)
        if event is None:
            done.left += 1
            continue
        try:
            with db.transaction() as session:
                done.count(handle_payment_event(session, event, due.now))
        except DomainError:  # e.g. the provider's amount is not the payment's: an operator must look
            log.exception("payment %s could not be settled from the provider's answer", payment.payment_ref)
            done.left += 1
    return done


def expire_overdue(db: Database, provider: PaymentProvider, now: dt.datetime, batch: int = 500) -> int:
    """Cancel placed orders whose reservation ran out and give their stock back.

    First the provider is asked about every payment of an overdue order still pending, and each decided
    one is settled (`reconcile_payments`): an order is never cancelled for non-payment while its payment
    may have succeeded. An order with a payment still pending after that (the provider has not decided,
    or could not answer) is left for the next round.

    SKIP LOCKED lets several sweepers (one per API worker) share the work without waiting on each
    other or on a webhook that is paying one of these orders right now.
    """
    reconcile_payments(db, provider, reconciliation.Due.overdue(now), batch)
    payment_pending = (
        select(Payment.id).where(Payment.order_id == Order.id, Payment.status == "pending").exists()
    )
    query = (
        select(Order)
        .where(Order.status == "placed", Order.reservation_expires_at <= now, ~payment_pending)
        .order_by(Order.reservation_expires_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    expired = 0
    with db.transaction() as session:
        for order in session.scalars(query).all():
            expired += _cancel_placed(session, order, "reservation_expired", "expired", now)
    return expired


def next_actions(order: Order, now: dt.datetime) -> list[str]:
    """What a client may ask for next, as the API spells it (`POST /orders/{id}/<action>`)."""
    actions = [action for action in ACTORS if order.status in TRANSITIONS[action]]
    if order.status == "placed" and now < order.reservation_expires_at:
        actions.append("pay")
    if order.status in REFUNDABLE - {"cancelled"} and order.refunded_minor < order.total_minor:
        actions.append("refunds")
    return sorted(a.replace("_", "-") for a in actions)


@dataclass(frozen=True)
class ParcelsMoved:
    """Logistics said an order's parcels reached a milestone (`shipped` or `delivered`) at `at`."""

    order_ref: str
    milestone: str
    at: dt.datetime


def follow_shipping(session: Session, order_ref: str, milestone: str, now: dt.datetime) -> str:
    """Move an order along as its parcels move: `shipped` when a parcel is on its way, `delivered` when
    the last one arrives (`domain.follow_parcels`). Returns the order's status afterwards."""
    return follow_shipping_many(session, [ParcelsMoved(order_ref, milestone, now)])[order_ref]


def follow_shipping_many(session: Session, moves: Sequence[ParcelsMoved]) -> dict[str, str]:
    """Many orders moved along at once, in the order given (an order may move twice: shipped, then
    delivered): the orders read and locked in one statement (in id order, so two batches never wait on
    each other crosswise), their new statuses written in one and an event for each step in one. An order
    that is not stored raises NotFound and nothing is written. Returns each order's status afterwards."""
    orders = _orders_locked(session, sorted({m.order_ref for m in moves}))
    before = {ref: order.status for ref, order in orders.items()}
    status, stamped, steps = dict(before), {}, []
    for move in moves:
        for new_status in follow_parcels(status[move.order_ref], move.milestone):
            steps.append((DomainEvent(f"order.{new_status}", move.order_ref, {"by": "logistics"}), move.at))
            status[move.order_ref], stamped[move.order_ref] = new_status, move.at
    _set_statuses(session, [(orders[ref], before[ref], status[ref], at) for ref, at in stamped.items()])
    record_timed_events(session, steps)
    return status


def _orders_locked(session: Session, refs: list[str]) -> dict[str, Order]:
    found = session.scalars(
        select(Order).where(Order.public_id.in_(refs)).order_by(Order.id).with_for_update()
    ).all()
    orders = {order.public_id: order for order in found}
    missing = next((ref for ref in refs if ref not in orders), None)
    if missing is not None:
        raise not_found("order", missing)
    return orders


_SET_STATUS = (
    update(table_of(Order))
    .where(table_of(Order).c.id == bindparam("order_id"), table_of(Order).c.status == bindparam("was"))
    .values(status=bindparam("status"), updated_at=bindparam("at"))
)


def _set_statuses(session: Session, changes: list[tuple[Order, str, str, dt.datetime]]) -> None:
    """`_set_status` for many orders, locked by the caller, in one round trip."""
    if not changes:
        return
    rows = [{"order_id": o.id, "was": was, "status": new, "at": at} for o, was, new, at in changes]
    session.execute(_SET_STATUS, rows, execution_options={"synchronize_session": False})
    for order, _, new_status, at in changes:
        set_committed_value(order, "status", new_status)
        set_committed_value(order, "updated_at", at)
