"""Payment events applied in batches (issue 18): one transaction for many provider events, each with its
own outcome, as `handle_payment_event` gives one by one (it is a batch of one), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import select

from entrepot.identity import service as identity
from entrepot.inventory.models import Reservation, Stock
from entrepot.kernel.errors import NotFound, ValidationFailed
from entrepot.ordering import checkout, placing, service
from entrepot.ordering.models import Order
from entrepot.ordering.payments import PaymentEvent, parse_event
from tests.world import T0, World

RED = "seller_a_red"  # sg-tuas 10, cn-hangzhou 5


def _paying_orders(world: World, count: int, method: str = "card") -> list[PaymentEvent]:
    """`count` orders of one red unit placed and paid at placement: the provider's events for them."""
    ctx = world.context()
    with world.db.transaction() as s:
        buyer = identity.principal_for_buyer(identity.get_buyer(s, world.ids["buyer_a"]), "buyer_a")
        requests = [
            placing.PlaceRequest(
                buyer,
                checkout.Basket("lazada-sg", None, [(world.ids[RED], 1)]),
                f"{method}-{i}",
                f"{method}-{i}",
                checkout.PayNow(method, ctx.payments),
            )
            for i in range(count)
        ]
        placed = placing.place_orders(s, requests, placing.Placing(ctx.limits, ctx.fx, T0, ctx.shipping))
    deliveries = [p.delivery for p in placed if isinstance(p, checkout.Placed) and p.delivery is not None]
    assert len(deliveries) == count
    return [parse_event(d.body) for d in deliveries]


def _apply(world: World, events: list[PaymentEvent]) -> list[str | Exception]:
    with world.db.transaction() as s:
        return list(service.apply_payment_events(s, events, T0))


def _statuses(world: World) -> list[str]:
    with world.db.transaction() as s:
        return list(s.scalars(select(Order.status).order_by(Order.id)))


def test_a_batch_of_events_pays_every_order_and_takes_its_units_off_the_shelf(world: World) -> None:
    events = _paying_orders(world, 4)
    assert _apply(world, events) == ["paid"] * 4
    assert _statuses(world) == ["paid"] * 4
    with world.db.transaction() as s:
        assert set(s.scalars(select(Reservation.status))) == {"confirmed"}
        assert sorted(s.execute(select(Stock.on_hand, Stock.reserved)).all()) == [(3, 0), (5, 0), (6, 0)]


def test_each_event_gets_its_own_outcome_in_one_batch(world: World) -> None:
    """A repeat (in the batch and after it), a decline, an amount not asked for, an unknown payment:
    each answered as one by one, the rest paid."""
    paid, declined, wrong = _paying_orders(world, 3)
    declined = PaymentEvent(
        declined.payment_id, False, declined.amount_minor, declined.currency, "card_declined"
    )
    wrong = PaymentEvent(wrong.payment_id, True, wrong.amount_minor + 1, wrong.currency, None)
    unknown = PaymentEvent("pay_nope", True, 100, "SGD", None)
    outcomes = _apply(world, [paid, paid, declined, wrong, unknown])
    assert outcomes[:3] == ["paid", "duplicate", "declined"]
    assert isinstance(outcomes[3], ValidationFailed) and isinstance(outcomes[4], NotFound)
    assert _statuses(world) == ["paid", "cancelled", "placed"]
    assert _apply(world, [paid]) == ["duplicate"]


def test_one_event_through_the_single_path_is_a_batch_of_one(world: World) -> None:
    [event] = _paying_orders(world, 1)
    body = json.dumps(
        {
            "type": "payment.succeeded",
            "payment_id": event.payment_id,
            "amount_minor": event.amount_minor,
            "currency": event.currency,
        }
    ).encode()
    with world.db.transaction() as s:
        assert service.handle_payment_event(s, body, T0) == "paid"
    assert _statuses(world) == ["paid"]
