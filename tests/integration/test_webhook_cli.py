"""`entrepot webhooks ...`: subscribing (a bad URL or type is one line and exit code 2, nothing written),
the worker as a command of its own against a real receiver, the delivery log and a replay; and
`entrepot webhooks listen`'s receiver, which verifies signatures."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from aiohttp.test_utils import TestClient as AioClient
from aiohttp.test_utils import TestServer
from typer.testing import CliRunner

from entrepot.cli.main import app as cli
from entrepot.integrations import domain
from entrepot.integrations.receiver import Received, receiver_app
from entrepot.platform.settings import get_settings
from tests.integration.test_webhook_delivery import Receiver, _deliveries, _events, receiver  # noqa: F401
from tests.world import T0, World

Invoke = Callable[..., str]


@pytest.fixture
def invoke(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    monkeypatch.setenv("ENTREPOT_CLOCK", T0.isoformat())
    monkeypatch.setenv("ENTREPOT_WEBHOOKS_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["webhooks", *args])
        assert result.exit_code == code, result.output
        return result.output

    yield run
    get_settings.cache_clear()


def test_bad_input_is_one_line_and_exit_code_2(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTREPOT_WEBHOOKS_ALLOW_PRIVATE", "false")
    out = invoke("subscriptions", "create", "--url", "http://10.0.0.1/", "--event-type", "order.paid", code=2)
    assert out.count("\n") == 1 and "private" in out
    out = invoke(
        "subscriptions", "create", "--url", "https://x.example.com/", "--event-type", "order.nope", code=2
    )
    assert "not an event type" in out
    assert invoke("subscriptions", "list") == ""


def test_subscribe_work_log_and_replay(invoke: Invoke, world: World, receiver: Receiver) -> None:  # noqa: F811
    made = invoke("subscriptions", "create", "--url", receiver.url(), "--event-type", "fx.rates_loaded")
    subscription, secret = made.split()
    assert secret.startswith("whsec_")
    _events(world.db, 2)
    assert "2 deliveries attempted" in invoke("work", "--once")
    log = invoke("deliveries", subscription)
    assert log.count("delivered attempts=1 HTTP 200") == 2
    first = _deliveries(world.db)[0].public_id
    assert "queued" in invoke("replay", first)
    invoke("work", "--once")
    assert [h.headers["webhook-id"] for h in receiver.hits][2] == receiver.hits[0].headers["webhook-id"]
    rotated = invoke("subscriptions", "rotate", subscription)
    assert rotated.split()[1] not in (secret, "")


def test_the_development_receiver_verifies_signatures() -> None:
    secret = domain.new_secret(b"k" * 32)
    seen: list[Received] = []

    async def keep(received: Received) -> int:
        seen.append(received)
        return 204 if received.verified else 401

    async def exchange() -> list[int]:
        async with AioClient(TestServer(receiver_app([secret], keep))) as client:
            body = b'{"type":"order.paid"}'
            now = dt.datetime.now(dt.UTC)  # the spec's library checks the timestamp against the wall clock
            good = domain.headers([secret], "evt_1", now, body)
            forged = domain.headers([domain.new_secret(b"x" * 32)], "evt_1", now, body)
            return [(await client.post("/", data=body, headers=h)).status for h in (good, forged)]

    assert asyncio.run(exchange()) == [204, 401]
    assert [r.verified for r in seen] == [True, False] and seen[1].error
