"""The pure rules of flash sales, and the coalescer that batches requests (no database)."""

from __future__ import annotations

import asyncio
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from entrepot.campaigns.flash.coalescer import Coalescer
from entrepot.campaigns.flash.rules import (
    ENDED,
    NOT_OPEN,
    OVER_LIMIT,
    RESERVED,
    SOLD_OUT,
    WAITING,
    Ask,
    SaleCounters,
    admit,
    promote,
)

START = dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.UTC)
OPEN = START + dt.timedelta(minutes=1)


def sale(stock: int = 3, reserved: int = 0, sold: int = 0, waiting: int = 0, limit: int = 2) -> SaleCounters:
    return SaleCounters(stock, reserved, sold, waiting, limit, START, START + dt.timedelta(hours=1))


def outcomes(counters: SaleCounters, asks: list[Ask], held: dict[int, int] | None = None) -> list[str]:
    return [d.outcome for d in admit(counters, asks, held or {}, OPEN)[0]]


def test_first_come_first_served_then_waiting_then_sold_out() -> None:
    asks = [Ask(1, 2), Ask(2, 1), Ask(3, 1), Ask(4, 2), Ask(5, 1)]
    decisions, after, held = admit(sale(), asks, {}, OPEN)
    assert [d.outcome for d in decisions] == [RESERVED, RESERVED, WAITING, WAITING, SOLD_OUT]
    assert (after.reserved, after.waiting, after.available) == (3, 3, 0)
    assert held == {1: 2, 2: 1, 3: 1, 4: 2}


def test_the_window_is_checked_first() -> None:
    assert outcomes(sale(), [Ask(1, 1)]) == [RESERVED]
    early = admit(sale(), [Ask(1, 1)], {}, START - dt.timedelta(seconds=1))[0]
    late = admit(sale(), [Ask(1, 1)], {}, START + dt.timedelta(hours=1))[0]
    assert [d.outcome for d in early] == [NOT_OPEN] and [d.outcome for d in late] == [ENDED]


def test_the_limit_counts_what_a_buyer_holds_and_asks_in_the_same_batch() -> None:
    assert outcomes(sale(stock=10), [Ask(1, 1), Ask(1, 1), Ask(1, 1)]) == [RESERVED, RESERVED, OVER_LIMIT]
    assert outcomes(sale(stock=10), [Ask(1, 1)], {1: 2}) == [OVER_LIMIT]


def test_a_newcomer_queues_behind_the_line_even_when_a_unit_is_free() -> None:
    # the head of the line wants 2 and only 1 is free: a newcomer for 1 must not overtake it
    assert outcomes(sale(stock=3, reserved=2, waiting=2), [Ask(9, 1)]) == [WAITING]
    # every unit that could still come back is promised to the line already
    assert outcomes(sale(stock=3, reserved=2, waiting=3), [Ask(9, 1)]) == [SOLD_OUT]


def test_paid_units_never_come_back_so_nobody_waits_for_them() -> None:
    counters = sale(stock=3, sold=3)
    assert outcomes(counters, [Ask(1, 1)]) == [SOLD_OUT]
    assert counters.phase(OPEN) == "sold_out"
    assert sale(stock=3, reserved=3).phase(OPEN) == "waiting"


def test_promotion_is_strictly_in_order() -> None:
    promoted, after = promote(sale(stock=5, reserved=2, waiting=4), [(10, 2), (11, 1), (12, 1)])
    assert promoted == [10, 11]  # 3 free: 2 for the first, 1 for the second; the third waits
    assert (after.reserved, after.waiting) == (5, 1)
    promoted, _ = promote(sale(stock=5, reserved=4, waiting=3), [(10, 2), (11, 1)])
    assert promoted == []  # the head needs 2, only 1 is free: nobody overtakes it


@given(
    st.integers(1, 30),
    st.integers(1, 5),
    st.lists(st.tuples(st.integers(1, 8), st.integers(1, 4)), max_size=60),
)
def test_never_oversold_never_over_the_limit(stock: int, limit: int, raw: list[tuple[int, int]]) -> None:
    decisions, after, held = admit(sale(stock=stock, limit=limit), [Ask(b, q) for b, q in raw], {}, OPEN)
    assert 0 <= after.reserved <= stock and after.waiting <= after.reserved + after.available
    assert all(units <= limit for units in held.values())
    reserved = sum(q for (_, q), d in zip(raw, decisions, strict=True) if d.outcome == RESERVED)
    waiting = sum(q for (_, q), d in zip(raw, decisions, strict=True) if d.outcome == WAITING)
    assert (reserved, waiting) == (after.reserved, after.waiting)


def test_coalescer_batches_what_arrives_while_a_batch_runs_and_splits_repeats() -> None:
    seen: list[list[tuple[str, int]]] = []

    def run(batch: list[tuple[str, int]]) -> list[int]:
        seen.append(batch)
        return [n * 10 for _, n in batch]

    async def main() -> list[int]:
        coalescer: Coalescer[tuple[str, int], int] = Coalescer(run, key_of=lambda item: item[0])
        items = [("a", 1), ("b", 2), ("a", 3), ("c", 4)]
        return await asyncio.gather(*(coalescer.submit(item) for item in items))

    assert asyncio.run(main()) == [10, 20, 30, 40]
    # all four were queued before the first batch ran; a's repeat waits for the next batch
    assert seen == [[("a", 1), ("b", 2), ("c", 4)], [("a", 3)]]


def test_coalescer_fails_every_request_of_a_failed_batch_and_goes_on() -> None:
    calls = 0

    def run(batch: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return batch

    async def main() -> tuple[object, int]:
        coalescer: Coalescer[int, int] = Coalescer(run, key_of=lambda item: item)
        failed = await asyncio.gather(coalescer.submit(1), return_exceptions=True)
        return failed[0], await coalescer.submit(2)

    error, ok = asyncio.run(main())
    assert isinstance(error, RuntimeError) and ok == 2
