"""Ordering rules: the state machine, refunds, pricing a quote, and request fingerprints."""

from __future__ import annotations

import hashlib
import itertools
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import InvalidTransition, ValidationFailed
from entrepot.kernel.idempotency import IdempotencyKeyReused, request_fingerprint
from entrepot.kernel.money import Money
from entrepot.ordering.domain import (
    REFUNDABLE,
    TRANSITIONS,
    MarketTerms,
    PricedLine,
    check_refund,
    next_status,
    price_quote,
    tax_in,
)

# Every status an order can be in: the ones the table mentions plus "refunded", which the service sets
# after a full refund and from which no action leads anywhere.
STATUSES = sorted(
    {s for moves in TRANSITIONS.values() for pair in moves.items() for s in pair} | REFUNDABLE | {"refunded"}
)


def test_statuses_are_the_expected_lifecycle() -> None:
    assert set(STATUSES) == {
        "placed",
        "paid",
        "cancelled",
        "fulfilled",
        "shipped",
        "delivered",
        "completed",
        "return_requested",
        "returned",
        "refunded",
    }


@pytest.mark.parametrize(
    ("action", "status", "target"),
    [
        ("pay", "placed", "paid"),
        ("decline", "placed", "cancelled"),
        ("expire", "placed", "cancelled"),
        ("cancel", "placed", "cancelled"),
        ("cancel", "paid", "cancelled"),
        ("fulfil", "paid", "fulfilled"),
        ("ship", "fulfilled", "shipped"),
        ("deliver", "shipped", "delivered"),
        ("complete", "delivered", "completed"),
        ("request_return", "delivered", "return_requested"),
        ("request_return", "completed", "return_requested"),
        ("receive_return", "return_requested", "returned"),
    ],
)
def test_every_listed_move_works(action: str, status: str, target: str) -> None:
    assert TRANSITIONS[action][status] == target
    assert next_status(action, status) == target


def test_the_table_lists_exactly_the_moves_above() -> None:
    assert sum(len(moves) for moves in TRANSITIONS.values()) == 12


UNLISTED = [
    (action, status)
    for action, status in itertools.product(sorted(TRANSITIONS), STATUSES)
    if status not in TRANSITIONS[action]
]


@pytest.mark.parametrize(("action", "status"), UNLISTED)
def test_every_unlisted_move_is_an_invalid_transition(action: str, status: str) -> None:
    with pytest.raises(InvalidTransition) as info:
        next_status(action, status)
    error = info.value
    assert error.status == 409
    assert error.code == "invalid-transition"
    assert error.extra == {"order_status": status, "allowed_from": sorted(TRANSITIONS[action])}
    assert error.detail == f"cannot {action.replace('_', ' ')} an order that is {status.replace('_', ' ')}"


def test_unlisted_moves_are_numerous() -> None:
    assert len(UNLISTED) == len(TRANSITIONS) * len(STATUSES) - 12 == 88


def test_unknown_action_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        next_status("teleport", "placed")
    assert [e.field for e in info.value.field_errors] == ["action"]


def test_cancelled_and_returned_are_terminal() -> None:
    for status in ("cancelled", "returned", "refunded"):
        for action in TRANSITIONS:
            with pytest.raises(InvalidTransition):
                next_status(action, status)


# -- refunds ---------------------------------------------------------------------------------------


def test_partial_then_full_refund() -> None:
    assert check_refund("delivered", 300, 1000, 0) is False
    assert check_refund("delivered", 700, 1000, 300) is True
    assert check_refund("paid", 1000, 1000, 0) is True


@pytest.mark.parametrize("amount", [0, -1])
def test_refund_must_be_positive(amount: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_refund("paid", amount, 1000, 0)
    assert [e.field for e in info.value.field_errors] == ["amount_minor"]


def test_refund_cannot_exceed_what_is_left() -> None:
    with pytest.raises(ValidationFailed) as info:
        check_refund("shipped", 701, 1000, 300)
    assert "700" in info.value.detail
    assert [(e.field, e.message) for e in info.value.field_errors] == [("amount_minor", "at most 700")]
    with pytest.raises(ValidationFailed):
        check_refund("returned", 1, 1000, 1000)


def test_placed_order_cannot_be_refunded() -> None:
    with pytest.raises(InvalidTransition):
        check_refund("placed", 100, 1000, 0)
    with pytest.raises(InvalidTransition):
        check_refund("refunded", 100, 1000, 0)


@pytest.mark.parametrize("status", sorted(REFUNDABLE))
def test_every_refundable_status_accepts_a_full_refund(status: str) -> None:
    assert check_refund(status, 1000, 1000, 0) is True


def test_cancelled_order_is_refunded_in_full() -> None:
    with pytest.raises(ValidationFailed, match="refunded in full"):
        check_refund("cancelled", 999, 1000, 0)
    assert check_refund("cancelled", 1000, 1000, 0) is True
    # after a partial refund while paid, the cancellation refunds exactly what is left
    assert check_refund("cancelled", 600, 1000, 400) is True


@given(
    total=st.integers(min_value=1, max_value=10**9),
    data=st.data(),
)
def test_refunds_never_exceed_the_total(total: int, data: st.DataObject) -> None:
    refunded = 0
    for amount in data.draw(st.lists(st.integers(min_value=-5, max_value=total + 5), max_size=10)):
        remaining = total - refunded
        if amount <= 0 or amount > remaining:
            with pytest.raises(ValidationFailed):
                check_refund("delivered", amount, total, refunded)
            continue
        full = check_refund("delivered", amount, total, refunded)
        refunded += amount
        assert full == (refunded == total)
        assert refunded <= total


# -- pricing ---------------------------------------------------------------------------------------


def _line(sku: str, qty: int, unit: int, commission: str, warehouse: str, country: str) -> PricedLine:
    return PricedLine(sku, qty, unit, Decimal(commission), warehouse, country)


SG = MarketTerms("SG", "SGD", Decimal("0.09"), True, 399, 1299)
US = MarketTerms("US", "USD", Decimal("0.0725"), False, 500, 1500)


def test_tax_inclusive_quote_by_hand() -> None:
    lines = [
        _line("mug", 2, 1290, "0.10", "wh-sg", "SG"),
        _line("lamp", 1, 4990, "0.08", "wh-kl", "MY"),
        _line("card", 1, 1000, "0.125", "wh-sg", "SG"),
    ]
    quote = price_quote(SG, lines)
    # line totals: 2 x 1290 = 2580; 4990; 1000 -> subtotal 8570
    assert [q.line_total.minor for q in quote.lines] == [2580, 4990, 1000]
    assert quote.subtotal == Money(8570, "SGD")
    # GST inside the price: tax = amount - round(amount / 1.09)
    #   2580 / 1.09 = 2366.97 -> 2367, tax 213
    #   4990 / 1.09 = 4577.98 -> 4578, tax 412
    #   1000 / 1.09 =  917.43 ->  917, tax  83
    assert [q.tax.minor for q in quote.lines] == [213, 412, 83]
    # commission: 2580 x 0.10 = 258; 4990 x 0.08 = 399.2 -> 399; 1000 x 0.125 = 125 -> 782
    assert [q.commission.minor for q in quote.lines] == [258, 399, 125]
    assert quote.commission == Money(782, "SGD")
    # two parcels: wh-sg domestic 399 + wh-kl cross-border 1299 = 1698
    assert quote.shipping == Money(1698, "SGD")
    # GST inside shipping: 1698 / 1.09 = 1557.80 -> 1558, tax 140; total tax 213 + 412 + 83 + 140 = 848
    assert quote.tax == Money(848, "SGD")
    # prices include tax: total = subtotal + shipping = 8570 + 1698
    assert quote.total == Money(10268, "SGD")
    assert [q.cross_border for q in quote.lines] == [False, True, False]
    assert quote.cross_border is True
    assert quote.currency == "SGD"


def test_tax_exclusive_quote_by_hand() -> None:
    lines = [
        _line("tee", 3, 1999, "0.15", "wh-nj", "US"),
        _line("pin", 1, 365, "0.10", "wh-nj", "US"),
    ]
    quote = price_quote(US, lines)
    # line totals 5997 and 365 -> subtotal 6362
    assert quote.subtotal == Money(6362, "USD")
    # sales tax on top, half up: 5997 x 0.0725 = 434.7825 -> 435; 365 x 0.0725 = 26.4625 -> 26
    assert [q.tax.minor for q in quote.lines] == [435, 26]
    # commission: 5997 x 0.15 = 899.55 -> 900; 365 x 0.10 = 36.5 -> 37 (half up; half-even gives 36)
    assert [q.commission.minor for q in quote.lines] == [900, 37]
    assert quote.commission == Money(937, "USD")
    # one warehouse, domestic: 500; its tax 500 x 0.0725 = 36.25 -> 36; total tax 435 + 26 + 36 = 497
    assert quote.shipping == Money(500, "USD")
    assert quote.tax == Money(497, "USD")
    # total = 6362 + 500 + 497
    assert quote.total == Money(7359, "USD")
    assert quote.cross_border is False


def test_zero_decimal_currency_quote() -> None:
    vn = MarketTerms("VN", "VND", Decimal("0.10"), True, 30000, 120000)
    quote = price_quote(vn, [_line("phone-case", 2, 149000, "0.05", "wh-hcm", "VN")])
    # 298000 inclusive of 10 % VAT: 298000 / 1.1 = 270909.09 -> 270909, tax 27091
    # shipping 30000 / 1.1 = 27272.73 -> 27273, tax 2727; total tax 29818
    assert quote.lines[0].tax == Money(27091, "VND")
    assert quote.tax == Money(29818, "VND")
    assert quote.total == Money(328000, "VND")
    assert quote.commission == Money(14900, "VND")


def test_tax_in() -> None:
    assert tax_in(Money(109, "SGD"), Decimal("0.09"), True) == Money(9, "SGD")
    assert tax_in(Money(100, "SGD"), Decimal("0.09"), False) == Money(9, "SGD")
    assert tax_in(Money(1000, "SGD"), Decimal(0), True) == Money(0, "SGD")


def test_one_shipping_fee_per_distinct_warehouse_by_zone() -> None:
    lines = [
        _line("a", 1, 100, "0", "wh-sg-1", "SG"),
        _line("b", 1, 100, "0", "wh-kl", "MY"),
        _line("c", 1, 100, "0", "wh-sg-1", "SG"),
        _line("d", 1, 100, "0", "wh-sg-2", "SG"),
        _line("e", 1, 100, "0", "wh-kl", "MY"),
    ]
    quote = price_quote(SG, lines)
    assert quote.parcels == [
        {"warehouse": "wh-sg-1", "zone": "domestic", "fee_minor": 399},
        {"warehouse": "wh-kl", "zone": "cross_border", "fee_minor": 1299},
        {"warehouse": "wh-sg-2", "zone": "domestic", "fee_minor": 399},
    ]
    assert quote.shipping == Money(399 + 1299 + 399, "SGD")


def test_empty_quote_is_zero() -> None:
    quote = price_quote(US, [])
    assert (quote.subtotal, quote.shipping, quote.tax, quote.total) == (Money(0, "USD"),) * 4
    assert quote.parcels == []


@given(
    lines=st.lists(
        st.builds(
            PricedLine,
            sku=st.sampled_from(["a", "b", "c"]),
            quantity=st.integers(min_value=1, max_value=50),
            unit_price_minor=st.integers(min_value=1, max_value=10**7),
            commission_rate=st.decimals(min_value=0, max_value=Decimal("0.5"), places=3),
            warehouse=st.sampled_from(["w1", "w2", "w3", "w4"]),
            warehouse_country=st.sampled_from(["SG", "MY"]),
        ),
        max_size=8,
    ),
    inclusive=st.booleans(),
    rate=st.decimals(min_value=0, max_value=Decimal("0.27"), places=4),
)
def test_quote_totals_add_up(lines: list[PricedLine], inclusive: bool, rate: Decimal) -> None:
    terms = MarketTerms("SG", "SGD", rate, inclusive, 399, 1299)
    quote = price_quote(terms, lines)
    assert quote.subtotal.minor == sum(line.quantity * line.unit_price_minor for line in lines)
    assert len(quote.parcels) == len({line.warehouse for line in lines})
    extra_tax = 0 if inclusive else quote.tax.minor
    assert quote.total.minor == quote.subtotal.minor + quote.shipping.minor + extra_tax
    assert 0 <= quote.tax.minor <= quote.subtotal.minor + quote.shipping.minor
    assert 0 <= quote.commission.minor <= quote.subtotal.minor


# -- fingerprints ----------------------------------------------------------------------------------


def test_fingerprint_independent_of_key_order() -> None:
    a = {"market": "lazada-sg", "lines": [{"sku": "X", "quantity": 2}], "buyer": {"id": "byr_1", "vip": True}}
    b = {"buyer": {"vip": True, "id": "byr_1"}, "lines": [{"quantity": 2, "sku": "X"}], "market": "lazada-sg"}
    assert request_fingerprint(a) == request_fingerprint(b)
    # the SHA-256 of the canonical JSON (keys sorted, no spaces), in lower-case hex
    canonical = b'{"buyer":{"id":"byr_1","vip":true},"lines":[{"quantity":2,"sku":"X"}],"market":"lazada-sg"}'
    assert request_fingerprint(a) == hashlib.sha256(canonical).hexdigest()


def test_fingerprint_changes_with_content() -> None:
    base = {"sku": "X", "quantity": 2}
    assert request_fingerprint(base) != request_fingerprint({"sku": "X", "quantity": 3})
    assert request_fingerprint(base) != request_fingerprint({"sku": "X", "qty": 2})
    # list order is meaningful
    assert request_fingerprint({"l": [1, 2]}) != request_fingerprint({"l": [2, 1]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=15,
)


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


@given(body=st.dictionaries(st.text(max_size=8), json_values, max_size=6), seed=st.randoms())
def test_fingerprint_ignores_key_order_at_every_level(body: dict[str, Any], seed: random.Random) -> None:
    shuffled_items = list(body.items())
    seed.shuffle(shuffled_items)
    assert request_fingerprint(dict(shuffled_items)) == request_fingerprint(body)
    assert request_fingerprint(_reversed_keys(body)) == request_fingerprint(body)


def test_idempotency_key_reused_problem() -> None:
    error = IdempotencyKeyReused()
    assert (error.status, error.code) == (422, "idempotency-key-reused")
    assert [e.field for e in error.field_errors] == ["Idempotency-Key"]


def test_nothing_paid_means_nothing_to_refund() -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_refund("cancelled", 1000, 1000, 0, captured=False)
    assert "nothing was paid" in refused.value.detail
    assert check_refund("cancelled", 1000, 1000, 0, captured=True) is True
