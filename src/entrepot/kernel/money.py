"""Money as integer minor units with an ISO 4217 code; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import pycountry
from babel.numbers import get_currency_precision

from entrepot.kernel.errors import ValidationFailed

# Commercial rounding (half away from zero) is what shoppers and tax authorities in our markets expect.
ROUNDING = ROUND_HALF_UP


# The largest price or fee anything may set: far above any real one, and inside the 64-bit columns even in
# minor units, so a slip of the keyboard is refused as bad input instead of failing in the database.
MAX_PRICE_MAJOR = Decimal("100000000")


def max_minor(currency: str) -> int:
    """MAX_PRICE_MAJOR in the currency's minor units."""
    return int(MAX_PRICE_MAJOR.scaleb(minor_unit_exponent(currency)))


def exact_minor(amount: Decimal, currency: str) -> int:
    """`amount` (major units) in minor units of `currency`; a ValueError when that would round it."""
    scaled = amount.scaleb(minor_unit_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} allows at most {minor_unit_exponent(currency)} decimal places")
    return int(scaled)


def plain_major(minor: int, currency: str) -> str:
    """`minor` units of `currency` as exact_minor reads them back: '10.00', '1000' for VND, no grouping."""
    return str(Decimal(minor).scaleb(-minor_unit_exponent(currency)))


def amount_problem(minor: int, currency: str, allow_zero: bool = False) -> str | None:
    """Why `minor` units of `currency` are no price or fee to set, or None when they are one."""
    ceiling = max_minor(currency)
    low = 0 if allow_zero else 1
    if low <= minor <= ceiling:
        return None
    return f"{low} up to {ceiling} minor units ({MAX_PRICE_MAJOR} {currency}), got {minor}"


@lru_cache(maxsize=512)
def minor_unit_exponent(currency: str) -> int:
    """Decimal places of a currency's minor unit (CLDR data shipped with Babel: VND 0, BHD 3, CNY 2)."""
    return int(get_currency_precision(validate_currency(currency)))


@lru_cache(maxsize=512)
def validate_currency(code: str) -> str:
    if not isinstance(code, str) or len(code) != 3 or not code.isalpha() or not code.isupper():
        raise ValidationFailed(f"currency must be a three-letter upper-case ISO 4217 code, got {code!r}")
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationFailed(f"unknown ISO 4217 currency {code!r}")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int (minor units), never a float")
        validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Round a major-unit amount to the currency's minor unit, half up."""
        if isinstance(amount, float):
            raise TypeError("give a Decimal or a string, never a float: 1.005 is really 1.00499...")
        scale = Decimal(10) ** minor_unit_exponent(currency)
        minor = (Decimal(amount) * scale).quantize(Decimal(1), rounding=ROUNDING)
        return cls(int(minor), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-minor_unit_exponent(self.currency))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.minor * quantity, self.currency)

    def share(self, rate: Decimal) -> Money:
        """This amount times a rate (commission, tax), rounded half up to a minor unit."""
        return Money(round_half_up(Decimal(self.minor) * rate), self.currency)

    def __str__(self) -> str:
        return f"{self.to_decimal():f} {self.currency}"


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUNDING))


def sum_money(amounts: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def allocate(total: Money, weights: list[int]) -> list[Money]:
    """Split an amount over weights so the parts sum exactly to the total (largest remainder)."""
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative with a positive sum")
    whole = sum(weights)
    parts = [total.minor * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (total.minor * weights[i]) % whole, reverse=True)
    for i in remainders[: total.minor - sum(parts)]:
        parts[i] += 1
    return [Money(p, total.currency) for p in parts]
