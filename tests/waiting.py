"""Waiting for what another process does in its own time (a server coming up, a sweeper, a webhook)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], what: str, timeout: float = 30.0, every: float = 0.05) -> T:
    """Poll `check` until it returns something true, and return that; fail naming `what` after `timeout`
    seconds. For what another process does in its own time (a server coming up, a sweeper, a webhook):
    never a fixed sleep, and never longer than it takes."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:.0f} s for {what}")
        time.sleep(every)
