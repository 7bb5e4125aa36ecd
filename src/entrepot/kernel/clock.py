"""The one clock: every "now" and "today" the product takes comes from a `Clock`.

Production reads the system clock. Tests and the demo pin it: `pinned(instant)` starts the clock at that
instant and lets it run at real speed, so reservations still expire and retries still come due, while
every date-dependent answer (LTM windows, FX staleness, expiry, targets) is the one of the pinned day.
Tests that need a clock they move by hand pass any callable (tests/world.py's Clock).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def require_aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"a clock needs a time zone: {instant.isoformat()} has none")
    return instant.astimezone(dt.UTC)


def pinned(start: dt.datetime) -> Clock:
    """A clock that reads `start` now and moves on at the system's pace from there."""
    origin = require_aware(start)
    began = time.monotonic()

    def now() -> dt.datetime:
        return origin + dt.timedelta(seconds=time.monotonic() - began)

    return now


def today(clock: Clock) -> dt.date:
    """The UTC date of the clock's now (a market's own day follows its time zone: see local_date)."""
    return clock().date()
