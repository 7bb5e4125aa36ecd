"""Batched checkout (issue 18): N orders placed in ONE transaction, each with its own outcome, on SQLite
and PostgreSQL. The single checkout is the same function with a batch of one (tests/api cover it)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from entrepot.catalog.models import Sku
from entrepot.identity import service as identity
from entrepot.inventory.models import Reservation, Stock, Warehouse
from entrepot.kernel.errors import DomainError, InsufficientStock, ValidationFailed
from entrepot.kernel.idempotency import IdempotencyKeyReused
from entrepot.ordering import checkout, placing
from entrepot.ordering.models import IdempotencyKey, Order, Payment
from entrepot.platform.principal import Principal
from tests.statements import count_statements
from tests.world import T0, World

RED, BLUE = "seller_a_red", "seller_a_blue"  # red: sg-tuas 10, cn-hangzhou 5; blue: cn-hangzhou 3


def _buyer(world: World, name: str = "buyer_a") -> Principal:
    with world.db.transaction() as s:
        return identity.principal_for_buyer(identity.get_buyer(s, world.ids[name]), name)


def _request(
    world: World, key: str, *lines: tuple[str, int], who: str = "buyer_a", body: str | None = None
) -> placing.PlaceRequest:
    basket = checkout.Basket("lazada-sg", None, [(world.ids[sku], q) for sku, q in lines])
    return placing.PlaceRequest(_buyer(world, who), basket, key, body or key)


def _place(world: World, requests: Sequence[placing.PlaceRequest]) -> list[placing.Outcome]:
    ctx = world.context()
    with world.db.transaction() as s:
        return placing.place_orders(s, requests, placing.Placing(ctx.limits, ctx.fx, T0, ctx.shipping))


def _stock(world: World) -> dict[tuple[str, str], tuple[int, int]]:
    """(sku key, warehouse code) -> (on hand, reserved), for the stock of red and blue."""
    with world.db.transaction() as s:
        names = {s.scalar(select(Sku.id).where(Sku.public_id == world.ids[key])): key for key in (RED, BLUE)}
        rows = s.execute(
            select(Stock.sku_id, Warehouse.code, Stock.on_hand, Stock.reserved).join(
                Warehouse, Warehouse.id == Stock.warehouse_id
            )
        ).all()
    return {(names[r.sku_id], r.code): (r.on_hand, r.reserved) for r in rows if r.sku_id in names}


def _count(world: World, model: type[Order | Reservation | Payment]) -> int:
    with world.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_serves_its_orders_in_turn_from_the_best_warehouse_then_the_next_best(world: World) -> None:
    """12 units of red asked for by six orders of 2 in one batch: the first five empty sg-tuas (10), the
    sixth is served by cn-hangzhou, the next-best warehouse; nothing is oversold."""
    outcomes = _place(world, [_request(world, f"k{i}", (RED, 2)) for i in range(6)])
    assert all(isinstance(o, checkout.Placed) and not o.replayed for o in outcomes), outcomes
    warehouses = [o.detail.lines[0]["warehouse"] for o in outcomes if isinstance(o, checkout.Placed)]
    assert warehouses == [world.ids["sg-tuas"]] * 5 + [world.ids["cn-hangzhou"]]
    assert _stock(world)[RED, "sg-tuas"] == (10, 10)
    assert _stock(world)[RED, "cn-hangzhou"] == (5, 2)
    assert _count(world, Order) == 6 and _count(world, Reservation) == 6


def test_a_line_that_cannot_be_reserved_fails_only_its_own_order_and_leaves_nothing(world: World) -> None:
    """Blue has 3 units. The second order (red 1 + blue 3) finds blue taken by the first: it fails with
    today's problem, its red unit goes back, its key is free again; the orders around it are placed."""
    outcomes = _place(
        world,
        [
            _request(world, "first", (BLUE, 3)),
            _request(world, "second", (RED, 1), (BLUE, 3)),
            _request(world, "third", (RED, 4)),
        ],
    )
    first, second, third = outcomes
    assert isinstance(first, checkout.Placed) and isinstance(third, checkout.Placed)
    assert isinstance(second, InsufficientStock)
    assert second.detail == "the last units were just taken: 3 no longer available"
    assert _stock(world)[RED, "sg-tuas"] == (10, 4)  # the third's 4, none of the second's
    assert _stock(world)[BLUE, "cn-hangzhou"] == (3, 3)
    with world.db.transaction() as s:
        keys = set(s.scalars(select(IdempotencyKey.key)))
    assert keys == {"first", "third"}
    again = _place(world, [_request(world, "second", (RED, 1))])
    assert isinstance(again[0], checkout.Placed) and not again[0].replayed


def test_a_refused_basket_fails_alone_with_its_precise_problem(world: World) -> None:
    outcomes = _place(
        world,
        [
            _request(world, "ok-1", (RED, 1)),
            _request(world, "too-many", (RED, 16)),
            _request(world, "seller", (RED, 1), who="buyer_b"),
        ],
    )
    assert isinstance(outcomes[0], checkout.Placed) and isinstance(outcomes[2], checkout.Placed)
    refused = outcomes[1]  # 15 red in all: no warehouse holds 16
    assert isinstance(refused, InsufficientStock), refused
    assert refused.detail == f"line 0: no warehouse holds 16 of {world.ids[RED]}"
    assert _count(world, Order) == 2


def test_the_same_key_twice_in_one_batch_makes_one_order(world: World) -> None:
    """Same key and body: the second is a replay of the first's order. Same key, another body: 422."""
    same = _request(world, "dup", (RED, 1))
    other = _request(world, "dup", (RED, 2), body="another body")
    first, replay, refused = _place(world, [same, same, other])
    assert isinstance(first, checkout.Placed) and not first.replayed
    assert isinstance(replay, checkout.Placed) and replay.replayed
    assert replay.order.public_id == first.order.public_id
    assert isinstance(refused, IdempotencyKeyReused)
    assert _count(world, Order) == 1
    assert _stock(world)[RED, "sg-tuas"] == (10, 1)


def test_a_key_claimed_by_an_earlier_batch_gets_its_order_back(world: World) -> None:
    [first] = _place(world, [_request(world, "again", (RED, 1))])
    [replay, new] = _place(world, [_request(world, "again", (RED, 1)), _request(world, "new", (RED, 1))])
    assert isinstance(first, checkout.Placed) and isinstance(replay, checkout.Placed)
    assert replay.replayed and replay.order.public_id == first.order.public_id
    assert isinstance(new, checkout.Placed) and not new.replayed
    assert _count(world, Order) == 2


def test_orders_paid_at_placement_get_their_pending_payment_each(world: World) -> None:
    ctx = world.context()
    pay = checkout.PayNow("card", ctx.payments)
    requests = [
        placing.PlaceRequest(r.principal, r.basket, r.idempotency_key, r.fingerprint, pay)
        for r in (_request(world, f"pay-{i}", (RED, 1)) for i in range(3))
    ]
    outcomes = _place(world, requests)
    placed = [o for o in outcomes if isinstance(o, checkout.Placed)]
    assert len(placed) == 3 and all(p.delivery is not None for p in placed)
    assert [p.detail.payments[0].amount_minor for p in placed] == [p.order.total_minor for p in placed]
    assert _count(world, Payment) == 3


def test_a_batch_costs_the_statements_of_one_order_whatever_its_size(world: World) -> None:
    """Set-based: the keys, the reservation, each table's rows are one statement for the whole batch, so
    a batch of eight orders costs what one costs (on SQLite, whose statements take one row at a time
    for the stock and the reservations, that cost grows with the lines)."""

    def statements(keys: list[str]) -> int:
        requests = [_request(world, key, (RED, 1)) for key in keys]
        with count_statements(world.db.engine) as seen:
            outcomes = _place(world, requests)
        assert all(isinstance(o, checkout.Placed) for o in outcomes), outcomes
        return len(seen)

    statements(["warm"])
    one = statements(["one"])
    eight = statements([f"eight-{i}" for i in range(8)])
    if world.db.dialect == "postgresql":
        assert eight == one
    else:
        assert eight <= one + 2 * 7  # the stock row once, the reservation once per order


@pytest.mark.parametrize("problem", [InsufficientStock, ValidationFailed])
def test_every_outcome_is_an_order_or_a_problem(world: World, problem: type[DomainError]) -> None:
    lines = (RED, 10_001) if problem is ValidationFailed else (BLUE, 3)  # over the line limit; taken
    outcomes = _place(world, [_request(world, "x", (BLUE, 3)), _request(world, "y", lines)])
    assert isinstance(outcomes[0], checkout.Placed)
    assert isinstance(outcomes[1], problem)
