"""The livestream feed over a real server: viewers see a drop's remaining stock fall as buyers take it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from tests.integration.test_concurrency import _buyer_keys
from tests.integration.test_flash_concurrency import _stock_for_sale, pg_world, server  # noqa: F401  (fixtures)
from tests.world import World

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # a server of their own (test_flash_concurrency)
API = "/api/v1"


def _events(lines: Any) -> Any:
    """Parsed `event: drops` payloads from an SSE line stream."""
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[6:])


def test_viewers_see_the_stock_of_an_open_drop_fall_in_near_real_time(
    pg_world: World,  # noqa: F811
    server: tuple[str, subprocess.Popen[bytes]],  # noqa: F811
) -> None:
    base, _ = server
    _stock_for_sale(pg_world, 50)
    seller = pg_world.auth("seller_a")
    live = httpx.post(
        f"{base}{API}/live-sessions",
        json={"market": "lazada-sg", "host": "Ana", "title": "drops"},
        headers=seller,
    ).json()
    body = {"sku": pg_world.ids["seller_a_red"], "sale_price_minor": 500, "stock": 3, "per_buyer_limit": 1}
    drop = httpx.post(f"{base}{API}/live-sessions/{live['id']}/drops", json=body, headers=seller).json()[
        "drops"
    ][0]
    keys = _buyer_keys(pg_world, 3)
    with (
        httpx.Client(timeout=20) as viewer,
        viewer.stream(
            "GET", f"{base}{API}/live-sessions/{live['id']}/events", headers=pg_world.auth("buyer_a")
        ) as feed,
    ):
        assert feed.headers["content-type"].startswith("text/event-stream")
        events = _events(feed.iter_lines())
        assert next(events)["drops"][0]["status"] == "queued"
        opened = httpx.post(f"{base}{API}/live-sessions/{live['id']}/drops/{drop['id']}/open", headers=seller)
        sale = opened.json()["drops"][0]["sale"]
        seen = next(events)["drops"][0]
        assert (seen["status"], seen["available"]) == ("open", 3)
        for index, key in enumerate(keys):
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"viewer-buys-{index}"}
            taken = httpx.post(
                f"{base}{API}/flash-sales/{sale}/orders", json={"quantity": 1}, headers=headers
            )
            assert taken.status_code == 201, taken.text
            while (seen := next(events)["drops"][0])["available"] != 2 - index:
                assert seen["available"] > 2 - index  # stock only falls, and every level is reached
        assert seen["phase"] == "waiting"  # all 3 units held, none paid yet
