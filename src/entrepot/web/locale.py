"""A market's locale for the storefront: its prices, numbers and dates formatted by Babel (CLDR), and
its text from the message catalogues under web/locales (gettext; English is the source language).

A price keeps the currency's own decimals (kernel.money: ISO 4217 through CLDR) and is shown with the
decimals people pay in cash where CLDR says they differ (IDR: `Rp 150.000`, no sen), but only when the
amount is whole at that precision: money is never rounded on the way to the screen.

A market's language is added without code: a `shop.po` for its locale under web/locales, compiled to
`shop.mo` (docs/storefront.md says how). A locale without a catalogue reads English.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, format_timedelta, get_datetime_format
from babel.lists import format_list
from babel.numbers import format_decimal, parse_pattern
from babel.support import Translations

from entrepot.kernel.money import Money, minor_unit_exponent

CATALOGUES = Path(__file__).parent / "locales"
DOMAIN = "shop"


@lru_cache(maxsize=256)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def cash_digits(currency: str) -> int:
    """The decimals prices are shown with: CLDR's cash digits where it states them, else the ISO ones."""
    iso = minor_unit_exponent(currency)
    found = get_global("currency_fractions").get(currency)  # (digits, rounding, cash digits, cash rounding)
    return min(iso, int(found[2])) if found else iso


def format_money(minor: int, currency: str, locale: str) -> str:
    """`S$19.90` in en_SG, `Rp 150.000` in id_ID, `19.900 ₫` in vi_VN: the locale's pattern, symbol and
    separators, with the currency's decimals (fewer only where CLDR's cash digits show it exactly)."""
    amount = Money(minor, currency).to_decimal()
    digits = minor_unit_exponent(currency)
    cash = cash_digits(currency)
    if cash < digits and amount == amount.quantize(Decimal(1).scaleb(-cash)):
        digits = cash
    pattern = parse_pattern(_locale(locale).currency_formats["standard"].pattern)
    pattern.frac_prec = (digits, digits)
    shown: str = pattern.apply(amount, _locale(locale), currency=currency, currency_digits=False)
    return shown


def format_number(value: int | float | Decimal, locale: str, decimals: int = 0) -> str:
    """A number with the locale's grouping and decimal sign (`1.234,5` in id_ID, `1,234.5` in th_TH)."""
    quantum = Decimal(1).scaleb(-decimals)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(Decimal(str(value)).quantize(quantum), pattern, locale=_locale(locale))


def format_day(day: dt.date | None, locale: str) -> str:
    return "" if day is None else format_date(day, "medium", locale=_locale(locale))


def format_moment(moment: dt.datetime | None, locale: str, time_zone: str) -> str:
    """A moment on the market's clock, as its people write date and time (to the minute)."""
    if moment is None:
        return ""
    where = _locale(locale)
    local = moment.astimezone(ZoneInfo(time_zone))
    # the day as a medium date and the time without seconds, joined as the locale joins them
    joined = str(get_datetime_format("medium", where))
    return joined.replace("{1}", format_date(local.date(), "medium", where)).replace(
        "{0}", format_time(local.timetz(), "short", locale=where)
    )


UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def format_duration(seconds: int, locale: str) -> str:
    """A time left as its two largest units, each whole and rounded down (`1 hour, 30 minutes`, never
    `2 hours` for an hour and a half), in the locale's words and its way of listing units."""
    left, parts = max(0, seconds), list[str]()
    for _, size in UNITS:
        if left >= size and len(parts) < 2:
            whole = left // size * size
            parts.append(format_timedelta(dt.timedelta(seconds=whole), format="long", locale=_locale(locale)))
            left -= whole
        elif parts:
            break  # `1 day, 5 seconds` says less than `1 day`: the second unit is the next one or none
    if not parts:
        parts.append(format_timedelta(dt.timedelta(0), format="long", locale=_locale(locale)))
    shown: str = format_list(parts, style="unit", locale=_locale(locale))
    return shown


@lru_cache(maxsize=64)
def translations(locale: str, directory: Path = CATALOGUES) -> gettext_module.NullTranslations:
    """The catalogue for the locale (`th_TH`, else `th`), or none: the English source text."""
    found: gettext_module.NullTranslations = Translations.load(str(directory), [locale], DOMAIN)
    return found


@dataclass(frozen=True)
class MarketFormat:
    """What a storefront page formats with: the market's locale, currency and clock, and its text."""

    locale: str
    currency: str
    time_zone: str
    directory: Path = CATALOGUES

    @property
    def language(self) -> str:
        return _locale(self.locale).language

    def money(self, minor: int | None, currency: str | None = None) -> str:
        return "" if minor is None else format_money(minor, currency or self.currency, self.locale)

    def number(self, value: int | float | Decimal | None, decimals: int = 0) -> str:
        return "" if value is None else format_number(value, self.locale, decimals)

    def day(self, value: dt.date | None) -> str:
        return format_day(value, self.locale)

    def moment(self, value: dt.datetime | None) -> str:
        return format_moment(value, self.locale, self.time_zone)

    def duration(self, seconds: int) -> str:
        """A time left, in the locale's words, to the largest whole unit (`3 hours`, `12 minutes`)."""
        return format_duration(seconds, self.locale)

    def kg_co2e(self, grams: int | float | None) -> str:
        """Grams of CO2e as kilograms with two decimals, the locale's way."""
        return "" if grams is None else format_number(Decimal(str(grams)) / 1000, self.locale, 2)

    def grams_co2e(self, grams: int | float) -> str:
        """Under a kilogram, grams: a parcel's few grams would read 0.00 kg. A tenth of a gram below
        ten grams, whole grams above."""
        return format_number(Decimal(str(grams)), self.locale, 1 if grams < 10 else 0)

    def translations(self) -> gettext_module.NullTranslations:
        return translations(self.locale, self.directory)
