"""Money: integer minor units, half-up rounding per currency, and exact allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.money import Money, allocate, minor_unit_exponent, sum_money, validate_currency

CURRENCIES = ["CNY", "VND", "BHD", "JPY", "SGD", "USD", "EUR"]


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("CNY", 2), ("VND", 0), ("BHD", 3), ("JPY", 0), ("SGD", 2), ("KWD", 3)],
)
def test_minor_unit_exponent_follows_cldr(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        # CNY: 2 decimals, half up (a tie goes away from zero, not to the even neighbour)
        ("1.005", "CNY", 101),
        ("1.004", "CNY", 100),
        ("1.015", "CNY", 102),
        ("-1.005", "CNY", -101),
        ("0.125", "CNY", 13),  # banker's rounding would give 12
        ("12.90", "CNY", 1290),
        # VND: no minor unit
        ("1234.5", "VND", 1235),
        ("1234.49", "VND", 1234),
        ("2.5", "VND", 3),  # banker's rounding would give 2
        # BHD: 3 decimals (fils)
        ("1.0005", "BHD", 1001),
        ("1.0004", "BHD", 1000),
        ("0.0005", "BHD", 1),
        # JPY: no minor unit
        ("99.5", "JPY", 100),
        ("0.4", "JPY", 0),
        ("-0.5", "JPY", -1),
    ],
)
def test_from_decimal_rounds_half_up_to_the_currency_minor_unit(
    amount: str, currency: str, minor: int
) -> None:
    assert Money.from_decimal(amount, currency) == Money(minor, currency)
    assert Money.from_decimal(Decimal(amount), currency) == Money(minor, currency)


def test_from_decimal_accepts_int_major_units() -> None:
    assert Money.from_decimal(5, "CNY") == Money(500, "CNY")
    assert Money.from_decimal(5, "BHD") == Money(5000, "BHD")
    assert Money.from_decimal(5, "VND") == Money(5, "VND")


@given(
    amount=st.decimals(
        min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False, allow_infinity=False
    ),
    currency=st.sampled_from(CURRENCIES),
)
def test_from_decimal_is_the_nearest_minor_unit_ties_away_from_zero(amount: Decimal, currency: str) -> None:
    money = Money.from_decimal(amount, currency)
    exact = amount.scaleb(minor_unit_exponent(currency))  # the amount in (fractional) minor units
    error = abs(Decimal(money.minor) - exact)
    assert error <= Decimal("0.5")
    if error == Decimal("0.5"):
        assert abs(money.minor) > abs(exact)  # a tie is rounded away from zero


def test_money_rejects_float_minor_units() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "CNY")


def test_from_decimal_rejects_a_float() -> None:
    # The module promises "never a float": 1.005 as a binary float is 1.00499999999999989..., so
    # accepting it silently gives 1.00 CNY where the caller meant 1.01 CNY.
    with pytest.raises((TypeError, ValueError, ValidationFailed)):
        Money.from_decimal(1.005, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["XYZ", "QQQ", "usd", "US", "EURO", "", "U5D"])
def test_unknown_or_malformed_currency_is_rejected(code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        Money(100, code)
    assert repr(code) in info.value.detail
    with pytest.raises(ValidationFailed):
        Money.from_decimal("1.00", code)
    with pytest.raises(ValidationFailed):
        validate_currency(code)


def test_currency_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="CNY with SGD"):
        Money(100, "CNY") + Money(100, "SGD")
    with pytest.raises(ValueError, match="SGD with CNY"):
        Money(100, "SGD") - Money(100, "CNY")
    with pytest.raises(ValueError):
        sum_money([Money(1, "CNY"), Money(1, "VND")], "CNY")


def test_arithmetic_in_one_currency() -> None:
    assert Money(150, "SGD") + Money(275, "SGD") == Money(425, "SGD")
    assert Money(150, "SGD") - Money(275, "SGD") == Money(-125, "SGD")
    assert Money(1290, "SGD").times(3) == Money(3870, "SGD")
    assert sum_money([Money(1, "JPY"), Money(2, "JPY"), Money(3, "JPY")], "JPY") == Money(6, "JPY")
    assert sum_money([], "BHD") == Money(0, "BHD")


def test_share_rounds_half_up() -> None:
    assert Money(365, "SGD").share(Decimal("0.1")) == Money(37, "SGD")  # 36.5 -> 37 (half-even: 36)
    assert Money(364, "SGD").share(Decimal("0.1")) == Money(36, "SGD")  # 36.4 -> 36
    assert Money(-365, "SGD").share(Decimal("0.1")) == Money(-37, "SGD")


@pytest.mark.parametrize(
    ("money", "text", "value"),
    [
        (Money(1001, "BHD"), "1.001 BHD", Decimal("1.001")),
        (Money(1500, "VND"), "1500 VND", Decimal(1500)),
        (Money(1290, "CNY"), "12.90 CNY", Decimal("12.90")),
        (Money(-5, "CNY"), "-0.05 CNY", Decimal("-0.05")),
    ],
)
def test_to_decimal_and_str(money: Money, text: str, value: Decimal) -> None:
    assert money.to_decimal() == value
    assert str(money) == text


def test_allocate_concrete_split() -> None:
    assert [m.minor for m in allocate(Money(100, "SGD"), [1, 1, 1])] == [34, 33, 33]
    assert [m.minor for m in allocate(Money(10, "VND"), [3, 0, 7])] == [3, 0, 7]
    assert [m.minor for m in allocate(Money(5, "JPY"), [1, 1])] == [3, 2]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], [-2]])
def test_allocate_rejects_bad_weights(weights: list[int]) -> None:
    with pytest.raises(ValueError):
        allocate(Money(100, "SGD"), weights)


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(CURRENCIES),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_allocate_parts_always_sum_to_the_total(total: int, currency: str, weights: list[int]) -> None:
    parts = allocate(Money(total, currency), weights)
    assert len(parts) == len(weights)
    assert all(p.currency == currency for p in parts)
    assert sum(p.minor for p in parts) == total
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / whole
        assert abs(Decimal(part.minor) - exact) < 1  # each part is its exact share, floored or ceiled
        if weight == 0:
            assert part.minor == 0
