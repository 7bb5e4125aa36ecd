"""The background job `entrepot serve` runs (round_service.dispatch_rounds): a round every
ENTREPOT_LOCAL_DISPATCH_INTERVAL_SECONDS on the app's context and clock, none when it is 0."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from prometheus_client import REGISTRY

from entrepot.local_services import round_service
from tests.api.local_on_demand import Town, shipped_city, town

__all__ = ["shipped_city", "town"]  # fixtures


async def _runs_until(job: Coroutine[Any, Any, None], done: Callable[[], bool], limit_s: float) -> bool:
    """Run the job until `done()` holds (checked in a thread: it reads the database) or it ends or
    `limit_s` passes; whether `done()` held. The job is cancelled either way."""
    task = asyncio.ensure_future(job)
    try:
        for _ in range(int(limit_s / 0.1)):
            if await asyncio.to_thread(done):
                return True
            if task.done():
                return False
            await asyncio.sleep(0.1)
        return False
    finally:
        task.cancel()


def test_the_job_dispatches_every_interval_and_not_at_all_at_zero(town: Town) -> None:
    town.ping(0)
    placed = town.ok(town.order(), 201)
    town.world.clock.now = dt.datetime.fromisoformat(placed["ready_at"]) - dt.timedelta(minutes=2)

    def assigned() -> bool:
        return bool(town.ok(town.get(f"/local/orders/{placed['id']}", "buyer_a"))["state"] == "assigned")

    off = town.world.context(local_dispatch_interval_seconds=0)
    assert (
        asyncio.run(_runs_until(round_service.dispatch_rounds(off), assigned, 5.0)) is False
    )  # ends at once
    rounds_before, assigned_before = _metric("entrepot_dispatch_round_seconds_count"), _assigned_metric()
    on = town.world.context(local_dispatch_interval_seconds=0.05)
    assert asyncio.run(_runs_until(round_service.dispatch_rounds(on), assigned, 120.0)) is True
    assert _metric("entrepot_dispatch_round_seconds_count") > rounds_before  # each round timed
    assert _assigned_metric() - assigned_before == 1  # counted once, as its round committed


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _assigned_metric() -> float:
    return _metric("entrepot_dispatch_total", what="orders_assigned")


@pytest.mark.parametrize("interval", [-1, 3601])
def test_the_interval_is_bounded(town: Town, interval: float) -> None:
    with pytest.raises(ValueError, match="local_dispatch_interval_seconds"):
        town.world.settings(local_dispatch_interval_seconds=interval)
