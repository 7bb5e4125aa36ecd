"""Pure rules of the catalog: what a valid SKU, price and catalog row are; which commission applies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import DomainError, FieldError
from entrepot.kernel.money import MAX_PRICE_MAJOR, exact_minor, validate_currency

HS_CODE = re.compile(r"^\d{6}(\d{2}(\d{2})?)?$")  # 6-digit HS heading, optionally national 8 or 10
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_WEIGHT_G = 1_000_000  # 1 t: beyond a parcel network's business
MAX_SIDE_MM = 10_000
CSV_COLUMNS = (
    "product_ref",
    "title",
    "category",
    "hs_code",
    "origin_country",
    "sku_code",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "market",
    "price",
    "currency",
)
# Optional: units on hand in a warehouse (by code), so an imported SKU can be ordered at once. Both or
# neither; inventory checks the warehouse and the count's bounds (catalog.service.StockPort).
STOCK_COLUMNS = ("stock", "warehouse")


@dataclass(frozen=True)
class SkuSpec:
    code: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class ProductSpec:
    ref: str
    title: str
    category: str
    hs_code: str
    origin_country: str


@dataclass(frozen=True)
class CatalogRow:
    line: int
    product: ProductSpec
    sku: SkuSpec
    market: str
    price_minor: int
    currency: str
    stock: int | None = None  # units on hand to set in `warehouse`; None: the row leaves stock alone
    warehouse: str | None = None


def unit_volume_cm3(length_mm: int, width_mm: int, height_mm: int) -> int:
    """One unit's volume in whole cm3 (rounded down), as checkout quotes it and shipping packs it.
    Multiplied in Python: sides of up to MAX_SIDE_MM make up to 10^12 mm3, past a 4-byte SQL integer."""
    return length_mm * width_mm * height_mm // 1000


def product_errors(spec: ProductSpec) -> list[FieldError]:
    errors = []
    if not REF.match(spec.ref):
        errors.append(FieldError("product_ref", "1-64 letters, digits, '.', '_' or '-'"))
    if not spec.title.strip() or len(spec.title) > 300:
        errors.append(FieldError("title", "required, at most 300 characters"))
    if not REF.match(spec.category):
        errors.append(FieldError("category", "required: a category code"))
    if not HS_CODE.match(spec.hs_code):
        errors.append(FieldError("hs_code", "6, 8 or 10 digits (Harmonized System code)"))
    if (bad_origin := country_error(spec.origin_country, "origin_country")) is not None:
        errors.append(bad_origin)
    return errors


def sku_errors(spec: SkuSpec) -> list[FieldError]:
    errors = []
    if not REF.match(spec.code):
        errors.append(FieldError("sku_code", "1-64 letters, digits, '.', '_' or '-'"))
    if not 0 < spec.weight_g <= MAX_WEIGHT_G:
        errors.append(FieldError("weight_g", f"must be between 1 and {MAX_WEIGHT_G} grams"))
    for name in ("length_mm", "width_mm", "height_mm"):
        if not 0 < getattr(spec, name) <= MAX_SIDE_MM:
            errors.append(FieldError(name, f"must be between 1 and {MAX_SIDE_MM} mm"))
    return errors


def parse_amount(text: str) -> Decimal:
    """A positive decimal amount in major units; ValueError with the reason for anything else."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_PRICE_MAJOR:
        raise ValueError(f"must be positive and at most {MAX_PRICE_MAJOR}")
    return amount


def price_to_minor(text: str, currency: str) -> int:
    """'12.90' SGD -> 1290. Raises ValueError with the reason for anything else."""
    return exact_minor(parse_amount(text), currency)


def parse_row(line: int, raw: dict[str, str]) -> tuple[CatalogRow | None, list[FieldError]]:
    values = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS}
    errors: list[FieldError] = []
    ints: dict[str, int] = {}
    for name in ("weight_g", "length_mm", "width_mm", "height_mm"):
        try:
            ints[name] = int(values[name])
        except ValueError:
            errors.append(FieldError(name, f"{values[name]!r} is not a whole number"))
    product = ProductSpec(
        values["product_ref"],
        values["title"],
        values["category"],
        values["hs_code"],
        values["origin_country"].upper(),
    )
    errors += product_errors(product)
    price_minor = 0
    try:
        validate_currency(values["currency"])
    except DomainError as exc:
        errors.append(FieldError("currency", exc.detail))
    try:
        if errors and errors[-1].field == "currency":
            parse_amount(values["price"])  # without a currency, only whether it is an amount at all
        else:
            price_minor = price_to_minor(values["price"], values["currency"])
    except ValueError as exc:
        errors.append(FieldError("price", str(exc)))
    if not values["market"]:
        errors.append(FieldError("market", "required: a market code such as lazada-sg"))
    # Check every field even when a size is not a number, so one report lists all of a row's problems.
    sizes = {name: ints.get(name, 1) for name in ("weight_g", "length_mm", "width_mm", "height_mm")}
    sku = SkuSpec(values["sku_code"], **sizes)
    errors += [e for e in sku_errors(sku) if e.field not in sizes or e.field in ints]
    stock, warehouse, stock_errors = parse_stock(raw.get("stock"), raw.get("warehouse"))
    errors += stock_errors
    if errors:
        return None, errors
    row = CatalogRow(line, product, sku, values["market"], price_minor, values["currency"], stock, warehouse)
    return row, []


def parse_stock(stock: str | None, warehouse: str | None) -> tuple[int | None, str | None, list[FieldError]]:
    """The optional stock columns: both empty (or absent) leave stock alone; a count needs a warehouse."""
    stock, warehouse = (stock or "").strip(), (warehouse or "").strip()
    if not stock and not warehouse:
        return None, None, []
    errors = []
    count = None
    try:
        count = int(stock)
    except ValueError:
        errors.append(
            FieldError("stock", f"{stock!r} is not a whole number" if stock else "required with a warehouse")
        )
    if count is not None and count < 0:
        errors.append(FieldError("stock", "must not be negative"))
    if not warehouse:
        errors.append(FieldError("warehouse", "required with stock: the code of the warehouse holding it"))
    elif not REF.match(warehouse):
        errors.append(FieldError("warehouse", "a warehouse code"))
    return (None, None, errors) if errors else (count, warehouse, [])


def commission_for(rates: dict[str, Decimal], category: str) -> Decimal:
    """The category's own rate, else the marketplace default ('*'), else none."""
    return rates.get(category, rates.get("*", Decimal(0)))


def check_code_list(codes: list[str]) -> list[str]:
    """Marketplace codes, de-duplicated in their given order."""
    return list(dict.fromkeys(c.strip() for c in codes if c.strip()))
