"""Use cases of the catalog: sellers, products and SKUs, prices, commissions and CSV import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, Select, bindparam, select
from sqlalchemy.orm import Session

from entrepot.catalog.domain import (
    CSV_COLUMNS,
    CatalogRow,
    ProductSpec,
    SkuSpec,
    check_code_list,
    parse_row,
    product_errors,
    sku_errors,
    unit_volume_cm3,
)
from entrepot.catalog.models import CommissionRate, Price, Product, Seller, SellerMarketplace, Sku
from entrepot.kernel.bounds import BoundedCsv
from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed, not_found
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import amount_problem
from entrepot.organization import service as organization
from entrepot.organization.service import MarketView
from entrepot.platform import audit
from entrepot.platform.db import by_public_id, record_event
from entrepot.platform.principal import Principal


def create_seller(
    session: Session, name: str, country: str, marketplaces: list[str], now: dt.datetime
) -> Seller:
    errors = []
    if not name.strip():
        errors.append(FieldError("name", "required"))
    if (bad_country := country_error(country)) is not None:
        errors.append(bad_country)
    if not marketplaces:
        errors.append(FieldError("marketplaces", "a seller sells on at least one marketplace"))
    if errors:
        raise ValidationFailed("invalid seller", errors)
    seller = Seller(public_id=new_id("sel"), name=name, country=country, created_at=now)
    session.add(seller)
    session.flush()
    for code in check_code_list(marketplaces):
        join_marketplace(session, seller, code)
    record_event(session, DomainEvent("seller.created", seller.public_id, {"name": name}), now)
    after = {"name": name, "country": country, "marketplaces": marketplaces}
    audit.record(session, "seller.created", seller.public_id, None, after, now)
    return seller


def join_marketplace(session: Session, seller: Seller, business_unit_code: str) -> None:
    unit = organization.get_unit(session, business_unit_code)
    if unit.kind != "business_unit":
        raise ValidationFailed(
            "sellers join marketplaces", [FieldError("marketplaces", f"{unit.code} is a {unit.kind}")]
        )
    if session.get(SellerMarketplace, (seller.id, unit.id)) is None:
        session.add(SellerMarketplace(seller_id=seller.id, business_unit_id=unit.id))


def seller_marketplace_ids(session: Session, seller_id: int) -> set[int]:
    rows = session.scalars(
        select(SellerMarketplace.business_unit_id).where(SellerMarketplace.seller_id == seller_id)
    )
    return set(rows)


def get_seller(session: Session, public_id: str) -> Seller:
    return by_public_id(session, Seller, public_id, "seller")


def visible_seller(session: Session, principal: Principal, public_id: str) -> Seller:
    """A seller as `principal` may see it: an operator any, a seller only itself (another seller is
    unknown to it: 404, as one that does not exist)."""
    if not principal.is_operator and principal.seller_public_id != public_id:
        raise not_found("seller", public_id)
    return get_seller(session, public_id)


def acting_seller(session: Session, principal: Principal, seller: str | None) -> Seller:
    """The seller a write is for: a seller acts for itself; an operator names one."""
    if principal.role == "seller":
        if seller not in (None, principal.seller_public_id):
            raise Forbidden("a seller acts only for itself")
        return get_seller(session, principal.seller_public_id or "")
    if principal.is_operator:
        if not seller:
            raise ValidationFailed("operators name the seller", [FieldError("seller", "required")])
        return get_seller(session, seller)
    raise Forbidden("buyers cannot change the catalog")


def seller_id_of(session: Session, public_id: str) -> int:
    """The internal id of a seller named by its public id (what other contexts' rows refer to)."""
    found = session.scalar(select(Seller.id).where(Seller.public_id == public_id))
    if found is None:
        raise NotFound(f"no seller {public_id}")
    return found


def seller_public_id(seller_id_column: ColumnExpressionArgument[int | None]) -> ScalarSelect[str]:
    """The public id of the seller `seller_id_column` refers to, as an expression for another
    context's query (correlated, so its one statement stays one: the API key lookup, say)."""
    return select(Seller.public_id).where(Seller.id == seller_id_column).scalar_subquery()


def sku_public_id(sku_id_column: ColumnExpressionArgument[int]) -> ScalarSelect[str]:
    """The public id of the SKU `sku_id_column` refers to, as an expression for another context's
    query (a cart's lines, say), so that reading them stays one statement."""
    return select(Sku.public_id).where(Sku.id == sku_id_column).scalar_subquery()


def seller_scope(principal: Principal) -> int | None:
    """None for operators (everything); the seller's own id for sellers; buyers see no admin views."""
    if principal.is_operator:
        return None
    if principal.role == "seller":
        return principal.seller_id
    raise Forbidden("this view is for sellers and operators")


def create_product(
    session: Session, seller: Seller, spec: ProductSpec, skus: list[SkuSpec], now: dt.datetime
) -> Product:
    errors = product_errors(spec)
    for index, sku in enumerate(skus):
        errors += [FieldError(f"skus[{index}].{e.field}", e.message) for e in sku_errors(sku)]
    if not skus:
        errors.append(FieldError("skus", "a product has at least one SKU"))
    if len({s.code for s in skus}) != len(skus):
        errors.append(FieldError("skus", "SKU codes repeat"))
    if errors:
        raise ValidationFailed("invalid product", errors)
    if _product_by_ref(session, seller.id, spec.ref) is not None:
        raise Conflict(f"product {spec.ref!r} exists for this seller", code="duplicate")
    taken = _existing_sku_codes(session, seller.id, [s.code for s in skus])
    if taken:
        raise Conflict(f"SKU codes already used: {', '.join(sorted(taken))}", code="duplicate")
    product = _new_product(session, seller, spec, now)
    for sku in skus:
        _new_sku(session, product, sku, now)
    after = {"seller": seller.public_id, "ref": spec.ref, "skus": [s.code for s in skus]}
    audit.record(session, "product.created", product.public_id, None, after, now)
    return product


def _new_product(session: Session, seller: Seller, spec: ProductSpec, now: dt.datetime) -> Product:
    product = Product(
        public_id=new_id("prd"),
        seller_id=seller.id,
        ref=spec.ref,
        title=spec.title,
        category=spec.category,
        hs_code=spec.hs_code,
        origin_country=spec.origin_country,
        created_at=now,
    )
    session.add(product)
    session.flush()
    return product


def _new_sku(session: Session, product: Product, spec: SkuSpec, now: dt.datetime) -> Sku:
    sku = Sku(
        public_id=new_id("sku"),
        product_id=product.id,
        seller_id=product.seller_id,
        code=spec.code,
        weight_g=spec.weight_g,
        length_mm=spec.length_mm,
        width_mm=spec.width_mm,
        height_mm=spec.height_mm,
        created_at=now,
    )
    session.add(sku)
    session.flush()
    return sku


def _product_by_ref(session: Session, seller_id: int, ref: str) -> Product | None:
    return session.scalar(select(Product).where(Product.seller_id == seller_id, Product.ref == ref))


def _existing_sku_codes(session: Session, seller_id: int, codes: list[str]) -> set[str]:
    return set(session.scalars(select(Sku.code).where(Sku.seller_id == seller_id, Sku.code.in_(codes))))


@dataclass(frozen=True, slots=True)
class SkuView:
    """A SKU as the other contexts see it: a read-only value built from its row."""

    id: int
    public_id: str
    product_id: int
    seller_id: int
    code: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int

    @classmethod
    def of(cls, sku: Sku) -> SkuView:
        return cls(
            sku.id,
            sku.public_id,
            sku.product_id,
            sku.seller_id,
            sku.code,
            sku.weight_g,
            sku.length_mm,
            sku.width_mm,
            sku.height_mm,
        )


def get_sku(session: Session, public_id: str, seller_id: int | None = None) -> SkuView:
    """A SKU; when `seller_id` is given, another seller's SKU is reported as not found."""
    mine = Sku.seller_id == seller_id if seller_id is not None else None
    return SkuView.of(by_public_id(session, Sku, public_id, "SKU", where=mine))


def set_price(session: Session, sku: SkuView, market_code: str, amount_minor: int, currency: str) -> Price:
    market = organization.get_market(session, market_code)
    if currency != market.currency:
        raise ValidationFailed(
            f"{market.code} prices in {market.currency}, not {currency}",
            [FieldError("currency", f"must be {market.currency}")],
        )
    problem = amount_problem(amount_minor, market.currency)
    if problem is not None:
        raise ValidationFailed("invalid price", [FieldError("amount_minor", problem)])
    if market.business_unit_id not in seller_marketplace_ids(session, sku.seller_id):
        raise ValidationFailed(
            "the seller does not sell on this marketplace", [FieldError("market", f"{market.code}")]
        )
    price = session.scalar(select(Price).where(Price.sku_id == sku.id, Price.market_id == market.id))
    before = None if price is None else {"amount_minor": price.amount_minor, "currency": price.currency}
    price = _put_price(session, price, sku.id, market, amount_minor)
    after = {"amount_minor": amount_minor, "currency": market.currency}
    audit.record(session, "price.set", f"{sku.public_id}@{market.code}", before, after)
    session.flush()
    return price


def _put_price(
    session: Session, price: Price | None, sku_id: int, market: MarketView, amount_minor: int
) -> Price:
    """The SKU's price in the market (a checked amount in the market's currency): the row, new or updated."""
    if price is None:
        price = Price(sku_id=sku_id, market_id=market.id, amount_minor=amount_minor, currency=market.currency)
        session.add(price)
    else:
        price.amount_minor = amount_minor
    return price


def set_commission(session: Session, business_unit_code: str, category: str, rate: Decimal) -> None:
    unit = organization.get_unit(session, business_unit_code)
    if not Decimal(0) <= rate < Decimal(1):
        raise ValidationFailed("invalid commission", [FieldError("rate", "a fraction from 0 up to 1")])
    row = session.scalar(
        select(CommissionRate).where(
            CommissionRate.business_unit_id == unit.id, CommissionRate.category == category
        )
    )
    before = None if row is None else {"rate": str(row.rate)}
    if row is None:
        session.add(CommissionRate(business_unit_id=unit.id, category=category, rate=rate))
    else:
        row.rate = rate
    audit.record(session, "commission.set", f"{business_unit_code}/{category}", before, {"rate": str(rate)})


# Checkout reads these on every order: built once, with bind parameters.
_COMMISSIONS = select(CommissionRate.category, CommissionRate.rate).where(
    CommissionRate.business_unit_id == bindparam("unit")
)
_PRICED_SKUS = (
    select(
        Sku.id,
        Sku.public_id,
        Sku.seller_id,
        Seller.public_id,
        Product.category,
        Price.amount_minor,
        Price.currency,
        Sku.weight_g,
        Sku.length_mm,
        Sku.width_mm,
        Sku.height_mm,
    )
    .join(Product, Product.id == Sku.product_id)
    .join(Seller, Seller.id == Sku.seller_id)
    .join(Price, (Price.sku_id == Sku.id) & (Price.market_id == bindparam("market")))
    .where(Sku.public_id.in_(bindparam("skus", expanding=True)))
)


def commission_rates(session: Session, business_unit_id: int) -> dict[str, Decimal]:
    rows = session.execute(_COMMISSIONS, {"unit": business_unit_id})
    return {category: Decimal(rate) for category, rate in rows}


@dataclass(frozen=True)
class PricedSku:
    sku_id: int
    public_id: str
    seller_id: int
    seller_public_id: str
    category: str
    unit_price_minor: int
    currency: str
    weight_g: int  # of one unit, as the next: for packing the basket into parcels
    volume_cm3: int


def priced_skus(session: Session, market_id: int, public_ids: list[str]) -> dict[str, PricedSku]:
    """SKUs with their price in a market, in one query. SKUs without a price there are left out."""
    rows = session.execute(_PRICED_SKUS, {"market": market_id, "skus": public_ids}).all()
    return {
        r.public_id: PricedSku(*r[:8], volume_cm3=unit_volume_cm3(r.length_mm, r.width_mm, r.height_mm))
        for r in rows
    }


class StockPort(Protocol):
    """How a catalog import sets the optional stock columns: inventory implements it (catalog sits below
    inventory and never reads its tables). Errors come back before anything of the row is written."""

    def stock_errors(self, sku: SkuView | None, warehouse: str, on_hand: int) -> list[FieldError]:
        """Why `on_hand` units of `sku` (None: a SKU the import creates) cannot be set in `warehouse`."""
        ...

    def set_on_hand(self, sku: SkuView, warehouse: str, on_hand: int) -> None: ...


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    products_created: int = 0
    skus_created: int = 0
    prices_set: int = 0
    stock_set: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_catalog_csv(
    session: Session,
    seller: Seller,
    text: str,
    partial: bool,
    now: dt.datetime,
    stock: StockPort | None = None,
) -> ImportReport:
    """Validate every row, then import. By default one bad row rejects the file (nothing written);
    with `partial`, the good rows import and the bad ones are reported. A row never half-imports.
    Rows with the optional stock columns set the units on hand through `stock` (refused without one)."""
    report = ImportReport()
    table = BoundedCsv(text)  # a field too long or with a control character refuses the whole file
    missing = [c for c in CSV_COLUMNS if c not in table.fieldnames]
    if missing:
        raise ValidationFailed(
            f"the CSV header lacks columns: {', '.join(missing)}",
            [FieldError("file", f"expected columns: {', '.join(CSV_COLUMNS)}")],
        )
    context = _ImportContext(session, seller, stock)
    good: list[CatalogRow] = []
    for line, raw in table.rows():
        report.rows += 1
        row, errors = parse_row(line, raw)
        errors += context.row_errors(row) if row else []
        if errors:
            report.errors.append({"line": line, "errors": [e.__dict__ for e in errors]})
        elif row is not None:
            good.append(row)
    if report.errors and not partial:
        return report
    context.load_existing(good)
    for row in good:
        # A row is refused before it writes anything, so a refused row needs no savepoint; anything
        # else that fails (a race on a unique code) fails the caller's transaction, the whole file.
        try:
            _import_row(session, context, row, report, now)
        except Conflict as exc:
            if not partial:
                raise
            report.errors.append({"line": row.line, "errors": [{"field": "row", "message": exc.detail}]})
    # one entry for the file: what it did, counted (each row's stock is recorded by inventory's set)
    counts = {k: v for k, v in report.__dict__.items() if k != "errors"} | {"refused": len(report.errors)}
    audit.record(session, "catalog.imported", seller.public_id, None, counts, now)
    session.flush()
    return report


class _ImportContext:
    """What one import looks up again and again, read once: markets by code, the seller's marketplaces,
    and the seller's products, SKUs and prices that the file names (a large catalog is thousands of rows)."""

    def __init__(self, session: Session, seller: Seller, stock: StockPort | None) -> None:
        self.session = session
        self.seller = seller
        self.stock = stock
        self.marketplaces = seller_marketplace_ids(session, seller.id)
        self.markets: dict[str, MarketView] = {}
        self.products: dict[str, Product] = {}
        self.skus: dict[str, Sku] = {}
        self.prices: dict[tuple[int, int], Price] = {}

    def row_errors(self, row: CatalogRow) -> list[FieldError]:
        if row.market not in self.markets:
            try:
                self.markets[row.market] = organization.get_market(self.session, row.market)
            except NotFound as exc:
                return [FieldError("market", exc.detail)]
        market = self.markets[row.market]
        if row.currency != market.currency:
            return [FieldError("currency", f"{market.code} prices in {market.currency}")]
        if market.business_unit_id not in self.marketplaces:
            return [FieldError("market", f"the seller does not sell on {market.code}'s marketplace")]
        if row.stock is not None and row.warehouse is not None:
            if self.stock is None:
                return [FieldError("stock", "this import cannot set stock")]
            return self.stock.stock_errors(None, row.warehouse, row.stock)
        return []

    def load_existing(self, rows: list[CatalogRow]) -> None:
        session, seller_id = self.session, self.seller.id
        refs = sorted({r.product.ref for r in rows})
        codes = sorted({r.sku.code for r in rows})
        self.products = {
            p.ref: p
            for p in session.scalars(
                select(Product).where(Product.seller_id == seller_id, Product.ref.in_(refs))
            )
        }
        self.skus = {
            s.code: s
            for s in session.scalars(select(Sku).where(Sku.seller_id == seller_id, Sku.code.in_(codes)))
        }
        sku_ids = [s.id for s in self.skus.values()]
        self.prices = {
            (p.sku_id, p.market_id): p
            for p in session.scalars(select(Price).where(Price.sku_id.in_(sku_ids)))
        }


def _stock_errors(context: _ImportContext, sku: Sku, row: CatalogRow) -> list[FieldError]:
    assert context.stock is not None and row.stock is not None and row.warehouse is not None
    return context.stock.stock_errors(SkuView.of(sku), row.warehouse, row.stock)


def _import_row(
    session: Session, context: _ImportContext, row: CatalogRow, report: ImportReport, now: dt.datetime
) -> None:
    product = context.products.get(row.product.ref)
    sku = context.skus.get(row.sku.code)
    if sku is not None and (product is None or sku.product_id != product.id):
        raise Conflict(f"line {row.line}: SKU {row.sku.code} belongs to another product")
    has_stock = row.stock is not None and row.warehouse is not None and context.stock is not None
    # an existing SKU may have units reserved there: refused before the row writes anything
    if sku is not None and has_stock and (problems := _stock_errors(context, sku, row)):
        raise Conflict(f"line {row.line}: {problems[0].field}: {problems[0].message}")
    if product is None:
        product = context.products[row.product.ref] = _new_product(session, context.seller, row.product, now)
        report.products_created += 1
    if sku is None:
        sku = context.skus[row.sku.code] = _new_sku(session, product, row.sku, now)
        report.skus_created += 1
    market = context.markets[row.market]  # row_errors found it, and checked its currency and marketplace
    key = (sku.id, market.id)
    context.prices[key] = _put_price(session, context.prices.get(key), sku.id, market, row.price_minor)
    report.prices_set += 1
    if has_stock and context.stock is not None and row.stock is not None and row.warehouse is not None:
        context.stock.set_on_hand(SkuView.of(sku), row.warehouse, row.stock)
        report.stock_set += 1
    report.imported += 1


def product_skus(session: Session, product_ids: list[int]) -> dict[int, list[Sku]]:
    grouped: dict[int, list[Sku]] = {pid: [] for pid in product_ids}
    for sku in session.scalars(select(Sku).where(Sku.product_id.in_(product_ids)).order_by(Sku.id)):
        grouped[sku.product_id].append(sku)
    return grouped


def list_products(
    session: Session, seller_id: int | None, after: int | None, limit: int, category: str | None = None
) -> list[tuple[Product, str]]:
    query = select(Product, Seller.public_id).join(Seller, Seller.id == Product.seller_id)
    if seller_id is not None:
        query = query.where(Product.seller_id == seller_id)
    if category:
        query = query.where(Product.category == category)
    if after is not None:
        query = query.where(Product.id > after)
    return [(p, s) for p, s in session.execute(query.order_by(Product.id).limit(limit)).all()]


def get_product(session: Session, public_id: str, seller_id: int | None) -> tuple[Product, str]:
    query = select(Product, Seller.public_id).join(Seller, Seller.id == Product.seller_id)
    query = query.where(Product.public_id == public_id)
    if seller_id is not None:
        query = query.where(Product.seller_id == seller_id)
    row = session.execute(query).first()
    if row is None:
        raise not_found("product", public_id)
    return row[0], row[1]


@dataclass(frozen=True)
class MarketSku:
    row_id: int
    sku: str
    code: str
    title: str
    category: str
    seller: str
    sku_id: int
    price_minor: int
    currency: str


def market_skus(
    session: Session,
    market_id: int,
    after: int | None,
    limit: int,
    category: str | None,
    seller: str | None,
    search: str | None = None,
) -> list[MarketSku]:
    """What a market sells: its priced SKUs, in price-row order for stable paging; `search`: those whose
    product title holds it, in any case (typed as is: % and _ are not wildcards)."""
    query = (
        select(
            Price.id,
            Sku.public_id,
            Sku.code,
            Product.title,
            Product.category,
            Seller.public_id,
            Sku.id,
            Price.amount_minor,
            Price.currency,
        )
        .join(Sku, Sku.id == Price.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .join(Seller, Seller.id == Sku.seller_id)
        .where(Price.market_id == market_id)
    )
    if category:
        query = query.where(Product.category == category)
    if seller:
        query = query.where(Seller.public_id == seller)
    if search:
        query = query.where(Product.title.icontains(search, autoescape=True))
    if after is not None:
        query = query.where(Price.id > after)
    return [MarketSku(*row) for row in session.execute(query.order_by(Price.id).limit(limit)).all()]


def seller_skus(session: Session, seller_id: int) -> list[SkuView]:
    return [
        SkuView.of(s) for s in session.scalars(select(Sku).where(Sku.seller_id == seller_id).order_by(Sku.id))
    ]


# For other contexts' reads: a seller named in their filters, and what shipping needs of SKUs.


def seller_id_with_public_id(public_id: str) -> ScalarSelect[int]:
    """The id of the seller with this public id (NULL when there is none), for another context's filter."""
    return select(Seller.id).where(Seller.public_id == public_id).scalar_subquery()


@dataclass(frozen=True, slots=True)
class ShippableSku:
    """What a parcel needs of a SKU: its weight and size, and its product's customs facts."""

    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    hs_code: str
    origin_country: str
    title: str


def shippable_skus(session: Session, sku_ids: Collection[int]) -> dict[int, ShippableSku]:
    """id -> the SKU's shipping facts, in one query."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(
            Sku.id,
            Sku.weight_g,
            Sku.length_mm,
            Sku.width_mm,
            Sku.height_mm,
            Product.hs_code,
            Product.origin_country,
            Product.title,
        )
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(set(sku_ids)))
    )
    return {
        sku_id: ShippableSku(weight, length, width, height, hs_code, origin, title)
        for sku_id, weight, length, width, height, hs_code, origin, title in rows
    }


def list_sellers(session: Session, after: int | None, limit: int, search: str | None = None) -> list[Seller]:
    """Sellers in the order they joined, keyset-paginated on the internal id; `search`: those whose
    name holds it, in any case (typed as is: % and _ are not wildcards)."""
    query = select(Seller).order_by(Seller.id).limit(limit)
    if search:
        query = query.where(Seller.name.icontains(search, autoescape=True))
    if after is not None:
        query = query.where(Seller.id > after)
    return list(session.scalars(query))


def commission_table(session: Session, business_unit_ids: Collection[int]) -> dict[int, dict[str, Decimal]]:
    """business unit id -> category -> commission rate (`*`: any other category), in one query."""
    table: dict[int, dict[str, Decimal]] = {unit_id: {} for unit_id in business_unit_ids}
    if not table:
        return table
    rows = session.execute(
        select(CommissionRate.business_unit_id, CommissionRate.category, CommissionRate.rate)
        .where(CommissionRate.business_unit_id.in_(table))
        .order_by(CommissionRate.category)
    )
    for unit_id, category, rate in rows:
        table[unit_id][category] = Decimal(rate)
    return table


@dataclass(frozen=True, slots=True)
class MarketPrice:
    market: str
    amount_minor: int
    currency: str


def sku_prices(session: Session, sku_ids: Collection[int]) -> dict[int, list[MarketPrice]]:
    """SKU id -> its price in each market, by market code, in one query."""
    prices: dict[int, list[MarketPrice]] = {sku_id: [] for sku_id in sku_ids}
    if not prices:
        return prices
    market = organization.market_code(Price.market_id).label("market")
    rows = session.execute(
        select(Price.sku_id, market, Price.amount_minor, Price.currency)
        .where(Price.sku_id.in_(prices))
        .order_by(Price.sku_id, market)
    )
    for sku_id, code, amount, currency in rows:
        prices[sku_id].append(MarketPrice(code, amount, currency))
    return prices


def skus_priced_in(market_id: int) -> Select[int]:
    """The ids of the SKUs with a price in a market, as a subquery for another context's filter."""
    return select(Price.sku_id).where(Price.market_id == market_id)


def sellers_marketplace_ids(session: Session, seller_ids: Collection[int]) -> dict[int, set[int]]:
    """seller id -> the ids of the marketplaces (business units) it sells on, in one query."""
    found: dict[int, set[int]] = {seller_id: set() for seller_id in seller_ids}
    if not found:
        return found
    rows = session.execute(
        select(SellerMarketplace.seller_id, SellerMarketplace.business_unit_id).where(
            SellerMarketplace.seller_id.in_(found)
        )
    )
    for seller_id, unit_id in rows:
        found[seller_id].add(unit_id)
    return found


def skus_of_seller(seller_id: int) -> Select[int]:
    """The ids of a seller's SKUs, as a subquery for another context's filter (a seller's stock)."""
    return select(Sku.id).where(Sku.seller_id == seller_id)


@dataclass(frozen=True, slots=True)
class SkuLabel:
    """What a page shows of a SKU in another context's list: its ids, code and product."""

    public_id: str
    code: str
    product: str
    title: str


def sku_labels(session: Session, sku_ids: Collection[int]) -> dict[int, SkuLabel]:
    """id -> the SKU's label, in one query."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(Sku.id, Sku.public_id, Sku.code, Product.public_id, Product.title)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(set(sku_ids)))
    )
    return {
        sku_id: SkuLabel(public_id, code, product, title) for sku_id, public_id, code, product, title in rows
    }
