"""Two checkout batches on two connections, each moving a line to its next-best warehouse, on PostgreSQL.

Batch A takes row H in its first round and needs row L in its second (its line's best warehouse, F, has
too few units); batch B takes L first and needs H next. A barrier holds each batch after its first round
until the other has done its own, so without a lock order they deadlock every time (PostgreSQL aborts
one, whose requests would get a 500). With the batch locking every row it may take in id order before
reserving (inventory.allocation), the second batch waits for the first and both are served.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from entrepot.catalog.models import Sku
from entrepot.inventory import allocation
from entrepot.inventory import service as inventory
from entrepot.inventory.domain import Candidate
from entrepot.inventory.models import Stock
from entrepot.platform.db import Database
from tests.world import World, build_world

pytestmark = [pytest.mark.postgres]

# red: sg-tuas 10, cn-hangzhou 5 (L and H, by id); blue: cn-hangzhou 3 (F: a line of 4 never fits there)
RED, BLUE = "seller_a_red", "seller_a_blue"
HELD_AFTER_ROUND_ONE = 5.0  # seconds a batch waits for the other at the barrier before going on alone


@pytest.fixture
def pg_world(pg_database: Database) -> World:
    return build_world(pg_database)


def _rows(world: World) -> tuple[Candidate, Candidate, Candidate]:
    """(L, H, F): red's two rows, lower id first, and blue's one row."""
    with world.db.transaction() as s:
        sku_ids = {
            key: s.scalars(select(Sku.id).where(Sku.public_id == world.ids[key])).one() for key in (RED, BLUE)
        }
        found = inventory.candidates(s, [sku_ids[RED], sku_ids[BLUE]])
    low, high = sorted((c for c in found if c.sku_id == sku_ids[RED]), key=lambda c: c.stock_id)
    [short] = [c for c in found if c.sku_id == sku_ids[BLUE]]
    return low, high, short


def _batches(world: World) -> tuple[list[list[allocation.LineAsk]], list[list[allocation.LineAsk]]]:
    low, high, short = _rows(world)
    ask = allocation.LineAsk
    batch_a = [[ask([high], 1)], [ask([short, low], 4)]]
    batch_b = [[ask([low], 1)], [ask([short, high], 4)]]
    return batch_a, batch_b


def _after_first_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch, after its first round, waits for the other batch's first round (or goes on alone
    when the other cannot get there because it waits on this one's locks)."""
    barrier = threading.Barrier(2)
    reserve_rows = allocation._reserve_rows
    rounds: dict[int, int] = {}

    def reserve_then_meet(session: Any, quantities: dict[int, int]) -> set[int]:
        granted = reserve_rows(session, quantities)
        me = threading.get_ident()
        rounds[me] = rounds.get(me, 0) + 1
        if rounds[me] == 1:
            with contextlib.suppress(threading.BrokenBarrierError):  # the other waits on our locks
                barrier.wait(timeout=HELD_AFTER_ROUND_ONE)
        return granted

    monkeypatch.setattr(allocation, "_reserve_rows", reserve_then_meet)


def _run_together(world: World, batches: tuple[Any, Any]) -> list[list[allocation.Allocated] | Exception]:
    results: list[list[allocation.Allocated] | Exception] = [RuntimeError("not run")] * 2

    def run(index: int) -> None:
        try:
            with world.db.transaction() as s:
                results[index] = allocation.reserve_baskets(s, batches[index])
        except Exception as problem:  # the deadlock's victim, kept for the assertion
            results[index] = problem

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _reserved(world: World) -> int:
    with world.db.transaction() as s:
        return sum(s.scalars(select(Stock.reserved)))


def test_two_batches_moving_lines_to_their_next_best_warehouse_do_not_deadlock(
    pg_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _after_first_round(monkeypatch)
    results = _run_together(pg_world, _batches(pg_world))
    for result in results:
        assert isinstance(result, list), result
        assert all(allocated.ok for allocated in result), result
    assert _reserved(pg_world) == 2 * (1 + 4)


def test_without_the_lock_order_the_same_batches_deadlock(
    pg_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenario above has the power to fail: with the lock statement left out, one batch is
    aborted as a deadlock's victim and only the other's units stay reserved."""
    no_lock: Callable[[Any, set[int]], None] = lambda session, stock_ids: None  # noqa: E731
    monkeypatch.setattr(allocation, "_lock_in_id_order", no_lock)
    _after_first_round(monkeypatch)
    results = _run_together(pg_world, _batches(pg_world))
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], OperationalError), results
    assert "deadlock detected" in str(failed[0])
    assert _reserved(pg_world) == 1 + 4
