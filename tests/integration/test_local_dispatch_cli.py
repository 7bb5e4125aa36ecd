"""`entrepot local dispatch-round` as a scheduler runs it: one round on the stored state, its summary
line last; a second round with nothing new offers nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.platform.settings import get_settings
from tests.api.local_on_demand import Town, shipped_city, town

__all__ = ["shipped_city", "town"]  # fixtures


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output.strip().splitlines()


def test_a_round_from_the_command_line_offers_the_waiting_order(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    town.ping(0)
    placed = town.ok(town.order(), 201)
    ready = dt.datetime.fromisoformat(placed["ready_at"])
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", town.world.db.url)
    monkeypatch.setenv("ENTREPOT_CLOCK", (ready - dt.timedelta(minutes=2)).isoformat())
    get_settings.cache_clear()
    try:
        first, second = run("local", "dispatch-round"), run("local", "dispatch-round")
    finally:
        get_settings.cache_clear()
    assert first == (0, ["dispatch-round trips_offered=1 orders_assigned=1 released=0 waiting=0"]), first
    assert second == (0, ["dispatch-round trips_offered=0 orders_assigned=0 released=0 waiting=0"]), second
    assert town.ok(town.get(f"/local/orders/{placed['id']}", "buyer_a"))["state"] == "assigned"
