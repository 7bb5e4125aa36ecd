"""Pure rules of ordering: the order state machine, pricing a quote, and request fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from entrepot.kernel.errors import FieldError, InvalidTransition, ValidationFailed
from entrepot.kernel.money import Money, round_half_up

# action -> {from status: to status}. Anything not listed is impossible and gets 409.
TRANSITIONS: dict[str, dict[str, str]] = {
    "pay": {"placed": "paid"},
    "decline": {"placed": "cancelled"},
    "expire": {"placed": "cancelled"},
    "cancel": {"placed": "cancelled", "paid": "cancelled"},
    "fulfil": {"paid": "fulfilled"},
    "ship": {"fulfilled": "shipped"},
    "deliver": {"shipped": "delivered"},
    "complete": {"delivered": "completed"},
    "request_return": {"delivered": "return_requested", "completed": "return_requested"},
    "receive_return": {"return_requested": "returned"},
}
REFUNDABLE = frozenset(
    {"paid", "fulfilled", "shipped", "delivered", "completed", "return_requested", "returned", "cancelled"}
)
# Which roles may ask for an action through the API (operators may do everything).
ACTORS: dict[str, frozenset[str]] = {
    "cancel": frozenset({"buyer", "seller", "operator"}),
    "fulfil": frozenset({"seller", "operator"}),
    "ship": frozenset({"seller", "operator"}),
    "deliver": frozenset({"seller", "operator"}),
    "complete": frozenset({"buyer", "operator"}),
    "request_return": frozenset({"buyer", "operator"}),
    "receive_return": frozenset({"seller", "operator"}),
}


# The steps an order takes, as far as they are not taken yet, when its parcels reach a milestone: a seller
# who never pressed 'fulfil' does not hold back an order whose parcel is already moving.
SHIPPING_STEPS: dict[str, tuple[str, ...]] = {
    "shipped": ("fulfil", "ship"),
    "delivered": ("fulfil", "ship", "deliver"),
}


def follow_parcels(status: str, milestone: str) -> list[str]:
    """The statuses an order in `status` passes through when its parcels reach `milestone` (`shipped`:
    one is on its way; `delivered`: the last arrived), in order; none for an order already past it or
    cancelled."""
    passed: list[str] = []
    for action in SHIPPING_STEPS[milestone]:
        if status in TRANSITIONS[action]:
            status = TRANSITIONS[action][status]
            passed.append(status)
    return passed


def next_status(action: str, status: str) -> str:
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise ValidationFailed(f"unknown action {action!r}", [FieldError("action", "not an order action")])
    if status not in allowed:
        raise InvalidTransition(
            f"cannot {action.replace('_', ' ')} an order that is {status.replace('_', ' ')}",
            order_status=status,
            allowed_from=sorted(allowed),
        )
    return allowed[status]


def check_refund(
    status: str, amount_minor: int, total_minor: int, refunded_minor: int, captured: bool = True
) -> bool:
    """Validate a refund; True when it refunds the order in full. Only money taken can be given back."""
    if not captured:
        raise InvalidTransition(
            "nothing was paid for this order, so there is nothing to refund", order_status=status
        )
    if status not in REFUNDABLE:
        raise InvalidTransition(f"cannot refund an order that is {status}", order_status=status)
    if amount_minor <= 0:
        raise ValidationFailed("invalid refund", [FieldError("amount_minor", "must be positive")])
    remaining = total_minor - refunded_minor
    if status == "cancelled" and refunded_minor == 0 and amount_minor != remaining:
        raise ValidationFailed("a cancelled order is refunded in full")
    if amount_minor > remaining:
        raise ValidationFailed(
            f"refund exceeds the {remaining} minor units left to refund",
            [FieldError("amount_minor", f"at most {remaining}")],
        )
    return amount_minor == remaining


@dataclass(frozen=True)
class MarketTerms:
    country: str
    currency: str
    tax_rate: Decimal
    prices_include_tax: bool
    shipping_domestic_minor: int
    shipping_cross_border_minor: int


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price_minor: int
    commission_rate: Decimal
    warehouse: str
    warehouse_country: str


@dataclass(frozen=True)
class QuotedLine:
    line: PricedLine
    line_total: Money
    tax: Money
    commission: Money
    cross_border: bool


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: list[QuotedLine]
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money
    commission: Money
    parcels: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cross_border(self) -> bool:
        return any(q.cross_border for q in self.lines)


def tax_in(amount: Money, rate: Decimal, inclusive: bool) -> Money:
    """The tax part of a tax-inclusive amount, or the tax due on top of a tax-exclusive one."""
    if inclusive:
        return Money(amount.minor - round_half_up(Decimal(amount.minor) / (1 + rate)), amount.currency)
    return amount.share(rate)


def price_quote(
    terms: MarketTerms, lines: list[PricedLine], parcel_fees: tuple[int, ...] | None = None
) -> Quote:
    """Line prices, tax per market, and a shipping fee per parcel (one per warehouse): the delivery
    option's fee for each parcel when given (in the order warehouses first appear), else the flat
    zone fee."""
    currency = terms.currency
    quoted = []
    for line in lines:
        total = Money(line.unit_price_minor, currency).times(line.quantity)
        quoted.append(
            QuotedLine(
                line,
                total,
                tax_in(total, terms.tax_rate, terms.prices_include_tax),
                total.share(line.commission_rate),
                line.warehouse_country != terms.country,
            )
        )
    parcels = _parcels(terms, lines, parcel_fees)
    shipping = Money(sum(p["fee_minor"] for p in parcels), currency)
    shipping_tax = tax_in(shipping, terms.tax_rate, terms.prices_include_tax)
    subtotal = Money(sum(q.line_total.minor for q in quoted), currency)
    tax = Money(sum(q.tax.minor for q in quoted) + shipping_tax.minor, currency)
    total = subtotal + shipping + (Money.zero(currency) if terms.prices_include_tax else tax)
    commission = Money(sum(q.commission.minor for q in quoted), currency)
    return Quote(currency, quoted, subtotal, shipping, tax, total, commission, parcels)


def zone_fee(terms: MarketTerms, warehouse_country: str) -> int:
    domestic = warehouse_country == terms.country
    return terms.shipping_domestic_minor if domestic else terms.shipping_cross_border_minor


def _parcels(
    terms: MarketTerms, lines: list[PricedLine], fees: tuple[int, ...] | None
) -> list[dict[str, Any]]:
    by_warehouse: dict[str, str] = {}
    for line in lines:
        by_warehouse[line.warehouse] = line.warehouse_country
    if fees is not None and len(fees) != len(by_warehouse):
        raise ValueError(f"{len(fees)} parcel fees for {len(by_warehouse)} parcels")
    parcels = []
    for index, (warehouse, country) in enumerate(by_warehouse.items()):
        domestic = country == terms.country
        fee = zone_fee(terms, country) if fees is None else fees[index]
        parcels.append(
            {"warehouse": warehouse, "zone": "domestic" if domestic else "cross_border", "fee_minor": fee}
        )
    return parcels
