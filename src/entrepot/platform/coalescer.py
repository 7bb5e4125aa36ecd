"""Coalesce concurrent requests into batches, one batch in flight at a time (group commit): the flash
sales' batches and ordinary checkout's (ordering.runtime) both go through it.

Requests arriving while a batch runs wait in a queue and go together into the next one, so under load
batches grow by themselves and when it is quiet a request runs alone at once: no timer, no added delay.
Items with the same key never share a batch (a repeat goes to the next), which keeps one buyer's two
requests from being decided against the same snapshot of what they hold.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    def __init__(
        self, run_batch: Callable[[list[T]], list[R]], key_of: Callable[[T], Hashable], max_batch: int = 256
    ) -> None:
        self._run_batch = run_batch
        self._key_of = key_of
        self._max_batch = max_batch
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._draining = False
        self.batches = 0  # for tests and the benchmark's summary

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._next_batch()
                try:
                    results = await run_in_threadpool(self._run_batch, [item for item, _ in batch])
                except Exception as exc:  # the whole transaction rolled back: every request in it failed
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.batches += 1
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # the client may have gone away meanwhile
                        future.set_result(result)
        finally:
            self._draining = False

    def _next_batch(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        deferred: list[tuple[T, asyncio.Future[R]]] = []
        while self._queue and len(batch) < self._max_batch:
            entry = self._queue.popleft()
            key = self._key_of(entry[0])
            if key in keys:
                deferred.append(entry)
                continue
            keys.add(key)
            batch.append(entry)
        self._queue.extendleft(reversed(deferred))  # repeats keep their place at the head of the queue
        return batch
