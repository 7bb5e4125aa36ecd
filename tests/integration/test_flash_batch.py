"""One sale batch (ordering.flash_batch) on SQLite and PostgreSQL, where the API cannot aim: a buyer's
retry landing in the very batch that records their payment; an order moving between the batch's read
of the payments' orders and its lock on the sale."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select

from entrepot.campaigns.flash import batch as flash_batch
from entrepot.campaigns.flash import service as flash
from entrepot.campaigns.flash import settlement as flash_settle
from entrepot.campaigns.flash.models import FlashOrder, FlashSale
from entrepot.campaigns.flash.runtime import runtime_of
from entrepot.campaigns.flash.service import Ticket
from entrepot.campaigns.flash.settlement import PaymentEvent
from tests.api.test_flash_api import create_sale, take
from tests.world import World


def _order_paying(world: World, **sale_overrides: Any) -> tuple[Any, int, Ticket, PaymentEvent]:
    """A reserved order whose payment started and whose event has not come in yet: (the API's answer,
    the sale's id, a retry of the request, the payment's success)."""
    client = world.client()
    sale = create_sale(client, world, **sale_overrides)
    world.clock.advance(minutes=2)
    answer = take(client, world, sale["id"], "buyer_a", pay=None)
    assert answer.status_code == 201, answer.text
    with world.db.transaction() as s:
        order = s.scalars(select(FlashOrder).where(FlashOrder.public_id == answer.json()["id"])).one()
        order.payment_id, order.payment_status = "fpay_in_flight", "pending"
        sale_id, retry = order.sale_id, Ticket(order.buyer_id, 1, order.idempotency_key, False)
    paid = PaymentEvent("fpay_in_flight", True, answer.json()["amount_minor"], "SGD", None)
    return answer, sale_id, retry, paid


def test_a_retry_answered_in_the_batch_that_records_its_payment_is_answered_paid(world: World) -> None:
    answer, sale_id, retry, paid = _order_paying(world)

    with world.db.transaction() as s:
        batch = flash_batch.run(s, sale_id, [paid], [retry], world.clock())

    assert batch.outcomes == ["paid"]
    [replay] = batch.taken
    assert (replay.replayed, replay.order_id, replay.status) == (True, answer.json()["id"], "paid")
    assert (batch.counters.reserved, batch.counters.sold) == (0, 1)
    with world.db.transaction() as s:
        stored = s.scalars(select(FlashOrder).where(FlashOrder.public_id == answer.json()["id"])).one()
        assert (stored.status, stored.payment_status) == ("paid", "succeeded")


def _counters(world: World, sale_id: int) -> tuple[int, int]:
    with world.db.transaction() as s:
        sale = s.get_one(FlashSale, sale_id)
        return sale.reserved, sale.sold


def _sweep_before_the_lock(world: World, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Have the sweeper run and commit, in its own transaction, just before the batch's first lock on
    the sale (after its read ahead); returns the list the sweep's count goes in."""
    swept: list[int] = []
    lock_sale = flash.lock_sale

    def sweep_first(session: Any, locked_id: int) -> Any:
        if not swept:
            with world.db.transaction() as other:
                swept.append(flash_settle.sweep(other, world.clock()))
        return lock_sale(session, locked_id)

    monkeypatch.setattr(flash, "lock_sale", sweep_first)
    return swept


def _skip_on_sqlite(world: World) -> None:
    if world.db.dialect == "sqlite":
        pytest.skip("on SQLite every transaction begins IMMEDIATE: nothing commits between read and lock")


@pytest.mark.parametrize("another_reserved", [False, True], ids=["counters-break", "fewer-rows-paid"])
def test_an_order_that_expires_between_the_read_and_the_lock_makes_the_batch_stale(
    world: World, monkeypatch: pytest.MonkeyPatch, another_reserved: bool
) -> None:
    """The batch reads the payments' orders before it locks the sale; the sweeper expires the order in
    between. The batch must not count the unit sold: it raises StaleRead and nothing of it lands. Alone,
    the stale unit would take `reserved` below zero (a check fails); with another buyer's unit reserved
    the counters would pass, and the statement paying it changing no row is what gives it away."""
    _skip_on_sqlite(world)
    answer, sale_id, _, paid = _order_paying(world)
    world.clock.advance(minutes=5)  # past the 60 s reservation
    if another_reserved:
        other = take(world.client(), world, answer.json()["sale"], "buyer_b", pay=None)
        assert other.status_code == 201, other.text
    swept = _sweep_before_the_lock(world, monkeypatch)
    with pytest.raises(flash_batch.StaleRead), world.db.transaction() as s:
        flash_batch.run(s, sale_id, [paid], [], world.clock())
    assert swept == [1]
    assert _counters(world, sale_id) == ((1, 0) if another_reserved else (0, 0))  # the sweeper's alone


def test_the_runtime_runs_a_stale_batch_again_under_the_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race met by the worker's batch: its first attempt reads ahead and comes up stale, the
    second reads under the lock, where the money is for a lapsed order and goes back."""
    _skip_on_sqlite(world)
    answer, sale_id, _, paid = _order_paying(world)
    world.clock.advance(minutes=5)
    swept = _sweep_before_the_lock(world, monkeypatch)
    attempts: list[bool] = []
    run = flash_batch.run

    def counted_run(*args: Any) -> flash_batch.SaleBatch:
        attempts.append(args[5])  # read_ahead, as the runtime passes it
        return run(*args)

    monkeypatch.setattr(flash_batch, "run", counted_run)
    rt = runtime_of(world.client().app.state)
    assert rt.sale_batch(sale_id, [paid]) == ["refunded"]
    assert (swept, attempts) == ([1], [True, False])
    assert _counters(world, sale_id) == (0, 0)
    with world.db.transaction() as s:
        stored = s.scalars(select(FlashOrder).where(FlashOrder.public_id == answer.json()["id"])).one()
        assert (stored.status, stored.payment_status) == ("expired", "refunded")


def test_a_payment_read_before_the_lock_is_recorded_once(world: World) -> None:
    """Nothing moved in between (the usual case): paid once, a repeat of the event is a duplicate."""
    _, sale_id, _, paid = _order_paying(world)
    with world.db.transaction() as s:
        batch = flash_batch.run(s, sale_id, [paid], [], world.clock() + dt.timedelta(seconds=1))
    assert batch.outcomes == ["paid"]
    assert _counters(world, sale_id) == (0, 1)
    with world.db.transaction() as s:
        again = flash_batch.run(s, sale_id, [paid], [], world.clock() + dt.timedelta(seconds=2))
    assert again.outcomes == ["duplicate"]
    assert _counters(world, sale_id) == (0, 1)


def test_a_batch_that_fails_to_commit_teaches_the_worker_nothing(world: World) -> None:
    """The worker refuses newcomers without the database only once a batch that left every unit paid
    has committed: if the commit fails, the units are still reserved and may come back."""
    _, sale_id, _, paid = _order_paying(world, stock=1, per_buyer_limit=1)
    rt = runtime_of(world.client().app.state)

    def refuse(*_: Any) -> None:
        raise RuntimeError("the database went away at commit")

    event.listen(world.db.engine, "commit", refuse)
    try:
        with pytest.raises(RuntimeError, match="went away at commit"):
            rt.sale_batch(sale_id, [paid])
    finally:
        event.remove(world.db.engine, "commit", refuse)
    assert sale_id not in rt.sold_out
    assert _counters(world, sale_id) == (1, 0)  # rolled back: reserved, not sold

    assert rt.sale_batch(sale_id, [paid]) == ["paid"]
    assert rt.sold_out[sale_id].counters.sold == 1
    assert _counters(world, sale_id) == (0, 1)
