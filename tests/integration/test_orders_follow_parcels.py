"""Orders follow their parcels a relay's batch at a time: the same statuses, stamps and events as one
event at a time, nothing written for a batch naming an order that is not stored, and such an event
retried alone while the others of its batch land."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from entrepot.kernel.errors import NotFound
from entrepot.kernel.events import DomainEvent
from entrepot.ordering import service
from entrepot.ordering.events import DELIVERY_COMPLETED, DELIVERY_STARTED
from entrepot.ordering.models import Order
from entrepot.platform.db import OutboxEvent, record_event
from tests.api.helpers import paid_order, relay_all
from tests.world import World

T0 = dt.datetime(2025, 11, 12, 8, 0, tzinfo=dt.UTC)
NO_ORDER = "ord_nosuchorder"
MOVED = ["order.fulfilled", "order.shipped", "order.delivered"]


def _orders(world: World, count: int) -> list[str]:
    client: TestClient = world.client()
    return [paid_order(client, world, ("seller_a_red", 1))["id"] for _ in range(count)]


def _moves(refs: list[str]) -> list[service.ParcelsMoved]:
    """A parcel on its way for each order, the last arrived for every other one (the first also twice:
    a repeat changes nothing)."""
    moves = [service.ParcelsMoved(ref, "shipped", T0 + dt.timedelta(minutes=i)) for i, ref in enumerate(refs)]
    moves += [
        service.ParcelsMoved(ref, "delivered", T0 + dt.timedelta(hours=5, minutes=i))
        for i, ref in enumerate(refs)
        if i % 2 == 0
    ]
    return [*moves, service.ParcelsMoved(refs[0], "delivered", T0 + dt.timedelta(hours=9))]


def _state(world: World, refs: list[str]) -> tuple[list[Any], list[Any]]:
    """Each order's status and stamp, and the events written about them, with the order named by its
    place in `refs` (the two runs' orders differ)."""
    place = {ref: i for i, ref in enumerate(refs)}
    with world.db.transaction() as session:
        orders = session.execute(
            select(Order.public_id, Order.status, Order.updated_at).where(Order.public_id.in_(refs))
        ).all()
        events = session.execute(
            select(OutboxEvent.type, OutboxEvent.aggregate_id, OutboxEvent.occurred_at, OutboxEvent.payload)
            .where(
                OutboxEvent.aggregate_id.in_(refs),
                OutboxEvent.type.in_(["order.fulfilled", "order.shipped", "order.delivered"]),
            )
            .order_by(OutboxEvent.id)
        ).all()
    return (
        sorted((place[ref], status, stamp) for ref, status, stamp in orders),
        [(kind, place[ref], at, payload) for kind, ref, at, payload in events],
    )


def test_a_batch_moves_orders_as_one_event_at_a_time_does(world: World) -> None:
    one_by_one, batched = _orders(world, 4), _orders(world, 4)
    for move in _moves(one_by_one):
        with world.db.transaction() as session:
            service.follow_shipping(session, move.order_ref, move.milestone, move.at)
    with world.db.transaction() as session:
        after = service.follow_shipping_many(session, _moves(batched))
    assert after == dict(zip(batched, ["delivered", "shipped", "delivered", "shipped"], strict=True))
    statuses, events = _state(world, batched)
    assert (statuses, events) == _state(world, one_by_one)
    assert [status for _, status, _ in statuses] == ["delivered", "shipped", "delivered", "shipped"]
    # fulfilled and shipped at the parcel's first move, delivered with the last: stamped when they happened
    assert statuses[0][2] == T0 + dt.timedelta(hours=5)
    assert [kind for kind, place, _, _ in events if place == 0] == [
        "order.fulfilled",
        "order.shipped",
        "order.delivered",
    ]
    assert all(payload == {"by": "logistics"} for *_, payload in events)


def test_an_order_not_stored_fails_the_batch_and_writes_nothing(world: World) -> None:
    refs = _orders(world, 2)
    before = _state(world, refs)
    with pytest.raises(NotFound), world.db.transaction() as session:
        service.follow_shipping_many(session, [*_moves(refs), service.ParcelsMoved(NO_ORDER, "shipped", T0)])
    assert _state(world, refs) == before


def test_the_relay_moves_the_others_when_one_event_names_no_order(world: World) -> None:
    refs = _orders(world, 3)
    relay_all(world)  # the orders' own events (placed, paid) out of the way
    with world.db.transaction() as session:
        for ref in refs:
            record_event(session, DomainEvent(DELIVERY_STARTED, ref, {}), T0)
        record_event(session, DomainEvent(DELIVERY_COMPLETED, NO_ORDER, {}), T0)
        record_event(session, DomainEvent(DELIVERY_COMPLETED, refs[1], {}), T0 + dt.timedelta(hours=2))
    relay_all(world, T0 + dt.timedelta(hours=3))
    statuses, _ = _state(world, refs)
    assert [status for _, status, _ in statuses] == ["shipped", "delivered", "shipped"]
    with world.db.transaction() as session:
        stray = session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == NO_ORDER)).one()
        assert stray.published_at is None and stray.attempts == 1 and "no order" in (stray.last_error or "")
