"""Placing orders: N orders in ONE transaction, each with its own answer; a single order is a batch of one.

`place_orders` claims the batch's Idempotency-Keys in one statement, prices every basket from one read
of the batch's markets, prices, commissions and stock (`checkout.price_baskets`), reserves every line
with set-based conditional updates (`inventory.allocation`: next-best warehouse when a faster buyer took
the stock, never read-then-write), then writes the orders, their lines, reservations, `order.placed`
events and pending payments a statement per table for the whole batch. A request that is refused (its
basket, its stock, its delivery option) fails alone, with the precise problem a single checkout gives:
its key claim is withdrawn and any units it held are given back in the same transaction, so it leaves
nothing behind, as a rolled-back single checkout would not.

The same key twice in one batch: the batch runs in waves in which every (caller, key) appears once, the
later waves in the same transaction seeing the earlier waves' claims, as sequential requests would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from entrepot.inventory import allocation
from entrepot.inventory import service as inventory
from entrepot.inventory.domain import Candidate
from entrepot.kernel.errors import DomainError, InsufficientStock
from entrepot.kernel.fx import FxRates
from entrepot.kernel.idempotency import IdempotencyKeyReused
from entrepot.kernel.ids import new_id
from entrepot.ordering import service as ordering
from entrepot.ordering.checkout import (
    Basket,
    Limits,
    OrderHead,
    PayNow,
    Placed,
    Priced,
    Promise,
    line_row,
    options_for,
    order_row,
    price_baskets,
    quote_with,
)
from entrepot.ordering.domain import Quote
from entrepot.ordering.models import IdempotencyKey, Order, OrderLine, Payment
from entrepot.ordering.payments import WebhookDelivery
from entrepot.ordering.queries import OrderDetail, order_details
from entrepot.ordering.shipping import OPTION_IDS, FlatZoneRates, ShippingRates, UnknownDeliveryOption, pick
from entrepot.organization import service as organization
from entrepot.organization.domain import local_date
from entrepot.platform.db import (
    as_read,
    insert_many,
    insert_many_returning_ids,
    insert_many_skipping,
    record_events,
    table_of,
)
from entrepot.platform.logs import current_request_id
from entrepot.platform.principal import Principal

# Statements of the hot path, built once (see inventory.service for why).
_KEYS = table_of(IdempotencyKey)
_ORDERS = table_of(Order)
_LINES = table_of(OrderLine)


@dataclass(frozen=True)
class PlaceRequest:
    """One order to place: who asks, the basket, its Idempotency-Key and the fingerprint of its body."""

    principal: Principal
    basket: Basket
    idempotency_key: str
    fingerprint: str
    pay_now: PayNow | None = None
    delivery_option: str | None = None  # an option's id; the default one when None
    # the request asking, taken where the request is made (its answer's X-Request-Id): the batch that
    # places it answers many requests, so its events name each order's own
    request_id: str | None = field(default_factory=current_request_id)

    @property
    def claim(self) -> tuple[str, str]:
        return (self.principal.subject, self.idempotency_key)


Outcome = Placed | DomainError


@dataclass(frozen=True)
class Placing:
    """What every order of a batch is placed with."""

    limits: Limits
    fx: FxRates
    now: dt.datetime
    rates: ShippingRates


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
    """Place one order (a batch of one) with the delivery option asked for (by id), else the default
    one; its problem is raised, and the caller's transaction rolling back changes nothing. Without
    `rates`, the market's flat zone fees."""
    request = PlaceRequest(principal, basket, idempotency_key, fingerprint, pay_now, delivery_option)
    [outcome] = place_orders(session, [request], Placing(limits, fx, now, rates or FlatZoneRates()))
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def place_orders(session: Session, requests: Sequence[PlaceRequest], placing: Placing) -> list[Outcome]:
    """Place every request of the batch in the caller's transaction (see the module's note); one outcome
    per request, in order: the order placed (or replayed), or the problem that refused it."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    for wave in _waves(requests):
        for index, outcome in zip(
            wave, _place_wave(session, [requests[i] for i in wave], placing), strict=True
        ):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _waves(requests: Sequence[PlaceRequest]) -> list[list[int]]:
    """Indexes of the requests by wave: the n-th request with a (caller, key) goes in wave n."""
    seen: Counter[tuple[str, str]] = Counter()
    waves: list[list[int]] = []
    for index, request in enumerate(requests):
        wave = seen[request.claim]
        seen[request.claim] += 1
        if wave == len(waves):
            waves.append([])
        waves[wave].append(index)
    return waves


@dataclass
class _New:
    """A request whose key this batch claimed, on its way to becoming an order."""

    index: int
    request: PlaceRequest
    order_ref: str
    priced: Priced | None = None
    chosen: list[Candidate] | None = None
    quote: Quote | None = None
    promise: Promise | None = None


def _place_wave(session: Session, requests: list[PlaceRequest], placing: Placing) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(requests)
    for i, request in enumerate(requests):
        wanted = request.delivery_option
        if wanted is not None and wanted not in OPTION_IDS:
            outcomes[i] = UnknownDeliveryOption(wanted)
    new = [_New(i, r, new_id("ord")) for i, r in enumerate(requests) if outcomes[i] is None]
    claimed = _claim_keys(session, new, placing.now)
    _answer_earlier_claims(session, [n for n in new if n.request.claim not in claimed], outcomes)
    new = [n for n in new if n.request.claim in claimed]
    _price(session, new, placing.limits, outcomes)
    _reserve(session, [n for n in new if outcomes[n.index] is None], outcomes)
    _choose_delivery(session, [n for n in new if outcomes[n.index] is None], placing, outcomes)
    placed = [n for n in new if outcomes[n.index] is None]
    failed = [n for n in new if outcomes[n.index] is not None]
    _withdraw(session, failed)
    for n, outcome in zip(placed, _write(session, placed, placing), strict=True):
        outcomes[n.index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _claim_keys(session: Session, new: list[_New], now: dt.datetime) -> set[tuple[str, str]]:
    """Insert the keys in one statement; the claims this batch won. Keys in (caller, key) order, so two
    batches that hold the same two keys wait on each other instead of deadlocking; a concurrent
    duplicate waits on the unique index until the other transaction ends."""
    if not new:
        return set()
    rows = [
        {
            "principal": n.request.principal.subject,
            "key": n.request.idempotency_key,
            "request_hash": n.request.fingerprint,
            "order_ref": n.order_ref,
            "created_at": now,
        }
        for n in sorted(new, key=lambda n: n.request.claim)
    ]
    won = insert_many_skipping(session, _KEYS, rows, ("principal", "key"), ("principal", "key"))
    return {(principal, key) for principal, key in won}


def _answer_earlier_claims(session: Session, repeats: list[_New], outcomes: list[Outcome | None]) -> None:
    """A key claimed before: the same body gets the order it placed (a replay), another body a 422."""
    if not repeats:
        return
    claims = {
        (c.principal, c.key): c
        for c in session.scalars(
            select(IdempotencyKey).where(
                tuple_(IdempotencyKey.principal, IdempotencyKey.key).in_([n.request.claim for n in repeats])
            )
        )
    }
    same = [n for n in repeats if claims[n.request.claim].request_hash == n.request.fingerprint]
    for n in repeats:
        if claims[n.request.claim].request_hash != n.request.fingerprint:
            outcomes[n.index] = IdempotencyKeyReused()
    refs = {claims[n.request.claim].order_ref for n in same}
    orders = list(session.scalars(select(Order).where(Order.public_id.in_(refs)))) if refs else []
    details = {d.order.public_id: d for d in order_details(session, orders)}
    for n in same:
        outcomes[n.index] = Placed(details[claims[n.request.claim].order_ref], replayed=True)


def _price(session: Session, new: list[_New], limits: Limits, outcomes: list[Outcome | None]) -> None:
    asks = [(n.request.principal, n.request.basket) for n in new]
    for n, priced in zip(new, price_baskets(session, asks, limits), strict=True):
        if isinstance(priced, DomainError):
            outcomes[n.index] = priced
        else:
            n.priced = priced


def _reserve(session: Session, new: list[_New], outcomes: list[Outcome | None]) -> None:
    baskets = [
        [
            allocation.LineAsk(ranked, quantity)
            for ranked, (_, quantity) in zip(_priced(n).ranked, n.request.basket.lines, strict=True)
        ]
        for n in new
    ]
    for n, allocated in zip(new, allocation.reserve_baskets(session, baskets), strict=True):
        if allocated.failed_line is not None:
            quantity = n.request.basket.lines[allocated.failed_line][1]
            outcomes[n.index] = InsufficientStock(
                f"the last units were just taken: {quantity} no longer available"
            )
        else:
            n.chosen = [c for c in allocated.taken if c is not None]


def _choose_delivery(
    session: Session, new: list[_New], placing: Placing, outcomes: list[Outcome | None]
) -> None:
    """Each order's delivery options from where its lines were reserved, the one asked for (or the
    default), and the quote priced with it; an option the basket does not have refuses the order."""
    for n in new:
        request, priced, chosen = n.request, _priced(n), _chosen(n)
        try:
            options = options_for(
                session, request.principal, priced, request.basket, chosen, placing.rates, placing.now
            )
            option = pick(options, request.delivery_option)
        except DomainError as problem:
            outcomes[n.index] = problem
            continue
        n.quote = quote_with(priced, request.basket, chosen, option)
        n.promise = Promise(option, (request.delivery_option or option.id).split("-", 1)[1])


def _withdraw(session: Session, failed: list[_New]) -> None:
    """Refused requests leave nothing: their key claims go, and the units they hold go back."""
    if not failed:
        return
    session.execute(
        delete(IdempotencyKey).where(
            tuple_(IdempotencyKey.principal, IdempotencyKey.key).in_([n.request.claim for n in failed])
        )
    )
    held = [
        (candidate.stock_id, quantity)
        for n in failed
        if n.chosen is not None
        for candidate, (_, quantity) in zip(n.chosen, n.request.basket.lines, strict=True)
    ]
    allocation.give_back(session, held)


def _write(session: Session, placed: list[_New], placing: Placing) -> list[Placed]:
    """The batch's reservations, orders, lines, events and payments: a statement per table."""
    if not placed:
        return []
    now, expires_at = placing.now, placing.now + placing.limits.reservation_ttl
    taken = [
        (n.order_ref, c.stock_id, q)
        for n in placed
        for c, (_, q) in zip(_chosen(n), n.request.basket.lines, strict=True)
    ]
    reservation_ids = iter(inventory.add_order_reservations(session, taken, expires_at, now))
    rows = _order_rows(session, placed, placing, expires_at)
    order_ids = insert_many_returning_ids(session, _ORDERS, rows)
    orders = [as_read(Order, {"id": i, **values}) for i, values in zip(order_ids, rows, strict=True)]
    lines = [_line_rows(n, order, reservation_ids) for n, order in zip(placed, orders, strict=True)]
    insert_many(session, _LINES, [row for rows_, _ in lines for row in rows_])
    placed_events = [
        (o.public_id, _placed_payload(o, _priced(n))) for n, o in zip(placed, orders, strict=True)
    ]
    asking = [n.request.request_id for n in placed]
    record_events(session, "order.placed", placed_events, now, asking)
    payments = iter(_open_payments(session, placed, orders, now))
    results = []
    for n, order, (_, shown) in zip(placed, orders, lines, strict=True):
        opened = next(payments) if n.request.pay_now is not None else None
        if isinstance(opened, DomainError):  # an order written a moment ago has no payment yet
            raise RuntimeError(f"order {order.public_id} had a payment before it was placed: {opened}")
        priced = _priced(n)
        seller = next(iter(priced.skus.values())).seller_public_id
        buyer = n.request.principal.buyer_public_id or ""
        paid = [opened[0]] if opened is not None else []
        detail = OrderDetail(order, priced.market.code, buyer, seller, shown, paid, [])
        delivery = opened[1] if opened is not None else None
        results.append(Placed(detail, replayed=False, delivery=delivery))
    return results


def _open_payments(
    session: Session, placed: list[_New], orders: list[Order], now: dt.datetime
) -> list[tuple[Payment, WebhookDelivery] | DomainError]:
    """The pending payments of the orders paid at placement, in their order: one statement and one call
    per provider (the app has one)."""
    by_provider: dict[int, list[int]] = {}
    for i, n in enumerate(placed):
        if n.request.pay_now is not None:
            by_provider.setdefault(id(n.request.pay_now.provider), []).append(i)
    opened: dict[int, tuple[Payment, WebhookDelivery] | DomainError] = {}
    for indexes in by_provider.values():
        pay = placed[indexes[0]].request.pay_now
        assert pay is not None
        asks = [(orders[i], _pay_now(placed[i]).method) for i in indexes]
        for i, answer in zip(indexes, ordering.open_payments(session, pay.provider, asks, now), strict=True):
            opened[i] = answer
    return [opened[i] for i in sorted(opened)]


def _pay_now(n: _New) -> PayNow:
    assert n.request.pay_now is not None
    return n.request.pay_now


def _order_rows(
    session: Session, placed: list[_New], placing: Placing, expires_at: dt.datetime
) -> list[dict[str, Any]]:
    rates: dict[tuple[str, dt.date], FxRates] = {}  # an operator's rate (VND) is read once per day
    rows = []
    for n in placed:
        priced = _priced(n)
        market = priced.market
        order_date = local_date(placing.now, market.time_zone)
        if (market.currency, order_date) not in rates:
            rates[market.currency, order_date] = organization.rates_for(
                session, placing.fx, market.currency, order_date
            )
        seller_id = next(iter(priced.skus.values())).seller_id
        head = OrderHead(
            n.order_ref,
            n.request.principal.buyer_id,
            seller_id,
            market.id,
            "placed",
            order_date,
            placing.now,
        )
        fx = rates[market.currency, order_date]
        rows.append(order_row(head, _quote(n), fx, n.promise, expires_at, placing.now))
    return rows


def _placed_payload(order: Order, priced: Priced) -> dict[str, Any]:
    return {"total_minor": order.total_minor, "currency": order.currency, "market": priced.market.code}


def _line_rows(
    n: _New, order: Order, reservation_ids: Iterator[int]
) -> tuple[list[dict[str, Any]], list[dict[str, object]]]:
    """The order's `order_lines` rows, and its lines as an order's detail shows them."""
    priced, quote = _priced(n), _quote(n)
    rows = [
        line_row(order.id, priced.skus[q.line.sku].sku_id, c.warehouse_id, next(reservation_ids), q)
        for q, c in zip(quote.lines, _chosen(n), strict=True)
    ]
    shown: list[dict[str, object]] = [
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
        for q in quote.lines
    ]
    return rows, shown


def _priced(n: _New) -> Priced:
    assert n.priced is not None, "priced before it is reserved"
    return n.priced


def _chosen(n: _New) -> list[Candidate]:
    assert n.chosen is not None, "reserved before its delivery is chosen"
    return n.chosen


def _quote(n: _New) -> Quote:
    assert n.quote is not None, "quoted before it is written"
    return n.quote
