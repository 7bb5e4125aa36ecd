"""The customs tables: de minimis thresholds and tax rules per destination, and duty rates by HS
prefix, parsed and checked from CSV. Pure: no database, no network.

The tables shipped with the package (`data/customs_thresholds.csv`, one row per destination, and the
optional `data/customs_duty_rates.csv`, duty rates by HS chapter or heading) are a starting point for
operators, written from well-known rules without access to the authorities' sites. Each row cites its
source and the date it reflects; figures marked "to verify" in its note must be checked before anyone
relies on them. Operators load their own files with `load_thresholds(path)` and `load_duty_rates(path)`
and pass the resulting `CustomsTable` in; `default_table()` is the packaged one. A malformed file is
refused whole, with every bad row and field named.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal, TypeVar, cast

from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.kernel.money import Money, exact_minor, max_minor, validate_currency

Basis = Literal["FOB", "CIF"]
ThresholdRule = Literal["at_or_below", "below"]
Collection = Literal["none", "import", "point_of_sale"]

MAX_DUTY_RATE = Decimal(5)  # 500 %: above any ad valorem tariff we know of
MAX_TAX_RATE = Decimal("0.5")
DUTY_RATE_COLUMNS = ("tariff_area", "hs_prefix", "rate", "as_of", "source", "note")

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    """One destination's rules; amounts are in `currency` (the threshold currency)."""

    country: str
    tariff_area: str  # rows sharing one (the EU) form one customs territory and one duty rate table
    currency: str
    tax_currency: str  # the destination's currency: duty and tax are assessed in it
    duty_de_minimis: Money
    tax_de_minimis: Money
    threshold_rule: ThresholdRule
    threshold_basis: Basis
    valuation_basis: Basis
    tax_name: str
    tax_rate: Decimal
    tax_gross_up: bool
    default_duty_rate: Decimal
    reduced_duty_up_to: Money | None
    reduced_duty_rate: Decimal | None
    seller_collects_up_to: Money | None
    seller_scheme: str
    as_of: dt.date
    source: str
    note: str

    @property
    def to_verify(self) -> bool:
        return "to verify" in self.note.lower()

    def relieves(self, value: Money, threshold: Money) -> bool:
        """Whether `value` falls within `threshold` under this row's rule (same currency)."""
        if self.threshold_rule == "at_or_below":
            return value.minor <= threshold.minor
        return value.minor < threshold.minor

    def rule_words(self) -> str:
        return "at or below" if self.threshold_rule == "at_or_below" else "below"


THRESHOLD_COLUMNS = tuple(f.name for f in fields(ThresholdRow))  # the CSV header, in this order


@dataclass(frozen=True, slots=True)
class DutyRate:
    tariff_area: str
    hs_prefix: str
    rate: Decimal
    as_of: dt.date
    source: str
    note: str

    def describe(self) -> str:
        flag = " (to verify)" if "to verify" in self.note.lower() else ""
        return f"{self.tariff_area} HS {self.hs_prefix} as of {self.as_of.isoformat()}: {self.source}{flag}"


@dataclass(frozen=True)
class CustomsTable:
    thresholds: Mapping[str, ThresholdRow]
    duty_rates: Mapping[str, tuple[DutyRate, ...]]  # by tariff area, longest prefix first

    def row(self, country: str) -> ThresholdRow:
        if (bad := country_error(country, "destination")) is not None:
            raise ValidationFailed(f"destination: {bad.message}", [bad])
        row = self.thresholds.get(country)
        if row is None:
            covered = ", ".join(sorted(self.thresholds))
            raise ValidationFailed(
                f"no customs row for {country} in the thresholds table (it covers {covered});"
                " load an operator table with a row for it",
                [FieldError("destination", f"no customs row for {country}")],
            )
        return row

    def duty_rate(self, row: ThresholdRow, hs_code: str) -> tuple[Decimal, str]:
        """The rate of the longest HS prefix listed for the row's tariff area, else the row's default."""
        for rate in self.duty_rates.get(row.tariff_area, ()):
            if hs_code.startswith(rate.hs_prefix):
                return rate.rate, rate.describe()
        return row.default_duty_rate, f"default duty rate of row {row.country}"


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _parse_rate(text: str, upper: Decimal) -> Decimal:
    rate = _parse_decimal(text)
    if not 0 <= rate <= upper:
        raise ValueError(f"a rate as a fraction (0.21 for 21 %) between 0 and {upper}, got {text!r}")
    return rate


def _parse_amount(text: str, currency: str) -> Money:
    amount = _parse_decimal(text)
    try:
        minor = exact_minor(amount, currency)
        if not 0 <= minor <= max_minor(currency):
            raise ValueError
    except ValueError:
        raise ValueError(f"a non-negative amount in {currency} within its minor unit, got {text!r}") from None
    return Money(minor, currency)


def _parse_choice(text: str, choices: Sequence[str]) -> str:
    if text not in choices:
        raise ValueError(f"one of {', '.join(choices)}, got {text!r}")
    return text


def _parse_country(text: str) -> str:
    if (bad := country_error(text)) is not None:
        raise ValueError(bad.message)
    return text


def _parse_currency(text: str) -> str:
    try:
        return validate_currency(text)
    except DomainError as exc:
        raise ValueError(exc.detail) from None


def _field(errors: list[FieldError], where: str, parse: Callable[[], T]) -> T | None:
    try:
        return parse()
    except ValueError as exc:
        errors.append(FieldError(where, str(exc)))
        return None


def _read_rows(text: str, origin: str, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"{origin}: missing columns {', '.join(missing)}")
    return [(n, {c: (raw.get(c) or "").strip() for c in columns}) for n, raw in enumerate(reader, start=2)]


def _threshold_row(n: int, v: dict[str, str], errors: list[FieldError]) -> ThresholdRow | None:
    before = len(errors)

    def get(name: str, parse: Callable[[], T]) -> T | None:
        return _field(errors, f"line {n}: {name}", parse)

    country = get("country", lambda: _parse_country(v["country"]))
    currency = get("currency", lambda: _parse_currency(v["currency"]))
    tax_currency = get("tax_currency", lambda: _parse_currency(v["tax_currency"]))
    duty_min = tax_min = band = ceiling = None
    if currency is not None:

        def amount(name: str) -> Money | None:
            return get(name, lambda: _parse_amount(v[name], currency)) if v[name] else None

        duty_min, tax_min = amount("duty_de_minimis"), amount("tax_de_minimis")
        band, ceiling = amount("reduced_duty_up_to"), amount("seller_collects_up_to")
        for name in ("duty_de_minimis", "tax_de_minimis"):
            if not v[name]:
                errors.append(FieldError(f"line {n}: {name}", "required (0 for no relief)"))
    rule = get("threshold_rule", lambda: _parse_choice(v["threshold_rule"], ("at_or_below", "below")))
    threshold_basis = get("threshold_basis", lambda: _parse_choice(v["threshold_basis"], ("FOB", "CIF")))
    valuation_basis = get("valuation_basis", lambda: _parse_choice(v["valuation_basis"], ("FOB", "CIF")))
    tax_rate = get("tax_rate", lambda: _parse_rate(v["tax_rate"], MAX_TAX_RATE))
    gross_up = get("tax_gross_up", lambda: _parse_choice(v["tax_gross_up"], ("yes", "no")))
    default_rate = get("default_duty_rate", lambda: _parse_rate(v["default_duty_rate"], MAX_DUTY_RATE))
    reduced_rate = (
        get("reduced_duty_rate", lambda: _parse_rate(v["reduced_duty_rate"], MAX_DUTY_RATE))
        if v["reduced_duty_rate"]
        else None
    )
    as_of = get("as_of", lambda: dt.date.fromisoformat(v["as_of"]))
    for name in ("tariff_area", "tax_name", "source"):
        if not v[name]:
            errors.append(FieldError(f"line {n}: {name}", "required"))
    if (band is None) != (reduced_rate is None):
        errors.append(FieldError(f"line {n}: reduced_duty_up_to", "give both reduced_duty_* or neither"))
    elif reduced_rate is not None and default_rate is not None and reduced_rate > default_rate:
        errors.append(FieldError(f"line {n}: reduced_duty_rate", "must not exceed default_duty_rate"))
    if (ceiling is None) != (not v["seller_scheme"]):
        errors.append(
            FieldError(f"line {n}: seller_scheme", "give both seller_collects_up_to and its scheme")
        )
    if len(errors) > before:
        return None
    return ThresholdRow(
        country=cast(str, country),
        tariff_area=v["tariff_area"],
        currency=cast(str, currency),
        tax_currency=cast(str, tax_currency),
        duty_de_minimis=cast(Money, duty_min),
        tax_de_minimis=cast(Money, tax_min),
        threshold_rule=cast(ThresholdRule, rule),
        threshold_basis=cast(Basis, threshold_basis),
        valuation_basis=cast(Basis, valuation_basis),
        tax_name=v["tax_name"],
        tax_rate=cast(Decimal, tax_rate),
        tax_gross_up=gross_up == "yes",
        default_duty_rate=cast(Decimal, default_rate),
        reduced_duty_up_to=band,
        reduced_duty_rate=reduced_rate,
        seller_collects_up_to=ceiling,
        seller_scheme=v["seller_scheme"],
        as_of=cast(dt.date, as_of),
        source=v["source"],
        note=v["note"],
    )


def parse_thresholds(text: str, origin: str = "thresholds") -> dict[str, ThresholdRow]:
    """Rows of a thresholds CSV by country; every problem of every row in one ValidationFailed."""
    errors: list[FieldError] = []
    rows: dict[str, ThresholdRow] = {}
    for n, values in _read_rows(text, origin, THRESHOLD_COLUMNS):
        row = _threshold_row(n, values, errors)
        if row is not None and row.country in rows:
            errors.append(FieldError(f"line {n}: country", f"{row.country} appears twice"))
        elif row is not None:
            rows[row.country] = row
    if errors:
        raise ValidationFailed(f"{origin}: {len(errors)} problem(s) in the thresholds table", errors)
    return rows


def parse_duty_rates(text: str, origin: str = "duty rates") -> dict[str, tuple[DutyRate, ...]]:
    """Duty rates by tariff area, longest HS prefix first (2 to 10 digits, an even count)."""
    errors: list[FieldError] = []
    found: dict[str, list[DutyRate]] = {}
    for n, v in _read_rows(text, origin, DUTY_RATE_COLUMNS):
        prefix = v["hs_prefix"]
        if not (prefix.isdigit() and len(prefix) in (2, 4, 6, 8, 10)):
            errors.append(FieldError(f"line {n}: hs_prefix", f"2, 4, 6, 8 or 10 digits, got {prefix!r}"))
        rate = _field(errors, f"line {n}: rate", lambda: _parse_rate(v["rate"], MAX_DUTY_RATE))  # noqa: B023
        as_of = _field(errors, f"line {n}: as_of", lambda: dt.date.fromisoformat(v["as_of"]))  # noqa: B023
        if not v["tariff_area"] or not v["source"]:
            errors.append(FieldError(f"line {n}: tariff_area", "tariff_area and source are required"))
        area = found.setdefault(v["tariff_area"], [])
        if any(r.hs_prefix == prefix for r in area):
            errors.append(FieldError(f"line {n}: hs_prefix", f"{v['tariff_area']} {prefix} appears twice"))
        if rate is not None and as_of is not None:
            area.append(DutyRate(v["tariff_area"], prefix, rate, as_of, v["source"], v["note"]))
    if errors:
        raise ValidationFailed(f"{origin}: {len(errors)} problem(s) in the duty rates table", errors)
    return {a: tuple(sorted(rs, key=lambda r: -len(r.hs_prefix))) for a, rs in found.items()}


def load_thresholds(path: str | Path) -> dict[str, ThresholdRow]:
    return parse_thresholds(Path(path).read_text(encoding="utf-8"), str(path))


def load_duty_rates(path: str | Path) -> dict[str, tuple[DutyRate, ...]]:
    return parse_duty_rates(Path(path).read_text(encoding="utf-8"), str(path))


def load_table(thresholds: str | Path, duty_rates: str | Path | None = None) -> CustomsTable:
    """An operator's table: their thresholds file, and their duty rates file if they have one."""
    return CustomsTable(load_thresholds(thresholds), load_duty_rates(duty_rates) if duty_rates else {})


@cache
def default_table() -> CustomsTable:
    """The table shipped with the package: a starting point, see the module docstring."""
    data = files("entrepot.logistics") / "data"
    return CustomsTable(
        parse_thresholds(
            (data / "customs_thresholds.csv").read_text(encoding="utf-8"), "customs_thresholds.csv"
        ),
        parse_duty_rates(
            (data / "customs_duty_rates.csv").read_text(encoding="utf-8"), "customs_duty_rates.csv"
        ),
    )


# ----------------------------------------------------------------------------------------- declaration
