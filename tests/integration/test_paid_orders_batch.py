"""Paid orders planned a relay's batch at a time (logistics.events, service.plan_paid_orders): the same
shipments as one by one, nothing planned twice, and an order that cannot be planned holds back no other."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrepot.kernel.events import DomainEvent
from entrepot.logistics import events as logistics_events
from entrepot.logistics import service as logistics
from entrepot.logistics.models import Departure, Shipment, ShipmentLeg
from entrepot.platform.db import OutboxEvent, record_event
from entrepot.platform.outbox import Event, HandlerRegistry, RetryPolicy, relay_once
from tests.api.helpers import API
from tests.integration.test_shipping import small_network
from tests.world import World

# blue ships from Hangzhou on a flight with room for one parcel a day, so the order of booking matters
BASKETS = (["seller_a_blue"], ["seller_a_red"], ["seller_a_blue", "seller_a_red"], ["seller_a_blue"])


class _Undo(Exception):
    """Raised to roll a planning transaction back after reading what it planned."""


@pytest.fixture
def paid_events(world: World) -> list[Event]:
    """The order.paid events of BASKETS' orders, placed and paid, none relayed yet."""
    with world.db.transaction() as session:
        logistics.store_network(session, small_network())
    client = world.client()
    for n, basket in enumerate(BASKETS):
        _place_paid(client, world, basket, f"batch-{n:04d}")
    with world.db.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "order.paid").order_by(OutboxEvent.id)
        )
        events = [Event(str(r.id), r.type, r.aggregate_id, r.payload, r.occurred_at) for r in rows]
    assert len(events) == len(BASKETS)
    return events


def _place_paid(client: TestClient, world: World, basket: list[str], key: str) -> None:
    body = {
        "market": "lazada-sg",
        "lines": [{"sku": world.ids[sku], "quantity": 1} for sku in basket],
        "payment_method": "card",
    }
    placed = client.post(
        f"{API}/orders", json=body, headers={**world.auth("buyer_a"), "Idempotency-Key": key}
    )
    assert placed.status_code == 201, placed.text


def _planned(session: Session) -> list[tuple[object, ...]]:
    """Every shipment as what it is (order, warehouse, route, times, money), not its generated ids."""
    lanes = {sid: tuple(rows) for sid, rows in _legs_by_shipment(session).items()}
    shipments = session.scalars(select(Shipment).order_by(Shipment.order_ref, Shipment.warehouse_code))
    return [
        (
            s.order_ref,
            s.warehouse_code,
            s.service,
            s.cost_cents,
            s.fee_cents,
            s.eta,
            s.promised_at,
            lanes[s.id],
        )
        for s in shipments
    ]


def _legs_by_shipment(session: Session) -> dict[int, list[tuple[str, dt.datetime]]]:
    found: dict[int, list[tuple[str, dt.datetime]]] = {}
    query = select(ShipmentLeg.shipment_id, ShipmentLeg.lane_code, ShipmentLeg.departs_at)
    for shipment_id, lane, departs in session.execute(
        query.order_by(ShipmentLeg.shipment_id, ShipmentLeg.seq)
    ):
        found.setdefault(shipment_id, []).append((lane, departs))
    return found


def _booked(session: Session) -> list[tuple[object, ...]]:
    query = select(Departure.lane_code, Departure.departs_at, Departure.booked_g, Departure.parcels)
    return [tuple(row) for row in session.execute(query.order_by(Departure.lane_code, Departure.departs_at))]


def _plan_and_undo(world: World, plan: object) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """What `plan(session)` plans and books, read in its transaction, which is then rolled back."""
    seen: list[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]] = []
    with pytest.raises(_Undo), world.db.transaction() as session:
        plan(session)  # type: ignore[operator]
        seen.append((_planned(session), _booked(session)))
        raise _Undo
    return seen[0]


def test_a_batch_plans_what_one_by_one_plans(world: World, paid_events: list[Event]) -> None:
    fx = world.context().fx

    def one_by_one(session: Session) -> None:
        for event in paid_events:
            logistics_events.plan_shipments_on_paid(session, event, fx)

    def as_a_batch(session: Session) -> None:
        logistics_events.plan_shipments_on_paid_batch(session, paid_events, fx)

    single = _plan_and_undo(world, one_by_one)
    batch = _plan_and_undo(world, as_a_batch)
    assert batch == single
    shipments, booked = batch
    assert len(shipments) == 5  # one a warehouse an order was allocated from
    flights = [grams for lane, _, grams, _ in booked if lane == "flight-hgh-sin"]
    assert flights == [120, 120, 120]  # three blue parcels, one a day: the flight's room is kept


def test_an_event_relayed_twice_plans_nothing_twice(world: World, paid_events: list[Event]) -> None:
    fx = world.context().fx
    with world.db.transaction() as session:
        # the same paid order twice in one batch, as a retried event can be
        logistics_events.plan_shipments_on_paid_batch(session, [*paid_events, paid_events[0]], fx)
        first = (_planned(session), _booked(session))
    with world.db.transaction() as session:
        logistics_events.plan_shipments_on_paid_batch(session, paid_events, fx)
        assert (_planned(session), _booked(session)) == first
    assert len(first[0]) == 5


def test_an_order_that_cannot_be_planned_holds_back_no_other(world: World, paid_events: list[Event]) -> None:
    with world.db.transaction() as session:  # an order.paid whose order does not exist: cannot be planned
        record_event(session, DomainEvent("order.paid", "ord_missing", {"payment": "pay_x"}), world.clock())
    registry = HandlerRegistry()
    logistics_events.register(registry, world.context().fx)
    policy = RetryPolicy(max_attempts=2, backoff_seconds=60)
    relay_once(world.db, registry, world.clock(), policy=policy)
    with world.db.transaction() as session:
        assert len(_planned(session)) == 5  # the batch failed; its good orders went one by one
        bad = session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == "ord_missing")).one()
        assert (bad.attempts, bad.published_at) == (1, None) and bad.next_attempt_at is not None
        pending = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        assert pending == 1
    later = world.clock() + dt.timedelta(minutes=5)
    relay_once(world.db, registry, later, policy=policy)
    with world.db.transaction() as session:
        bad = session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == "ord_missing")).one()
        assert bad.attempts == 2 and bad.dead_at is not None and bad.last_error  # dead, as before
        assert len(_planned(session)) == 5
