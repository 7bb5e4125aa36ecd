"""The live board's feed (web/live.py): over a real server, a signed-in operator's stream sends the
board's figures and then their change as orders arrive through the API; the stream ends when the client
goes away or the session ends, without reading the board again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from entrepot.api.app import create_app
from entrepot.web import live
from tests.serving import served
from tests.web.conftest import PASSWORD, csrf_of
from tests.web.test_peak import _take, sales  # noqa: F401 (the module's fixture)
from tests.world import World


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    app = create_app(world.settings(run_relay=False), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield url


def _signed_in(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    token = csrf_of(client.get("/sign-in"))
    form = {"csrf": token, "method": "password", "username": username, "password": PASSWORD}
    assert client.post("/sign-in", data=form).status_code in (200, 303)
    return client


def _figures(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[6:])


def test_the_board_feed_sends_the_figures_then_their_change(
    world: World,
    sales: dict[str, str],  # noqa: F811
    base_url: str,
) -> None:
    sale = sales["seller_a"]
    world.clock.advance(minutes=2)
    buyers = httpx.Client(base_url=base_url, timeout=30)
    console = _signed_in(base_url, "ops")
    with console.stream("GET", f"/peak/flash/{sale}/live") as feed:
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/event-stream")
        figures = _figures(feed.iter_lines())
        first = next(figures)
        assert (first["sold"], first["available"], first["phase"]) == ("0", "5", "open")
        assert _take(buyers, world, sale, "buyer_a", 2).status_code == 201  # paid at once: sold
        while (seen := next(figures))["sold"] == "0":
            pass  # the order is batched, then paid: the figures before it may come first
        assert (seen["sold"], seen["available"], seen["reserved"]) == ("2", "3", "0")
    assert _signed_in(base_url, "seller-b").get(f"/peak/flash/{sale}/live").status_code == 404


class _Request:
    """What figures_stream asks of a request: whether its client has gone, here after `calls` asks."""

    def __init__(self, calls: int) -> None:
        self.calls = calls

    async def is_disconnected(self) -> bool:
        self.calls -= 1
        return self.calls < 0


def _drain(stream: Any) -> list[str]:
    async def collect() -> list[str]:
        return [chunk async for chunk in stream]

    return asyncio.run(collect())


def test_the_stream_ends_when_the_client_goes_away() -> None:
    reads: list[int] = []

    def read() -> live.Figures:
        reads.append(1)
        return {"sold": "7"} if len(reads) < 3 else {"sold": "8"}

    sent = _drain(live.figures_stream(_Request(4), read, lambda: True, interval=0))  # type: ignore[arg-type]
    assert sent == ["retry: 2000\n\n", 'data: {"sold":"7"}\n\n', 'data: {"sold":"8"}\n\n']
    assert len(reads) == 4  # the same figures are not sent twice; nothing is read once the client left


def test_the_stream_ends_when_the_session_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "SESSION_CHECK_SECONDS", 0.0)
    reads: list[int] = []
    stream = live.figures_stream(_Request(10), lambda: reads.append(1) or {}, lambda: False, interval=0)  # type: ignore[arg-type]
    assert _drain(stream) == ["retry: 2000\n\n"] and reads == []


def test_the_overview_feed_sends_orders_a_minute_to_operators_only(
    world: World,
    sales: dict[str, str],  # noqa: F811
    base_url: str,
) -> None:
    with _signed_in(base_url, "ops").stream("GET", "/overview/live") as feed:
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/event-stream")
        first = next(_figures(feed.iter_lines()))
        assert set(first) == {"orders_per_minute", "outbox_waiting", "as_of"}
    assert _signed_in(base_url, "seller-b").get("/overview/live").status_code == 403
