"""Group buying over HTTP on SQLite and PostgreSQL: a team that fills is captured, a team that does not
is released, and every refusal changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.campaigns.group_buys import service as group_buy
from entrepot.campaigns.group_buys.models import GroupBuy, GroupMember, GroupTeam
from entrepot.identity import service as identity
from entrepot.platform.db import OutboxEvent
from tests.api.helpers import API, assert_problem, field_errors
from tests.world import T0, World


@pytest.fixture
def client(world: World) -> TestClient:
    return world.client()


@pytest.fixture
def buyers(world: World) -> list[str]:
    """Three more buyers than the world has, as auth header owners."""
    names = []
    with world.db.transaction() as s:
        for i in range(3):
            buyer = identity.create_buyer(s, f"teammate {i}", "SG", T0, 1.3, 103.8)
            world.keys[f"mate{i}"] = identity.create_api_key(
                s, "buyer", f"mate {i}", T0, buyer_public_id=buyer.public_id
            )[1]
            names.append(f"mate{i}")
    return names


def campaign(client: TestClient, world: World, **overrides: Any) -> str:
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 1290,
        "team_size": 3,
        "team_window_seconds": 3600,
        "stock": 6,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(days=1)).isoformat(),
        **overrides,
    }
    response = client.post(f"{API}/group-buys", json=body, headers=world.auth("seller_a"))
    assert response.status_code == 201, response.text
    ref: str = response.json()["id"]
    return ref


def open_team(client: TestClient, world: World, ref: str, who: str, method: str = "card") -> Any:
    return client.post(
        f"{API}/group-buys/{ref}/teams", json={"payment_method": method}, headers=world.auth(who)
    )


def join(client: TestClient, world: World, team: str, who: str, method: str = "card") -> Any:
    return client.post(
        f"{API}/group-teams/{team}/members", json={"payment_method": method}, headers=world.auth(who)
    )


def payments(world: World, team: str) -> list[str]:
    with world.db.transaction() as s:
        team_id = s.scalar(select(GroupTeam.id).where(GroupTeam.public_id == team))
        return sorted(s.scalars(select(GroupMember.payment_status).where(GroupMember.team_id == team_id)))


def events(world: World, kind: str) -> int:
    with world.db.transaction() as s:
        return int(
            s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == kind)) or 0
        )


def test_a_full_team_captures_every_member(client: TestClient, world: World, buyers: list[str]) -> None:
    ref = campaign(client, world)
    opened = open_team(client, world, ref, "buyer_a")
    assert opened.status_code == 201, opened.text
    team = opened.json()["id"]
    assert opened.json()["your_payment"] == "authorized" and opened.json()["members"] == 1
    assert join(client, world, team, "buyer_b").json()["status"] == "open"
    assert payments(world, team) == ["authorized", "authorized"]  # held, nobody charged yet
    last = join(client, world, team, buyers[0])
    assert last.status_code == 201 and last.json()["status"] == "completed"
    assert payments(world, team) == ["captured"] * 3
    assert events(world, "group_payment.capture") == 3
    state = client.get(f"{API}/group-buys/{ref}", headers=world.auth("buyer_a")).json()
    assert (state["held"], state["sold"]) == (0, 3)
    assert_problem(join(client, world, team, buyers[1]), 409, "team-closed")


def test_a_team_short_at_its_deadline_fails_and_releases_everyone(
    client: TestClient, world: World, buyers: list[str]
) -> None:
    ref = campaign(client, world, team_window_seconds=600)
    team = open_team(client, world, ref, "buyer_a").json()["id"]
    assert join(client, world, team, "buyer_b").status_code == 201
    world.clock.advance(seconds=599)
    with world.db.transaction() as s:
        assert group_buy.fail_overdue_teams(s, world.clock()) == 0
    world.clock.advance(seconds=2)
    assert_problem(join(client, world, team, buyers[0]), 409, "team-closed")
    with world.db.transaction() as s:
        assert group_buy.fail_overdue_teams(s, world.clock()) == 1
    assert payments(world, team) == ["released", "released"]
    assert events(world, "group_payment.release") == 2 and events(world, "group_payment.capture") == 0
    state = client.get(f"{API}/group-teams/{team}", headers=world.auth("buyer_b")).json()
    assert state["status"] == "failed" and state["your_payment"] == "released"
    assert client.get(f"{API}/group-buys/{ref}", headers=world.auth("buyer_a")).json()["held"] == 0


def test_refusals_change_nothing(client: TestClient, world: World, buyers: list[str]) -> None:
    ref = campaign(client, world, stock=3)
    team = open_team(client, world, ref, "buyer_a").json()["id"]
    assert_problem(join(client, world, team, "buyer_a"), 409, "already-member")
    declined = assert_problem(
        join(client, world, team, "buyer_b", "decline_insufficient_funds"), 402, "payment-declined"
    )
    assert declined["reason"] == "insufficient_funds"
    assert payments(world, team) == ["authorized"]
    assert_problem(join(client, world, team, "seller_a"), 403, "forbidden")
    assert_problem(join(client, world, "team_nope", "buyer_b"), 404, "not-found")
    other = open_team(client, world, ref, "buyer_b")
    assert other.status_code == 201
    assert open_team(client, world, ref, buyers[0]).status_code == 201
    assert_problem(open_team(client, world, ref, buyers[1]), 409, "insufficient-stock")  # 3 of 3 units held
    with world.db.transaction() as s:
        row = s.scalar(select(GroupBuy))
        assert row is not None and (row.held, row.sold) == (3, 0)
    bad = client.post(
        f"{API}/group-buys",
        json={"sku": world.ids["seller_a_red"], "market": "lazada-sg", "team_price_minor": -1, "team_size": 1,
              "team_window_seconds": 10, "stock": 1, "starts_at": T0.isoformat(), "ends_at": T0.isoformat()},
        headers=world.auth("seller_a"),
    )  # fmt: skip
    errors = field_errors(assert_problem(bad, 422, "validation-failed"))
    # the limits the document states are checked first, each field named; then the rules between fields
    assert {"team_price_minor", "team_size", "team_window_seconds", "stock"} <= set(errors)
    ended = client.post(
        f"{API}/group-buys",
        json={"sku": world.ids["seller_a_red"], "market": "lazada-sg", "team_price_minor": 99, "team_size": 3,
              "team_window_seconds": 600, "stock": 2, "starts_at": T0.isoformat(), "ends_at": T0.isoformat()},
        headers=world.auth("seller_a"),
    )  # fmt: skip
    assert set(field_errors(assert_problem(ended, 422, "validation-failed"))) == {"stock", "ends_at"}
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(GroupBuy)) == 1  # the refused ones wrote nothing


def test_a_campaign_not_running_refuses_teams(client: TestClient, world: World) -> None:
    ref = campaign(client, world, starts_at=(T0 + dt.timedelta(hours=1)).isoformat())
    assert_problem(open_team(client, world, ref, "buyer_a"), 409, "group-buy-not-open")
