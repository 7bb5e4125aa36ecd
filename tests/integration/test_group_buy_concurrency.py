"""Group buying raced by real parallel clients over HTTP against two uvicorn workers on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from entrepot.campaigns.group_buys.models import GroupBuy, GroupMember
from tests.integration.test_concurrency import _buyer_keys, _race
from tests.integration.test_flash_concurrency import _stock_for_sale, pg_world, server  # noqa: F401  (fixtures)
from tests.world import World

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # a server of their own (test_flash_concurrency)
API = "/api/v1"


def test_30_buyers_race_to_join_a_team_of_5_and_exactly_4_get_in(
    pg_world: World,  # noqa: F811
    server: tuple[str, subprocess.Popen[bytes]],  # noqa: F811
) -> None:
    base, _ = server
    _stock_for_sale(pg_world, 100)
    now = dt.datetime.now(dt.UTC)
    body = {
        "sku": pg_world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 990,
        "team_size": 5,
        "team_window_seconds": 600,
        "stock": 5,
        "starts_at": (now - dt.timedelta(seconds=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
    }
    ref = httpx.post(f"{base}{API}/group-buys", json=body, headers=pg_world.auth("operator")).json()["id"]
    keys = _buyer_keys(pg_world, 31)
    opener = {"Authorization": f"Bearer {keys[30]}"}
    team = httpx.post(f"{base}{API}/group-buys/{ref}/teams", json={"payment_method": "card"}, headers=opener)
    assert team.status_code == 201, team.text

    def join(client: httpx.Client, index: int) -> tuple[int, Any]:
        response = client.post(
            f"{base}{API}/group-teams/{team.json()['id']}/members",
            json={"payment_method": "card"},
            headers={"Authorization": f"Bearer {keys[index]}"},
        )
        return response.status_code, response.json().get("type")

    results = _race(30, join)
    assert [status for status, _ in results].count(201) == 4
    refused = {kind.rsplit("/", 1)[1] for status, kind in results if status != 201}
    assert refused <= {"team-closed", "insufficient-stock"}
    with pg_world.db.transaction() as s:
        campaign = s.scalar(select(GroupBuy).where(GroupBuy.public_id == ref))
        assert campaign is not None and (campaign.held, campaign.sold) == (0, 5)
        statuses = s.scalars(select(GroupMember.payment_status)).all()
    assert sorted(statuses) == ["captured"] * 5  # every member captured, nobody else charged
