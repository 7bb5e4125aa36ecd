"""Paid flash orders become ordinary orders through the outbox, on SQLite and PostgreSQL: what is
written, that a redelivered event writes nothing twice, and that the orders ship and refund as any."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.campaigns.flash import orders as flash_orders
from entrepot.catalog import service as catalog
from entrepot.logistics import events as logistics_events
from entrepot.ordering.models import Order, OrderLine, Payment
from entrepot.organization import service as organization
from entrepot.organization.domain import MarketSpec
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry, relay_once
from tests.api.helpers import API
from tests.api.test_flash_api import create_sale, take
from tests.world import T0, World


def _sale(client: TestClient, world: World) -> str:
    """A sale open from the world's start, with units enough for every test here."""
    sale: str = create_sale(client, world, stock=5, starts_at=T0.isoformat())["id"]
    return sale


def _buy(client: TestClient, world: World, sale: str, who: str, quantity: int, pay: str | None) -> Any:
    response = take(client, world, sale, who, quantity, pay)
    assert response.status_code == 201, response.text
    return response.json()


def _paid_events(world: World) -> list[OutboxEvent]:
    with world.db.transaction() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.type == flash_orders.PAID)))


def _registry(client: TestClient) -> HandlerRegistry:
    registry = HandlerRegistry()
    flash_orders.register(registry, client.app.state.ctx.fx)  # type: ignore[attr-defined]
    logistics_events.register(registry, client.app.state.ctx.fx)  # type: ignore[attr-defined]  # order.paid -> shipment, as in the app
    return registry


def test_paid_flash_orders_become_paid_ordinary_orders(world: World) -> None:
    client = world.client()
    sale = _sale(client, world)
    two = _buy(client, world, sale, "buyer_a", 2, "card")
    one = _buy(client, world, sale, "buyer_b", 1, "card")
    unpaid = _buy(client, world, sale, "buyer_b", 1, None)  # reserved, never paid: no order
    # one event per batch that recorded payments (here each request's payment lands in a batch of its own)
    assert sorted(ref for e in _paid_events(world) for ref in e.payload["orders"]) == sorted(
        [two["id"], one["id"]]
    )
    assert relay_once(world.db, _registry(client), world.clock()) >= 2
    ref = flash_orders.order_ref_of(two["id"])
    order = client.get(f"{API}/orders/{ref}", headers=world.auth("buyer_a"))
    assert order.status_code == 200, order.text
    body = order.json()
    assert (body["status"], body["total_minor"], body["shipping_minor"], body["currency"]) == (
        "paid",
        1980,
        0,
        "SGD",
    )
    assert body["tax_minor"] == 1980 - round(1980 / 1.09)  # the sale price includes Singapore's GST
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 2
        line = s.execute(select(OrderLine).join(Order).where(Order.public_id == ref)).scalar_one()
        assert (line.quantity, line.unit_price_minor, line.line_total_minor) == (2, 990, 1980)
        payment = s.execute(select(Payment).join(Order).where(Order.public_id == ref)).scalar_one()
        assert (payment.public_id, payment.status, payment.amount_minor) == (
            two["payment_id"],
            "succeeded",
            1980,
        )
        paid = s.scalars(select(OutboxEvent.aggregate_id).where(OutboxEvent.type == "order.paid")).all()
        assert sorted(paid) == sorted([ref, flash_orders.order_ref_of(one["id"])])
        assert flash_orders.order_ref_of(unpaid["id"]) not in paid


def test_a_redelivered_event_writes_nothing_twice(world: World) -> None:
    client = world.client()
    sale = _sale(client, world)
    bought = _buy(client, world, sale, "buyer_a", 1, "card")
    [row] = _paid_events(world)
    event = Event(row.public_id, row.type, row.aggregate_id, row.payload, row.occurred_at)
    handle = flash_orders.handler(client.app.state.ctx.fx)  # type: ignore[attr-defined]
    for _ in range(2):  # delivered, then delivered again (a relay that died before marking it done)
        with world.db.transaction() as s:
            handle(s, event)
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        paid = s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "order.paid"))
        assert paid == 1
        assert flash_orders.convert(s, [bought["id"]], client.app.state.ctx.fx, world.clock()) == []  # type: ignore[attr-defined]


def test_a_flash_order_once_ordinary_can_be_refunded_by_its_seller(world: World) -> None:
    client = world.client()
    sale = _sale(client, world)
    bought = _buy(client, world, sale, "buyer_a", 1, "card")
    relay_once(world.db, _registry(client), world.clock())
    ref = flash_orders.order_ref_of(bought["id"])
    refund = client.post(
        f"{API}/orders/{ref}/refunds",
        json={"amount_minor": 990, "reason": "flash item damaged"},
        headers=world.auth("seller_a"),
    )
    assert refund.status_code == 201, refund.text
    order = client.get(f"{API}/orders/{ref}", headers=world.auth("buyer_a")).json()
    assert (order["status"], order["refunded_minor"]) == ("refunded", 990)


def test_in_a_market_pricing_before_tax_the_order_is_still_what_the_buyer_paid(world: World) -> None:
    """A flash price includes tax wherever it is sold: the order's total is the amount paid, not that
    plus tax, and its tax is the part of it Malaysia's rate implies."""
    client = world.client()
    with world.db.transaction() as s:
        my = MarketSpec("MY", "MYR", "en_MY", "Asia/Kuala_Lumpur", Decimal("0.06"))
        organization.create_market(s, "lazada", my, False, 500, 900, T0)
        catalog.set_price(s, catalog.get_sku(s, world.ids["seller_a_red"]), "lazada-my", 5300, "MYR")
    sale = create_sale(client, world, market="lazada-my", sale_price_minor=5300, starts_at=T0.isoformat())
    bought = _buy(client, world, sale["id"], "buyer_a", 1, "card")
    relay_once(world.db, _registry(client), world.clock())
    order = client.get(
        f"{API}/orders/{flash_orders.order_ref_of(bought['id'])}", headers=world.auth("buyer_a")
    )
    body = order.json()
    assert (body["total_minor"], body["subtotal_minor"], body["shipping_minor"]) == (5300, 5300, 0), body
    assert body["tax_minor"] == 5300 - 5000  # 6 % on top of 50.00 makes 53.00
