"""The demo's city day (simulation/local_demo.py) on a fresh app: stores of demo sellers, couriers with
carrier keys of their own, a menu per store, and a day of orders from those menus left delivered, with
proof, on trips the real dispatch planned."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from entrepot.identity.models import ApiKey
from entrepot.local_services.models import Courier, DeliveryProof, LocalStore, MenuItem, OnDemandOrder, Trip
from entrepot.logistics import service as logistics
from entrepot.simulation.local_demo import LocalSize, seed_local_services
from tests.api.local_on_demand import shipped_city
from tests.api.test_carrier_scans import relay_network
from tests.world import World

__all__ = ["shipped_city"]  # fixture


def test_a_city_day_leaves_stores_couriers_and_delivered_orders_behind(
    world: World, shipped_city: None
) -> None:
    with world.db.transaction() as session:  # carrier keys name a carrier the lanes know
        logistics.store_network(session, relay_network())
    told: list[tuple[str, int, int]] = []
    size = LocalSize(day=dt.date(2025, 11, 11), orders=20, couriers=4)
    seeded = seed_local_services(world.context(), size, lambda *step: told.append(step))
    with world.db.transaction() as session:
        kinds = sorted(session.scalars(select(LocalStore.kind)))
        stores = set(session.scalars(select(LocalStore.id)))
        keys = (
            session.execute(select(ApiKey.role).join(Courier, Courier.key_id == ApiKey.public_id))
            .scalars()
            .all()
        )
        delivered = session.scalar(
            select(func.count()).select_from(OnDemandOrder).where(OnDemandOrder.state == "delivered")
        )
        proofs = session.scalar(select(func.count()).select_from(DeliveryProof))
        done_trips = session.scalar(select(func.count()).select_from(Trip).where(Trip.state == "done"))
        menus = {
            item: (store, name, price)
            for item, store, name, price in session.execute(
                select(MenuItem.public_id, MenuItem.store_id, MenuItem.name, MenuItem.price_minor)
            )
        }
        lines = [
            (order.store_id, line["name"], line["unit_price_minor"], line["item"])
            for order in session.scalars(select(OnDemandOrder))
            for line in order.items
        ]
        left = session.scalar(
            select(func.count()).select_from(OnDemandOrder).where(OnDemandOrder.state != "delivered")
        )
    assert kinds == ["grocery", "restaurant", "restaurant"]
    assert len(menus) >= 15 and {store for store, _, _ in menus.values()} == stores
    assert lines and all(menus[item] == (store, name, price) for store, name, price, item in lines)
    assert keys == ["carrier"] * 4  # each courier bound to a carrier key
    assert seeded.placed == 20 and seeded.refused == 0
    assert delivered == proofs == seeded.delivered == 20  # every order delivered, each with its proof
    assert left == 0
    assert done_trips == seeded.trips and 0 < done_trips <= 20
    assert told[-1] == ("local city day (orders delivered)", 20, 20)
