"""The API worker's checkout coalescer (issue 18): concurrent order placements go together into batches,
each placed in one transaction, and every request gets its own answer."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from entrepot.identity import service as identity
from entrepot.kernel.errors import DomainError, InsufficientStock
from entrepot.ordering import checkout, placing
from entrepot.ordering.models import Order
from entrepot.ordering.runtime import CheckoutRuntime
from entrepot.platform.principal import Principal
from tests.world import World

RED = "seller_a_red"  # sg-tuas 10, cn-hangzhou 5


def _buyer(world: World) -> Principal:
    with world.db.transaction() as s:
        return identity.principal_for_buyer(identity.get_buyer(s, world.ids["buyer_a"]), "buyer_a")


def _request(world: World, buyer: Principal, key: str, quantity: int = 1) -> placing.PlaceRequest:
    basket = checkout.Basket("lazada-sg", None, [(world.ids[RED], quantity)])
    return placing.PlaceRequest(buyer, basket, key, f"{key}:{quantity}")


async def _all_at_once(
    runtime: CheckoutRuntime, requests: list[placing.PlaceRequest]
) -> list[checkout.Placed | BaseException]:
    return await asyncio.gather(*(runtime.place(r) for r in requests), return_exceptions=True)


def _orders(world: World) -> int:
    with world.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(Order)) or 0)


def test_concurrent_placements_share_batches_and_each_gets_its_answer(world: World) -> None:
    """Eight requests at once (all queued before the first batch starts): one batch, one transaction;
    15 red units serve seven orders of 2, the eighth is refused on its own."""
    runtime = CheckoutRuntime(world.context())
    buyer = _buyer(world)
    answers = asyncio.run(_all_at_once(runtime, [_request(world, buyer, f"k{i}", 2) for i in range(8)]))
    placed = [a for a in answers if isinstance(a, checkout.Placed)]
    refused = [a for a in answers if isinstance(a, DomainError)]
    assert len(placed) == 7 and len(refused) == 1, answers
    assert isinstance(refused[0], InsufficientStock)
    assert runtime.placing.batches == 1
    assert len({p.order.public_id for p in placed}) == 7 == _orders(world)


@pytest.mark.parametrize("copies", [3])
def test_one_key_sent_at_once_several_times_makes_one_order(world: World, copies: int) -> None:
    runtime = CheckoutRuntime(world.context())
    buyer = _buyer(world)
    answers = asyncio.run(_all_at_once(runtime, [_request(world, buyer, "same")] * copies))
    assert all(isinstance(a, checkout.Placed) for a in answers), answers
    placed = [a for a in answers if isinstance(a, checkout.Placed)]
    assert len({p.order.public_id for p in placed}) == 1
    assert sorted(p.replayed for p in placed) == [False] + [True] * (copies - 1)
    assert _orders(world) == 1


def test_a_quiet_request_is_a_batch_of_its_own(world: World) -> None:
    runtime = CheckoutRuntime(world.context())
    buyer = _buyer(world)
    for i in range(3):
        [answer] = asyncio.run(_all_at_once(runtime, [_request(world, buyer, f"q{i}")]))
        assert isinstance(answer, checkout.Placed)
    assert runtime.placing.batches == 3
