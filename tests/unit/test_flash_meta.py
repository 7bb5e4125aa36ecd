"""A worker loads a sale's metadata once however many requests ask for it at the same moment (the
first wave of a rush), keeps it, and keeps no failure."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from entrepot.campaigns.flash.runtime import FlashRuntime, SaleMeta
from entrepot.kernel.errors import NotFound


class CountingLoads(FlashRuntime):
    """The runtime with its database load replaced by a counted one (in the same thread pool) that
    waits at a gate the test holds shut or opens: no test here depends on how fast anything runs."""

    def __init__(self, missing: set[str] | None = None) -> None:
        super().__init__(ctx=None)  # type: ignore[arg-type]  # the loads below never touch it
        self.loads: list[str] = []
        self.missing = missing or set()
        self.lock = threading.Lock()
        self.gate = threading.Event()

    def _load_meta(self, public_id: str) -> SaleMeta:
        with self.lock:
            self.loads.append(public_id)
        assert self.gate.wait(timeout=30), "the test never opened the gate"
        if public_id in self.missing:
            raise NotFound(f"no flash sale {public_id}")
        return SaleMeta(1, public_id, "batched", "SGD")


def _wave(rt: CountingLoads, public_id: str, size: int) -> list[Any]:
    """`size` requests asking at once; the load (if any starts) finishes only once every one of them
    is waiting for the sale."""

    async def main() -> list[Any]:
        asks = [asyncio.ensure_future(rt.meta(public_id)) for _ in range(size)]
        await asyncio.sleep(0)  # every request runs up to its wait
        rt.gate.set()
        return await asyncio.gather(*asks, return_exceptions=True)

    rt.gate.clear()
    return asyncio.run(main())


def test_a_wave_of_requests_loads_the_sale_once_and_later_ones_not_at_all() -> None:
    rt = CountingLoads()
    answers = _wave(rt, "fls_a", 100)
    assert rt.loads == ["fls_a"]
    assert answers == [SaleMeta(1, "fls_a", "batched", "SGD")] * 100
    assert _wave(rt, "fls_a", 10) == answers[:10]
    assert rt.loads == ["fls_a"]  # kept
    assert rt.loading == {}


def test_a_failed_load_fails_the_whole_wave_and_is_tried_again_next_time() -> None:
    rt = CountingLoads(missing={"fls_gone"})
    answers = _wave(rt, "fls_gone", 20)
    assert rt.loads == ["fls_gone"]
    assert all(isinstance(a, NotFound) for a in answers)
    rt.missing.clear()  # the sale exists now (say, a replica caught up)
    assert _wave(rt, "fls_gone", 3) == [SaleMeta(1, "fls_gone", "batched", "SGD")] * 3
    assert rt.loads == ["fls_gone", "fls_gone"]


def test_a_request_that_goes_away_does_not_cancel_the_load_the_others_wait_for() -> None:
    rt = CountingLoads()

    async def main() -> list[SaleMeta]:
        impatient = asyncio.ensure_future(rt.meta("fls_a"))
        others = [asyncio.ensure_future(rt.meta("fls_a")) for _ in range(5)]
        await asyncio.sleep(0)  # all waiting; the load is held at the gate
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        rt.gate.set()
        return list(await asyncio.gather(*others))

    assert asyncio.run(main()) == [SaleMeta(1, "fls_a", "batched", "SGD")] * 5
    assert rt.loads == ["fls_a"]
