"""The clients of `entrepot bench flash`: buyers opening the sale page, the rush, and the payment
provider retrying the webhooks a killed server never delivered."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy import select

from entrepot.db import Database
from entrepot.ordering.payments import sign
from entrepot.ordering.peak_models import FlashOrder, FlashSale
from entrepot.settings import Settings

API = "/api/v1"


@dataclass
class Seeded:
    sku: str
    operator_key: str
    buyer_keys: list[str]


@dataclass
class Phase:
    """What the clients saw in one rush."""

    started: dt.datetime
    latencies: list[float] = field(default_factory=list)
    sold_latencies: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # order ids the API answered with
    statuses: dict[int, int] = field(default_factory=dict)
    retries: int = 0
    errors: int = 0
    killed: int | None = None
    seconds: float = 0.0  # the rush's wall time, every answer in
    redelivered: int = 0  # payment events the provider sent again after the server delivering them died


async def open_sale_page(ports: list[int], seeded: Seeded, sale: str, concurrency: int) -> None:
    queue = iter(range(len(seeded.buyer_keys)))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def client() -> None:
            for index in queue:
                headers = {"Authorization": f"Bearer {seeded.buyer_keys[index]}"}
                url = f"http://127.0.0.1:{ports[index % len(ports)]}{API}/flash-sales/{sale}"
                async with http.get(url, headers=headers) as response:
                    await response.read()

        await asyncio.gather(*(client() for _ in range(concurrency)))


async def rush(
    ports: list[int],
    seeded: Seeded,
    sale: str,
    concurrency: int,
    stop_when_sold_out: bool = False,
    kill_at: int | None = None,
    servers: list[subprocess.Popen[bytes]] | None = None,
    retry: Callable[[int], int] | None = None,
) -> Phase:
    phase = Phase(dt.datetime.now(dt.UTC))
    wall = time.perf_counter()
    queue = iter(range(len(seeded.buyer_keys)))
    alive = list(ports)
    sold_out = False
    body = {"quantity": 1, "payment_method": "card"}

    def maybe_kill() -> None:
        if (
            kill_at is None
            or phase.killed is not None
            or servers is None
            or len(phase.sold_latencies) < kill_at
        ):
            return
        victim = servers[0]
        os.kill(victim.pid, signal.SIGKILL)  # no goodbye: in-flight requests and pending payments die with it
        phase.killed = victim.pid
        alive.remove(ports[0])
        if retry is not None:  # the provider retries the failed webhook deliveries a second later
            retries.append(asyncio.get_running_loop().create_task(asyncio.to_thread(retry, alive[0])))

    retries: list[asyncio.Task[int]] = []

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def buy(index: int) -> None:
            nonlocal sold_out
            headers = {
                "Authorization": f"Bearer {seeded.buyer_keys[index]}",
                "Idempotency-Key": f"rush-{index:08d}",
            }
            for attempt in range(5):
                port = alive[(index + attempt) % len(alive)]
                started = time.perf_counter()
                try:
                    url = f"http://127.0.0.1:{port}{API}/flash-sales/{sale}/orders"
                    async with http.post(url, json=body, headers=headers) as response:
                        answer = await response.json(content_type=None)
                        status = response.status
                except (TimeoutError, aiohttp.ClientError):
                    phase.retries += 1  # the server died under us: the same key on another server
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                phase.latencies.append(elapsed)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                if status in (200, 201, 202):
                    phase.acknowledged.append(answer["id"])
                if status in (200, 201):
                    phase.sold_latencies.append(elapsed)
                    maybe_kill()
                elif status == 409 and str(answer.get("type", "")).endswith("/sold-out"):
                    sold_out = True
                elif status != 202 and status != 409:
                    phase.errors += 1
                return
            phase.errors += 1

        async def client() -> None:
            for index in queue:
                if stop_when_sold_out and sold_out:
                    return
                await buy(index)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - wall
    phase.redelivered = sum(await asyncio.gather(*retries))
    return phase


def provider_retries(db: Database, port: int, sale_ref: str) -> int:  # runs in a thread during the rush
    """Payments whose webhook died with the killed server: the provider retries the delivery (to a live
    server, through the public webhook), as real providers do until they get a 2xx. Only payments still
    pending a second after their order was taken: those of the surviving server land by themselves."""
    time.sleep(1.0)
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with db.transaction() as s:
        pending = s.execute(
            select(FlashOrder.payment_id, FlashOrder.amount_minor)
            .join(FlashSale, FlashSale.id == FlashOrder.sale_id)
            .where(
                FlashSale.public_id == sale_ref,
                FlashOrder.payment_status == "pending",
                FlashOrder.created_at <= cutoff,
            )
        ).all()
    secret = Settings().webhook_secret
    url = f"http://127.0.0.1:{port}{API}/flash-sales/payments/webhook"

    async def deliver_all() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:

            async def deliver(payment_id: str, amount: int) -> None:
                event = {"type": "payment.succeeded", "payment_id": payment_id, "amount_minor": amount}
                body = json.dumps({**event, "currency": "SGD"}).encode()
                headers = {"Entrepot-Signature": sign(secret, body, int(time.time()))}
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()

            await asyncio.gather(*(deliver(pid, amount) for pid, amount in pending if pid is not None))

    asyncio.run(deliver_all())
    return len(pending)
