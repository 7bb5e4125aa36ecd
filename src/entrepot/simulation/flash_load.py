"""The clients of `entrepot bench flash`: buyers opening the sale page, the rush, and the payment
provider retrying the webhooks a killed server never delivered."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import select

from entrepot.campaigns.flash.models import FlashOrder, FlashSale
from entrepot.ordering.payments import sign
from entrepot.platform.db import Database
from entrepot.platform.settings import Settings
from entrepot.simulation.lean_http import Connection, HttpError

API = "/api/v1"
PROBLEMS = "https://entrepot.dev/problems/"
SOLD_OUT = PROBLEMS + "sold-out"
# the refusals a rush may rightly get; anything else is counted as an error
REFUSALS = {PROBLEMS + code for code in ("sold-out", "over-buyer-limit", "sale-ended")}


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
    last_sold_s: float = 0.0  # when the last unit was acknowledged, from the start of the rush


def _connections(ports: list[int]) -> dict[int, Connection]:
    """A client's keep-alive connection to each server, opened on first use."""
    return {port: Connection("127.0.0.1", port) for port in ports}


async def open_sale_page(ports: list[int], seeded: Seeded, sale: str, concurrency: int) -> None:
    queue = iter(range(len(seeded.buyer_keys)))

    async def client() -> None:
        connections = _connections(ports)
        for index in queue:
            headers = {"Authorization": f"Bearer {seeded.buyer_keys[index]}"}
            port = ports[index % len(ports)]
            for attempt in range(3):  # a connection reset is retried on a new connection
                try:
                    status, _ = await connections[port].request("GET", f"{API}/flash-sales/{sale}", headers)
                    break
                except HttpError as exc:
                    print(f"sale page: {exc} (attempt {attempt + 1})", file=sys.stderr)
                    if attempt == 2:
                        raise
            if status != 200:
                raise RuntimeError(f"the sale page answered {status}")
        for connection in connections.values():
            connection.close()

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
    body = json.dumps({"quantity": 1, "payment_method": "card"}).encode()
    path = f"{API}/flash-sales/{sale}/orders"
    retries: list[asyncio.Task[int]] = []

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

    def record(status: int, answer: dict[str, Any], elapsed: float) -> None:
        nonlocal sold_out
        phase.latencies.append(elapsed)
        phase.statuses[status] = phase.statuses.get(status, 0) + 1
        if status in (200, 201, 202):
            if not str(answer.get("id", "")).startswith("fo_"):
                phase.errors += 1  # acknowledged without an order id: the answer is wrong
                return
            phase.acknowledged.append(answer["id"])
        if status in (200, 201):
            phase.sold_latencies.append(elapsed)
            phase.last_sold_s = time.perf_counter() - wall
            maybe_kill()
        elif status == 409 and answer.get("type") == SOLD_OUT:
            sold_out = True
        elif status != 202 and not (status == 409 and answer.get("type") in REFUSALS):
            phase.errors += 1

    async def buy(index: int, connections: dict[int, Connection]) -> None:
        headers = {
            "Authorization": f"Bearer {seeded.buyer_keys[index]}",
            "Idempotency-Key": f"rush-{index:08d}",
        }
        for attempt in range(5):
            port = alive[(index + attempt) % len(alive)]
            started = time.perf_counter()
            try:
                status, raw = await connections[port].request("POST", path, headers, body)
            except HttpError:
                phase.retries += 1  # the server died under us: the same key on another server
                continue
            record(status, json.loads(raw), (time.perf_counter() - started) * 1000)
            return
        phase.errors += 1

    async def client() -> None:
        connections = _connections(ports)
        for index in queue:
            if stop_when_sold_out and sold_out:
                break
            await buy(index, connections)
        for connection in connections.values():
            connection.close()

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
