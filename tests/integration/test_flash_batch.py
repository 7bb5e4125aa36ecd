"""One sale batch (ordering.flash_batch) on SQLite and PostgreSQL, where the API cannot aim: a buyer's
retry landing in the very batch that records their payment."""

from __future__ import annotations

from sqlalchemy import select

from entrepot.ordering import flash_batch
from entrepot.ordering.flash import Ticket
from entrepot.ordering.flash_settle import PaymentEvent
from entrepot.ordering.peak_models import FlashOrder
from tests.api.test_flash_api import create_sale, take
from tests.world import World


def test_a_retry_answered_in_the_batch_that_records_its_payment_is_answered_paid(world: World) -> None:
    client = world.client()
    sale = create_sale(client, world)
    world.clock.advance(minutes=2)
    answer = take(client, world, sale["id"], "buyer_a", pay=None)
    assert answer.status_code == 201, answer.text
    with world.db.transaction() as s:  # a payment started whose event has not come in yet
        order = s.scalars(select(FlashOrder).where(FlashOrder.public_id == answer.json()["id"])).one()
        order.payment_id, order.payment_status = "fpay_in_flight", "pending"
        sale_id, retry = order.sale_id, Ticket(order.buyer_id, 1, order.idempotency_key, False)
    paid = PaymentEvent("fpay_in_flight", True, answer.json()["amount_minor"], "SGD", None)

    with world.db.transaction() as s:
        batch = flash_batch.run(s, sale_id, [paid], [retry], world.clock())

    assert batch.outcomes == ["paid"]
    [replay] = batch.taken
    assert (replay.replayed, replay.order_id, replay.status) == (True, answer.json()["id"], "paid")
    assert (batch.counters.reserved, batch.counters.sold) == (0, 1)
    with world.db.transaction() as s:
        stored = s.scalars(select(FlashOrder).where(FlashOrder.public_id == answer.json()["id"])).one()
        assert (stored.status, stored.payment_status) == ("paid", "succeeded")
