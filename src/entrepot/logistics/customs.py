"""Customs for cross-border parcels: a declaration from its lines, and the import duty and VAT/GST that a
destination charges on it under that country's de minimis rules. Pure: no database, no network.

The tables (thresholds, tax rules and duty rates per destination, with their sources and dates) are read
and checked by `customs_tables`; `assess` takes a `CustomsTable`, the packaged one by default.

How a parcel is assessed (every step is stated in the `Assessment`):
1. Values: goods = sum of quantity x unit value (FOB); CIF = goods + shipping + insurance.
2. De minimis: the row's `threshold_basis` (FOB or CIF) value, converted into the row's threshold
   currency with the injected `FxRates` at the declaration date (its policy: the latest rate published on
   or before that day, within its staleness window; the rate used is reported), is compared with the duty
   and the tax thresholds: relief when the value is "at_or_below" (or strictly "below") the threshold, as
   the row's `threshold_rule` says. A threshold of 0 gives no relief.
3. Customs value: per line, the line's goods value converted into the tax currency, plus (on a CIF
   `valuation_basis`) its share of shipping and insurance, shared by net weight (largest remainder, so the
   shares add up exactly). Sharing by weight keeps one line's value from moving freight onto another.
4. Duty per line: the rate of the longest matching HS prefix for the row's tariff area, else the row's
   default rate; rounded half up to the minor unit. A row may carry a reduced band (Brazil's Remessa
   Conforme): for a seller registered in the row's scheme, a consignment within the band pays the reduced
   rate, and above it the first band's worth is relieved down to the reduced rate.
5. Tax: on customs value + duty, at the row's rate (grossed up, rate / (1 - rate), where the row says the
   tax is part of its own base, as Brazil's ICMS is); rounded half up once for the consignment. It is
   collected at the point of sale when the seller is registered in the row's low-value scheme (IOSS, OVR,
   LVG, ...) and the value is within its ceiling; otherwise at import unless the tax de minimis relieves it.

Not modelled: rates that depend on origin (preferential or punitive), excise, income taxes, clearance
fees, goods excluded from relief (alcohol, tobacco), and the official customs exchange rates that some
authorities publish (inject an `FxRates` built on them if a declaration must use them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from entrepot.catalog.domain import HS_CODE
from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.fx import Conversion, FxRates
from entrepot.kernel.money import MAX_PRICE_MAJOR, Money, allocate, max_minor, sum_money
from entrepot.logistics.customs_tables import Collection, CustomsTable, ThresholdRow, default_table

MAX_LINES = 999
MAX_QUANTITY = 100_000
MAX_NET_WEIGHT_G = 1_000_000  # 1 t: beyond a parcel network's business
# Customs refuse these as a whole description: they say nothing about what is in the parcel.
VAGUE_DESCRIPTIONS = frozenset(
    {"gift", "gifts", "goods", "item", "items", "merchandise", "misc", "parts", "sample", "samples", "stuff"}
)


@dataclass(frozen=True, slots=True)
class DeclarationLine:
    hs_code: str
    description: str
    origin_country: str
    quantity: int
    unit_value: Money
    net_weight_g: int  # of the whole line


@dataclass(frozen=True, slots=True)
class Declaration:
    lines: tuple[DeclarationLine, ...]
    dispatch_country: str
    shipping: Money
    insurance: Money
    declared_on: dt.date

    @property
    def currency(self) -> str:
        return self.shipping.currency

    def goods_value(self) -> Money:
        return sum_money([line.unit_value.times(line.quantity) for line in self.lines], self.currency)

    def cif_value(self) -> Money:
        return self.goods_value() + self.shipping + self.insurance


def hs_code_error(code: str) -> str | None:
    if not isinstance(code, str) or not HS_CODE.match(code):
        return f"6, 8 or 10 digits (Harmonized System code), got {code!r}"
    chapter = int(code[:2])
    if not 1 <= chapter <= 97 or chapter == 77:
        return f"chapter {code[:2]} is not an HS chapter (01 to 97; 77 is reserved)"
    return None


def _amount_error(amount: Money, currency: str, positive: bool) -> str | None:
    if amount.currency != currency:
        return f"in {currency} like the rest of the declaration, got {amount.currency}"
    if amount.minor < (1 if positive else 0) or amount.minor > max_minor(currency):
        low = "positive (customs need a value, even for gifts and samples)" if positive else "not negative"
        return f"{low} and at most {MAX_PRICE_MAJOR} {currency}, got {amount}"
    return None


def _line_errors(i: int, line: DeclarationLine, currency: str) -> list[FieldError]:
    at = f"lines[{i}]"
    checks = {
        "hs_code": hs_code_error(line.hs_code),
        "description": (
            "3 to 200 characters saying what the goods are"
            if not 3 <= len(line.description.strip()) <= 200
            else f"{line.description!r} is too vague for customs: say what the goods are"
            if line.description.strip().lower() in VAGUE_DESCRIPTIONS
            else None
        ),
        "origin_country": (bad.message if (bad := country_error(line.origin_country)) else None),
        "quantity": None if 1 <= line.quantity <= MAX_QUANTITY else f"between 1 and {MAX_QUANTITY}",
        "unit_value": _amount_error(line.unit_value, currency, positive=True),
        "net_weight_g": (
            None if 1 <= line.net_weight_g <= MAX_NET_WEIGHT_G else f"between 1 and {MAX_NET_WEIGHT_G} g"
        ),
    }
    return [FieldError(f"{at}.{name}", message) for name, message in checks.items() if message]


def build_declaration(
    lines: Sequence[DeclarationLine],
    *,
    dispatch_country: str,
    shipping: Money,
    declared_on: dt.date,
    insurance: Money | None = None,
) -> Declaration:
    """A checked declaration; every problem of every line in one ValidationFailed."""
    currency = shipping.currency
    errors = [FieldError("lines", f"1 to {MAX_LINES} lines")] if not 1 <= len(lines) <= MAX_LINES else []
    for i, line in enumerate(lines):
        errors += _line_errors(i, line, currency)
    if (bad := country_error(dispatch_country, "dispatch_country")) is not None:
        errors.append(bad)
    insurance = insurance if insurance is not None else Money.zero(currency)
    for name, amount in (("shipping", shipping), ("insurance", insurance)):
        if (message := _amount_error(amount, currency, positive=False)) is not None:
            errors.append(FieldError(name, message))
    if errors:
        raise ValidationFailed(f"customs declaration rejected: {len(errors)} problem(s)", errors)
    return Declaration(tuple(lines), dispatch_country, shipping, insurance, declared_on)


# ------------------------------------------------------------------------------------------ assessment


@dataclass(frozen=True, slots=True)
class FxUsed:
    source_currency: str
    target_currency: str
    rate: Decimal  # target units per source unit
    as_of: dt.date  # the rate's publication date (earlier than the declaration on weekends, holidays)
    source: str

    def __str__(self) -> str:
        return (
            f"1 {self.source_currency} = {self.rate.normalize():f} {self.target_currency}"
            f" ({self.source}, rate of {self.as_of.isoformat()})"
        )


@dataclass(frozen=True, slots=True)
class LineAssessment:
    index: int
    hs_code: str
    goods_value: Money  # declaration currency
    customs_value: Money  # tax currency, with its share of shipping and insurance on a CIF basis
    duty_rate: Decimal
    duty_rate_source: str
    duty: Money


@dataclass(frozen=True, slots=True)
class Assessment:
    destination: str
    row: ThresholdRow
    declared_on: dt.date
    goods_value: Money
    cif_value: Money
    threshold_value: Money  # the row's threshold basis, in its threshold currency
    threshold_fx: FxUsed
    duty_due: bool
    duty_reason: str
    tax_collection: Collection
    tax_reason: str
    customs_fx: FxUsed
    lines: tuple[LineAssessment, ...]
    customs_value: Money
    duty_relief: Money
    duty_relief_reason: str
    duty: Money
    tax_base: Money
    tax_rate: Decimal
    effective_tax_rate: Decimal
    tax: Money
    total: Money
    warnings: tuple[str, ...]

    @property
    def tax_due(self) -> bool:
        return self.tax_collection != "none"

    def explain(self) -> list[str]:
        """Every figure with the row, rate or threshold that produced it, one line each."""
        row = self.row
        out = [
            f"destination {self.destination}: row as of {row.as_of.isoformat()}, source: {row.source}",
            f"goods (FOB) {self.goods_value}; CIF {self.cif_value}",
            f"threshold value ({row.threshold_basis}) {self.threshold_value} at {self.threshold_fx}",
            f"duty: {self.duty_reason}",
            f"{row.tax_name}: {self.tax_reason}",
            f"customs value ({row.valuation_basis}) {self.customs_value} at {self.customs_fx}",
        ]
        for line in self.lines:
            out.append(
                f"line {line.index + 1} HS {line.hs_code}: customs value {line.customs_value},"
                f" rate {percent(line.duty_rate)} ({line.duty_rate_source}), duty {line.duty}"
            )
        if self.duty_relief.minor:
            out.append(f"duty relief {self.duty_relief}: {self.duty_relief_reason}")
        out += [
            f"duty {self.duty}",
            f"{row.tax_name} {self.tax} on {self.tax_base} (customs value + duty) at"
            f" {percent(self.effective_tax_rate)}",
            f"total due {self.total}",
            *(f"warning: {w}" for w in self.warnings),
        ]
        return out


def percent(rate: Decimal) -> str:
    """0.2048192771... -> '20.4819 %' (for reading; the computation keeps the exact rate)."""
    return f"{(rate * 100).quantize(Decimal('0.0001')).normalize():f} %"


def _fx_used(conversion: Conversion, source_currency: str) -> FxUsed:
    return FxUsed(
        source_currency, conversion.amount.currency, conversion.rate, conversion.as_of, conversion.source
    )


def _check_is_import(declaration: Declaration, row: ThresholdRow, table: CustomsTable) -> None:
    origin = table.thresholds.get(declaration.dispatch_country)
    if declaration.dispatch_country == row.country or (origin and origin.tariff_area == row.tariff_area):
        raise ValidationFailed(
            f"a parcel from {declaration.dispatch_country} to {row.country} stays within one customs"
            f" territory ({row.tariff_area}): there is no import to declare",
            [FieldError("destination", "same customs territory as dispatch_country")],
        )


def _duty_test(row: ThresholdRow, value: Money) -> tuple[bool, str]:
    threshold = row.duty_de_minimis
    if row.relieves(value, threshold):
        return False, f"not due: {value} is {row.rule_words()} the duty de minimis {threshold}"
    if threshold.minor == 0:
        return True, f"due: row {row.country} has no duty de minimis"
    return True, f"due: {value} is not {row.rule_words()} the duty de minimis {threshold}"


def _tax_test(row: ThresholdRow, value: Money, seller_registered: bool) -> tuple[Collection, str]:
    ceiling = row.seller_collects_up_to
    if row.tax_rate == 0:
        return "none", f"not due: row {row.country} charges no import tax ({row.tax_name})"
    if seller_registered and ceiling is not None and row.relieves(value, ceiling):
        return "point_of_sale", (
            f"collected at the point of sale by the seller registered in {row.seller_scheme}:"
            f" {value} is {row.rule_words()} its ceiling {ceiling}"
        )
    if row.relieves(value, row.tax_de_minimis):
        return "none", f"not due: {value} is {row.rule_words()} the tax de minimis {row.tax_de_minimis}"
    if row.tax_de_minimis.minor == 0:
        return "import", f"due at import: row {row.country} has no tax de minimis"
    return (
        "import",
        f"due at import: {value} is not {row.rule_words()} the tax de minimis {row.tax_de_minimis}",
    )


def _in_tax_currency(
    declaration: Declaration, row: ThresholdRow, fx: FxRates
) -> tuple[list[Money], list[Money], FxUsed]:
    """Each line's goods value in the tax currency, and its share of shipping and insurance (CIF only)."""
    on, target = declaration.declared_on, row.tax_currency
    conversions = [fx.convert(line.unit_value.times(line.quantity), target, on) for line in declaration.lines]
    extra = declaration.shipping + declaration.insurance
    freight = fx.convert(extra, target, on)
    shares = (
        allocate(freight.amount, [line.net_weight_g for line in declaration.lines])
        if row.valuation_basis == "CIF"
        else [Money.zero(target) for _ in declaration.lines]
    )
    return [c.amount for c in conversions], shares, _fx_used(freight, declaration.currency)


def _reduced_band(row: ThresholdRow, seller_registered: bool) -> tuple[Money, Decimal] | None:
    """The band and its rate, when the row has one and the seller may use it."""
    if row.reduced_duty_up_to is None or row.reduced_duty_rate is None or not seller_registered:
        return None
    return row.reduced_duty_up_to, row.reduced_duty_rate


def assess(
    declaration: Declaration,
    destination: str,
    fx: FxRates,
    table: CustomsTable | None = None,
    *,
    seller_registered: bool = True,
) -> Assessment:
    """Duty and VAT/GST due on a declaration in a destination, each figure traced to its row and rate.

    `seller_registered`: the seller (or marketplace) is registered in the destination's low-value scheme
    (IOSS, OVR, LVG, Remessa Conforme...), so it collects the tax at the point of sale within the scheme's
    ceiling and may use a reduced duty band.
    """
    table = table if table is not None else default_table()
    row = table.row(destination)
    _check_is_import(declaration, row, table)
    on, target = declaration.declared_on, row.tax_currency
    basis_value = declaration.goods_value() if row.threshold_basis == "FOB" else declaration.cif_value()
    threshold = fx.convert(basis_value, row.currency, on)
    value = threshold.amount
    duty_due, duty_reason = _duty_test(row, value)
    collection, tax_reason = _tax_test(row, value, seller_registered)
    goods, shares, customs_fx = _in_tax_currency(declaration, row, fx)

    band = _reduced_band(row, seller_registered)
    in_band = band is not None and row.relieves(value, band[0])
    lines = []
    for i, (line, converted, share) in enumerate(zip(declaration.lines, goods, shares, strict=True)):
        rate, rate_source = table.duty_rate(row, line.hs_code)
        if band is not None and in_band:
            rate, rate_source = band[1], f"reduced band {row.rule_words()} {band[0]} ({row.seller_scheme})"
        customs = converted + share
        duty = customs.share(rate) if duty_due else Money.zero(target)
        lines.append(
            LineAssessment(
                i, line.hs_code, line.unit_value.times(line.quantity), customs, rate, rate_source, duty
            )
        )
    customs_value = sum_money([line.customs_value for line in lines], target)
    full_duty = sum_money([line.duty for line in lines], target)
    duty, relief_reason = full_duty, ""
    if band is not None and not in_band and duty_due:
        duty, relief_reason = _band_relief(row, band, lines, full_duty, fx, on)

    effective = row.tax_rate / (1 - row.tax_rate) if row.tax_gross_up else row.tax_rate
    tax_base = customs_value + duty if collection != "none" else Money.zero(target)
    tax = tax_base.share(effective)
    return Assessment(
        destination=destination,
        row=row,
        declared_on=on,
        goods_value=declaration.goods_value(),
        cif_value=declaration.cif_value(),
        threshold_value=value,
        threshold_fx=_fx_used(threshold, basis_value.currency),
        duty_due=duty_due,
        duty_reason=duty_reason,
        tax_collection=collection,
        tax_reason=tax_reason,
        customs_fx=customs_fx,
        lines=tuple(lines),
        customs_value=customs_value,
        duty_relief=full_duty - duty,
        duty_relief_reason=relief_reason,
        duty=duty,
        tax_base=tax_base,
        tax_rate=row.tax_rate,
        effective_tax_rate=effective,
        tax=tax,
        total=duty + tax,
        warnings=_warnings(row, on),
    )


def _band_relief(
    row: ThresholdRow,
    band: tuple[Money, Decimal],
    lines: list[LineAssessment],
    full_duty: Money,
    fx: FxRates,
    on: dt.date,
) -> tuple[Money, str]:
    """Above the band, the band's worth pays the reduced rate instead of the default rate (Brazil: 60 %
    less USD 20 = 60 % x value - (60 % - 20 %) x USD 50). Never less than the reduced rate on the whole
    value, which the formula equals mathematically; the floor absorbs rounding."""
    limit, reduced = band
    limit_local = fx.convert(limit, row.tax_currency, on).amount
    relief = limit_local.share(row.default_duty_rate - reduced)
    floor = sum_money([line.customs_value.share(reduced) for line in lines], row.tax_currency)
    duty = max(full_duty - relief, floor, key=lambda m: m.minor)
    return duty, (
        f"first {limit} ({limit_local}) at the reduced {percent(reduced)} instead of"
        f" {percent(row.default_duty_rate)} ({row.seller_scheme}); never below the reduced rate on all"
    )


def _warnings(row: ThresholdRow, on: dt.date) -> tuple[str, ...]:
    warnings = []
    if on < row.as_of:
        warnings.append(
            f"row {row.country} reflects the rules as of {row.as_of.isoformat()}; the declaration is dated"
            f" {on.isoformat()}, when other rules may have applied"
        )
    if row.to_verify:
        warnings.append(f"row {row.country} has figures to verify: {row.note}")
    return tuple(warnings)
