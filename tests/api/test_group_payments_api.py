"""Group-buy captures and releases carried out at the provider through the outbox, on SQLite and
PostgreSQL: each member's payment is captured (or released) exactly once, also when the relay delivers
an event again, and an event that contradicts the record is refused, never sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from entrepot.campaigns.group_buys import payments as group_payments
from entrepot.campaigns.group_buys import service as group_buy
from entrepot.campaigns.group_buys.models import GroupMember
from entrepot.platform.db import OutboxEvent
from entrepot.platform.outbox import Event, HandlerRegistry, in_state, relay_once
from tests.api.test_group_buy_api import campaign, join, open_team
from tests.world import World


def _relay(world: World, provider: group_payments.SimulatedHolds) -> None:
    registry = HandlerRegistry()
    group_payments.register(registry, provider)
    relay_once(world.db, registry, world.clock(), batch=1000)


def _member_payments(world: World) -> dict[str, str]:
    with world.db.transaction() as s:
        return dict(s.execute(select(GroupMember.payment_id, GroupMember.payment_status)).all())  # type: ignore[arg-type]


def test_a_full_team_is_captured_at_the_provider_once_even_when_redelivered(
    world: World,
) -> None:
    client = world.client()
    team = open_team(client, world, campaign(client, world, team_size=2), "buyer_a").json()["id"]
    assert join(client, world, team, "buyer_b").json()["status"] == "completed"
    provider = group_payments.SimulatedHolds()
    _relay(world, provider)
    members = _member_payments(world)
    assert sorted(provider.done) == sorted(("captured", pid) for pid in members)
    assert set(provider.state.values()) == {"captured"}
    with world.db.transaction() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.type == group_payments.CAPTURE)).all()
        assert len(rows) == 2 and all(row.published_at is not None for row in rows)
        events = [Event(r.public_id, r.type, r.aggregate_id, r.payload, r.occurred_at) for r in rows]
    registry = HandlerRegistry()
    group_payments.register(registry, provider)
    [capture] = registry.handlers_for(group_payments.CAPTURE)
    for event in events:  # delivered again (a relay that died after the call, before marking it done)
        with world.db.transaction() as s:
            capture(s, event)
    assert len(provider.done) == 2  # no money moved twice


def test_a_failed_team_is_released_at_the_provider_and_never_captured(
    world: World,
) -> None:
    client = world.client()
    ref = campaign(client, world, team_window_seconds=600)
    team = open_team(client, world, ref, "buyer_a").json()["id"]
    assert join(client, world, team, "buyer_b").status_code == 201
    world.clock.advance(seconds=601)
    with world.db.transaction() as s:
        assert group_buy.fail_overdue_teams(s, world.clock()) == 1
    provider = group_payments.SimulatedHolds()
    _relay(world, provider)
    assert sorted(provider.done) == sorted(("released", pid) for pid in _member_payments(world))
    assert all(action == "released" for action, _ in provider.done)


def test_an_event_that_contradicts_the_record_is_refused_and_not_sent(
    world: World,
) -> None:
    client = world.client()
    assert open_team(client, world, campaign(client, world), "buyer_a").status_code == 201
    [(payment_id, status)] = _member_payments(world).items()
    assert status == "authorized"  # the team is still open: nothing is to be captured
    provider = group_payments.SimulatedHolds()
    registry = HandlerRegistry()
    group_payments.register(registry, provider)
    [capture] = registry.handlers_for(group_payments.CAPTURE)
    forged = Event(
        "evt_forged",
        group_payments.CAPTURE,
        payment_id,
        {"amount_minor": 1290, "currency": "SGD"},
        world.clock(),
    )
    with world.db.transaction() as s, pytest.raises(group_payments.ProviderRefused, match="authorized"):
        capture(s, forged)
    assert provider.done == []
    with world.db.transaction() as s:  # nothing else is waiting on the provider
        assert not s.scalars(
            select(OutboxEvent).where(in_state("pending"), OutboxEvent.type.like("group_payment%"))
        ).all()
