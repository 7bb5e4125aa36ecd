"""What the rate limit costs a request: `python benchmarks/ratelimit.py [--requests N] [--rounds R]`.

Drives GET /api/v1/me in process (httpx's ASGI transport, one client, one request at a time, the key's
check cached as in a running server) through the app with no limiter (the baseline, measured in the same
run), then with each store and strategy of platform.ratelimit: memory, and Redis at ENTREPOT_BENCH_REDIS
(redis://127.0.0.1:6379/0 by default) with the sliding window counter, fixed window and moving window.
The limit is set far above the load, so every request is counted and none refused. Each variant runs
R rounds, interleaved, and the median round is kept. Also times the limiter's own check alone.

Prints one summary line last:
`ratelimit requests=... baseline_us=... memory_us=... redis_sliding_us=... redis_fixed_us=...
redis_moving_us=... sliding_cost_us=... check_sliding_us=... check_fixed_us=... check_moving_us=...`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis

from entrepot import schema
from entrepot.api.app import create_app
from entrepot.identity import service as identity
from entrepot.kernel.clock import system_clock
from entrepot.platform import ratelimit
from entrepot.platform.db import Database
from entrepot.platform.settings import Settings

REDIS = os.environ.get("ENTREPOT_BENCH_REDIS", "redis://127.0.0.1:6379/0")
HIGH = "100000000/minute"  # never reached: every request is counted, none refused
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {"rate_limits": False},
    "memory": {"rate_limit_storage": "memory://", "rate_limit_strategy": "sliding"},
    "redis_sliding": {"rate_limit_storage": REDIS, "rate_limit_strategy": "sliding"},
    "redis_fixed": {"rate_limit_storage": REDIS, "rate_limit_strategy": "fixed"},
    "redis_moving": {"rate_limit_storage": REDIS, "rate_limit_strategy": "moving"},
}


def _store(folder: Path) -> tuple[Database, str]:
    url = f"sqlite:///{folder / 'bench.db'}"
    schema.upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        _, key = identity.create_api_key(session, "operator", "bench", system_clock())
    return db, key


async def _round(client: httpx.AsyncClient, key: str, requests: int) -> float:
    """Microseconds a request, over `requests` sequential requests."""
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    for _ in range(requests):
        answer = await client.get("/api/v1/me", headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"GET /me answered {answer.status_code}: {answer.text}")
    return (time.perf_counter() - started) / requests * 1e6


async def _requests(db: Database, key: str, requests: int, rounds: int) -> dict[str, float]:
    clients = {}
    for name, overrides in VARIANTS.items():
        values = {"env": "development", "database_url": db.url, "run_sweeper": False, "run_relay": False}
        settings = Settings(**values, rate_limit_operator=HIGH, **overrides)  # type: ignore[arg-type]
        app = create_app(settings, db)
        clients[name] = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    for client in clients.values():  # warm up: routes built, connections open
        await _round(client, key, 50)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(rounds):  # interleaved, so a slow spell of the machine falls on every variant
        for name, client in clients.items():
            times[name].append(await _round(client, key, requests))
    for client in clients.values():
        await client.aclose()
    return {name: statistics.median(values) for name, values in times.items()}


async def _checks(calls: int) -> dict[str, float]:
    """Microseconds a check of the limiter alone, on Redis, by strategy."""
    found = {}
    limit = ratelimit.parse_limit(HIGH)
    for strategy in ("sliding", "fixed", "moving"):
        limiter = ratelimit.Limiter(REDIS, strategy)
        await limiter.check("bench", "warm", limit)
        started = time.perf_counter()
        for _ in range(calls):
            await limiter.check("bench", "key", limit)
        found[strategy] = (time.perf_counter() - started) / calls * 1e6
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests a round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ratelimit.KEY_PREFIX = f"entrepot-rl-bench-{uuid.uuid4().hex}"  # the bench's keys only, removed after
    try:
        with tempfile.TemporaryDirectory() as folder:
            db, key = _store(Path(folder))
            per_request = asyncio.run(_requests(db, key, args.requests, args.rounds))
            checks = asyncio.run(_checks(args.requests))
            db.dispose()
    finally:
        client = redis.Redis.from_url(REDIS)
        for name in client.scan_iter(f"{ratelimit.KEY_PREFIX}*"):
            client.delete(name)
    for name, us in per_request.items():
        print(f"{name:14} {us:8.1f} us a request")
    fields = {f"{name}_us": f"{us:.1f}" for name, us in per_request.items()}
    fields["sliding_cost_us"] = f"{per_request['redis_sliding'] - per_request['baseline']:.1f}"
    fields |= {f"check_{name}_us": f"{us:.1f}" for name, us in checks.items()}
    print(
        "ratelimit requests="
        + str(args.requests * args.rounds)
        + " "
        + " ".join(f"{k}={v}" for k, v in fields.items())
    )


if __name__ == "__main__":
    main()
