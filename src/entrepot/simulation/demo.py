"""Seed the demo group and drive weeks of orders through the real checkout and payment services."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import CSV_COLUMNS
from entrepot.identity import service as identity
from entrepot.inventory import service as inventory
from entrepot.kernel.money import Money, minor_unit_exponent
from entrepot.logistics import service as logistics
from entrepot.logistics.network_data import demo_network
from entrepot.organization import service as organization
from entrepot.organization.domain import MarketSpec
from entrepot.platform.deps import AppContext
from entrepot.platform.principal import Principal
from entrepot.simulation import scenario

Progress = Callable[[str, int, int], None]  # (task, done, total)


@dataclass(frozen=True)
class DemoSize:
    sellers: int = 300
    products_per_seller: int = 5
    buyers: int = 2000
    orders_per_day: int = 180
    start: dt.date = dt.date(2025, 11, 1)
    days: int = 44  # to 14 Dec 2025: takes in 11.11 and 12.12
    seed: int = 20211206

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)


@dataclass
class Listing:
    seller: str
    skus: list[str]


@dataclass
class Seeded:
    listings: dict[str, list[Listing]] = field(default_factory=dict)  # market code -> what sells there
    buyers: dict[str, list[Principal]] = field(default_factory=dict)  # country -> buyers
    sellers: dict[int, Principal] = field(default_factory=dict)  # seller row id -> principal


def already_seeded(ctx: AppContext) -> bool:
    with ctx.db.transaction() as session:
        return organization.find_unit(session, scenario.GROUP[1]) is not None


def seed(ctx: AppContext, size: DemoSize, progress: Progress) -> Seeded:
    rng = random.Random(size.seed)
    now = dt.datetime.combine(size.start, dt.time(0), dt.UTC) - dt.timedelta(days=30)
    with ctx.db.transaction() as session:
        seed_organisation(session, now)
        _seed_markets(session, size, now, ctx.clock().date())
        for code, city, country, lat, lon in scenario.WAREHOUSES:
            inventory.create_warehouse(session, code, f"{city} fulfilment centre", country, lat, lon, now)
        for unit, rates in scenario.COMMISSIONS.items():
            for category, rate in rates.items():
                catalog.set_commission(session, unit, category, rate)
    with ctx.db.transaction() as session:  # the logistics network; its warehouses are the ones above
        nodes, _lanes = logistics.store_network(session, demo_network())
    progress("logistics network (nodes)", nodes, nodes)
    seeded = Seeded()
    _seed_sellers(ctx, size, rng, now, seeded, progress)
    _seed_buyers(ctx, size, rng, now, seeded, progress)
    return seeded


def seed_organisation(session: Session, now: dt.datetime) -> None:
    """The group before the reorganisation, then the moves that made China and International commerce,
    and the closing of the units they emptied."""
    kind, code, name, parent = scenario.GROUP
    organization.create_unit(session, kind, code, name, parent, scenario.HISTORY_START, now)
    for kind, code, name, parent in scenario.BEFORE:
        organization.create_unit(session, kind, code, name, parent, scenario.HISTORY_START, now)
    for kind, code, name, parent in scenario.AFTER_UNITS:
        organization.create_unit(session, kind, code, name, parent, scenario.REORGANISATION, now)
    for code, parent in scenario.MOVES:
        organization.move_unit(session, code, parent, scenario.REORGANISATION, now)
    for code in scenario.CLOSED:
        organization.close_unit(session, code, scenario.REORGANISATION, now)


def _seed_markets(session: Session, size: DemoSize, now: dt.datetime, today: dt.date) -> None:
    """Markets, and operator rates for the currencies the ECB does not publish on every day from two
    years before the first order (growth at constant currency translates the fiscal year at the prior
    year's rates) to the later of the demo's end and today, so orders placed on the served demo are
    stated on a fresh rate too."""
    first = size.start - dt.timedelta(days=731)
    last = max(size.end + dt.timedelta(days=40), today)
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        for currency, (per_usd, note) in scenario.MANUAL_RATES.items():
            organization.set_manual_rate(session, currency, day, per_usd, note)
    for unit, markets in scenario.MARKETS.items():
        for m in markets:
            organization.create_market(
                session,
                unit,
                MarketSpec(m.country, m.currency, m.locale, m.time_zone, m.tax_rate),
                True,
                Money.from_decimal(m.domestic_fee, m.currency).minor,
                Money.from_decimal(m.cross_border_fee, m.currency).minor,
                now,
            )


def _usd_rates(ctx: AppContext, session: Session, on: dt.date) -> dict[str, Decimal]:
    """Units of each market currency per US dollar on a day, from the same FX service orders use."""
    rates = {}
    for markets in scenario.MARKETS.values():
        for m in markets:
            fx = organization.rates_for(session, ctx.fx, m.currency, on)
            rates[m.currency] = fx.convert(Money(10**8, "USD"), m.currency, on).amount.to_decimal() / Decimal(
                10**6
            )
    return rates


def _seller_plan(index: int, rng: random.Random) -> tuple[str, list[str]]:
    """Chinese sellers on the China marketplaces and AliExpress; Southeast Asian ones on Lazada at home."""
    if index % 3 == 0:
        return rng.choice(list(scenario.SEA)), ["lazada"]
    return "CN", rng.choice(
        [["taobao"], ["tmall"], ["taobao", "aliexpress"], ["aliexpress"], ["tmall", "aliexpress"]]
    )


def _markets_for(country: str, units: list[str]) -> list[str]:
    return [
        f"{unit}-{m.country.lower()}"
        for unit in units
        for m in scenario.MARKETS[unit]
        if unit != "lazada" or m.country == country
    ]


def _seed_sellers(
    ctx: AppContext, size: DemoSize, rng: random.Random, now: dt.datetime, seeded: Seeded, progress: Progress
) -> None:
    with ctx.db.transaction() as session:
        rates = _usd_rates(ctx, session, size.start)
    homes_by_country: dict[str, list[str]] = {}
    for code, _, country, _, _ in scenario.WAREHOUSES:
        homes_by_country.setdefault(country, []).append(code)
    for index in range(size.sellers):
        country, units = _seller_plan(index, rng)
        markets = _markets_for(country, units)
        with ctx.db.transaction() as session:
            seller = catalog.create_seller(
                session, f"Seller {index + 1:04d} ({country})", country, units, now
            )
            report = catalog.import_catalog_csv(
                session, seller, _catalog_csv(index, size, rng, markets, rates), False, now
            )
            assert report.ok, report.errors
            skus = catalog.seller_skus(session, seller.id)
            for sku in skus:
                homes = rng.sample(homes_by_country[country], k=min(2, len(homes_by_country[country])))
                if (
                    "aliexpress" in units and rng.random() < 0.3
                ):  # some stock already sits in a local warehouse
                    homes.append(rng.choice(homes_by_country[rng.choice(list(scenario.SEA))]))
                for code in homes:
                    inventory.set_on_hand(
                        session, sku, inventory.get_warehouse(session, code), rng.randint(30, 400)
                    )
            for market in markets:
                seeded.listings.setdefault(market, []).append(
                    Listing(seller.public_id, [s.public_id for s in skus])
                )
            seeded.sellers[seller.id] = Principal("seller", "demo", seller.id, seller.public_id)
        progress("sellers and catalogs", index + 1, size.sellers)


def _catalog_csv(
    index: int, size: DemoSize, rng: random.Random, markets: list[str], rates: dict[str, Decimal]
) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for p in range(size.products_per_seller):
        category, hs_code, usd, grams = rng.choice(scenario.CATEGORIES)
        base_usd = usd * Decimal(str(round(rng.uniform(0.5, 2.0), 2)))
        origin = "CN" if rng.random() < 0.8 else rng.choice(["SG", "MY", "TH", "VN"])
        for variant in range(rng.choice([1, 2, 3])):
            size_row = {
                "weight_g": max(20, int(grams * rng.uniform(0.6, 1.4))),
                "length_mm": rng.randint(50, 500),
                "width_mm": rng.randint(50, 400),
                "height_mm": rng.randint(10, 300),
            }
            for market in markets:
                currency = _market_currency(market)
                step = Decimal(1).scaleb(-minor_unit_exponent(currency))
                price = max((base_usd * rates[currency]).quantize(step), step)
                writer.writerow(
                    {
                        "product_ref": f"P{index:04d}-{p}",
                        "title": f"{category.replace('-', ' ').title()} {index}-{p}",
                        "category": category,
                        "hs_code": hs_code,
                        "origin_country": origin,
                        "sku_code": f"S{index:04d}-P{p}-V{variant}",
                        "market": market,
                        "price": str(price),
                        "currency": currency,
                        **size_row,
                    }
                )
    return out.getvalue()


def _market_currency(market: str) -> str:
    unit, country = market.rsplit("-", 1)
    return next(m.currency for m in scenario.MARKETS[unit] if m.country == country.upper())


def _seed_buyers(
    ctx: AppContext, size: DemoSize, rng: random.Random, now: dt.datetime, seeded: Seeded, progress: Progress
) -> None:
    countries = list(scenario.BUYER_CITIES)
    weights = [40 if c == "CN" else 6 for c in countries]
    batch = 200
    for start in range(0, size.buyers, batch):
        with ctx.db.transaction() as session:
            for index in range(start, min(start + batch, size.buyers)):
                country = rng.choices(countries, weights)[0]
                lat, lon = rng.choice(scenario.BUYER_CITIES[country])
                buyer = identity.create_buyer(
                    session,
                    f"Buyer {index + 1:05d}",
                    country,
                    now,
                    lat + rng.uniform(-0.2, 0.2),
                    lon + rng.uniform(-0.2, 0.2),
                )
                seeded.buyers.setdefault(country, []).append(identity.principal_for_buyer(buyer, "demo"))
        progress("buyers", min(start + batch, size.buyers), size.buyers)
