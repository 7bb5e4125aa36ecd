"""How fast one API key, or one client address signing in, may call: the `limits` library's sliding window
counter, kept in Redis when ENTREPOT_RATE_LIMIT_STORAGE names one (shared by every worker and server), in
this process's memory otherwise (the demo: one process, no Redis needed).

Why a sliding window counter: one round trip to Redis a request (one Lua script over two counters), like a
fixed window, but without letting a client send twice its limit across a window's edge; a moving window
(one sorted-set entry per request) is exact but costs memory and time in proportion to the limit.
`entrepot bench ratelimit` measures the three against a request with no limiter.

Redis out of reach never stops the API: the request goes through (fail open), one warning is logged for the
outage, `entrepot_rate_limit_unavailable_total` counts the requests let through unchecked, and the store is
not asked again for `retry_store_seconds` (so an outage costs one failed connection, not one a request).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from prometheus_client import Counter

from entrepot.kernel.errors import DomainError
from entrepot.platform.principal import ROLES, Principal
from entrepot.platform.settings import Settings

log = logging.getLogger("entrepot.platform.ratelimit")

LIMITED = Counter("entrepot_rate_limited", "Requests refused with 429, by what was limited", ["scope"])
UNCHECKED = Counter(
    "entrepot_rate_limit_unavailable",
    "Requests let through unchecked because the rate limit store was out of reach",
    ["scope"],
)

STRATEGIES: dict[str, Callable[[Storage], RateLimiter]] = {
    "sliding": SlidingWindowCounterRateLimiter,
    "fixed": FixedWindowRateLimiter,
    "moving": MovingWindowRateLimiter,
}
KEY_PREFIX = "entrepot-rl"  # of every key the limiter writes in Redis
# A Redis that does not answer within this is taken as out of reach (the request is not held longer).
REDIS_TIMEOUT_S = 0.25


class RateLimited(DomainError):
    """429: the caller went past its limit; `retry_after` (seconds) goes in the Retry-After header."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, [], {"retry_after": retry_after}, "rate-limited", 429, "Too many requests")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until a request would be allowed again, when refused


def parse_limit(text: str) -> RateLimitItem:
    """`100/minute`, `10 per second`: the `limits` notation; a ValueError for anything else."""
    return parse(text)


def make_storage(uri: str, strategy: str = "sliding") -> Storage:
    """`memory://`, or `redis://host:port[/db]` (`rediss://` with TLS) through redis-py's asyncio client.
    Each strategy keeps its counts under its own prefix: they store different kinds of value under the
    same names, so a change of strategy would otherwise find the other's keys (WRONGTYPE)."""
    if uri.startswith(("redis://", "rediss://")):
        return RedisStorage(
            "async+" + uri,
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix=f"{KEY_PREFIX}-{strategy}",
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
        )
    if uri.startswith("memory://"):
        return MemoryStorage()
    raise ValueError(f"rate limit storage must be memory:// or redis://host:port, not {uri!r}")


class Limiter:
    """Counts hits per (scope, identity) against a limit; answers whether to let the request through.

    A Redis client belongs to one event loop (redis-py's asyncio connections do), so each loop that calls
    gets its own: a server has one, a test client one a request."""

    def __init__(
        self,
        storage_uri: str,
        strategy: str = "sliding",
        retry_store_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.strategy, self.strategy_name = STRATEGIES[strategy], strategy
        shared = make_storage(storage_uri, strategy)  # and a bad URI is refused now, not at the first request
        # memory is one store for the process; a Redis client belongs to the loop it was first used on
        self._shared = self.strategy(shared) if isinstance(shared, MemoryStorage) else None
        self.storage_uri = storage_uri
        self.retry_store_seconds = retry_store_seconds
        self.monotonic = monotonic
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RateLimiter] = (
            weakref.WeakKeyDictionary()
        )
        self._store_down_until: float | None = None

    def _limiter(self) -> RateLimiter:
        if self._shared is not None:
            return self._shared
        loop = asyncio.get_running_loop()
        limiter = self._by_loop.get(loop)
        if limiter is None:
            storage = make_storage(self.storage_uri, self.strategy_name)
            limiter = self._by_loop[loop] = self.strategy(storage)
        return limiter

    async def check(self, scope: str, identity: str, limit: RateLimitItem) -> Decision:
        """One hit for `identity` in `scope`; refused past `limit`. Fails open when the store is down."""
        if self._store_down_until is not None and self.monotonic() < self._store_down_until:
            UNCHECKED.labels(scope).inc()
            return Decision(True)
        limiter = self._limiter()
        try:
            if await limiter.hit(limit, scope, identity):
                self._store_back()
                return Decision(True)
            stats = await limiter.get_window_stats(limit, scope, identity)
        except Exception as exc:  # the store's errors, whatever the client library calls them
            self._store_lost(scope, exc)
            return Decision(True)
        self._store_back()
        LIMITED.labels(scope).inc()
        return Decision(False, max(1, math.ceil(stats.reset_time - time.time())))

    def _store_lost(self, scope: str, exc: BaseException) -> None:
        UNCHECKED.labels(scope).inc()
        if self._store_down_until is None:  # one line an outage, not one a request
            log.warning(
                "rate limit store %s out of reach (%s): requests go through unchecked until it is back",
                _without_password(self.storage_uri),
                type(exc).__name__,
            )
        self._store_down_until = self.monotonic() + self.retry_store_seconds

    def _store_back(self) -> None:
        if self._store_down_until is not None:
            log.warning("rate limit store %s is back", _without_password(self.storage_uri))
            self._store_down_until = None


def _without_password(uri: str) -> str:
    scheme, sep, rest = uri.partition("://")
    return scheme + sep + rest.rpartition("@")[2]


@dataclass(frozen=True)
class RateLimits:
    """What the settings say: a limit per role for API keys, one per client address for signing in."""

    limiter: Limiter
    per_role: dict[str, RateLimitItem]
    sign_in: RateLimitItem

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        per_role = {role: parse_limit(getattr(settings, f"rate_limit_{role}")) for role in ROLES}
        limiter = Limiter(settings.rate_limit_storage, settings.rate_limit_strategy)
        return cls(limiter, per_role, parse_limit(settings.rate_limit_sign_in))

    async def check_key(self, principal: Principal) -> None:
        """Raises RateLimited when this key went past its role's limit."""
        limit = self.per_role[principal.role]
        decision = await self.limiter.check("key", principal.key_id, limit)
        if not decision.allowed:
            raise RateLimited(f"this key may make {limit} requests", decision.retry_after)

    async def check_sign_in(self, address: str) -> None:
        """Raises RateLimited when this client address tried to sign in too often."""
        decision = await self.limiter.check("sign-in", address, self.sign_in)
        if not decision.allowed:
            raise RateLimited(f"too many sign-in attempts: at most {self.sign_in}", decision.retry_after)


def of_context(settings: Settings, runtimes: dict[str, Any]) -> RateLimits | None:
    """The context's limits, made on first use and kept with its other runtimes; None when switched off."""
    if not settings.rate_limits:
        return None
    limits = runtimes.get("rate_limits")
    if limits is None:
        limits = runtimes["rate_limits"] = RateLimits.from_settings(settings)
    assert isinstance(limits, RateLimits)
    return limits
