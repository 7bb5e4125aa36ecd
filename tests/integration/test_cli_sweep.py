"""`entrepot sweep` runs the API's sweep round with no API running: campaigns' holds that ran out (an
expired flash reservation, a group-buy team past its deadline) are released by the command alone."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app as cli
from entrepot.platform.settings import get_settings
from tests.api.helpers import API
from tests.api.test_flash_api import create_sale, on_hand, sale_state, take
from tests.api.test_group_buy_api import campaign, open_team
from tests.world import World


def _sweep(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    """`entrepot sweep` on the world's database at the world's time, as a scheduled job runs it."""
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    monkeypatch.setenv("ENTREPOT_CLOCK", world.clock().isoformat())
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["sweep"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.stdout


def test_entrepot_sweep_releases_expired_flash_reservations_and_overdue_teams(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = world.client()  # to set things up over HTTP; its lifespan (and sweeper) never starts
    sale = create_sale(client, world, reservation_ttl_seconds=60)["id"]
    group_buy = campaign(client, world, team_window_seconds=600)
    world.clock.advance(minutes=2)
    taken = take(client, world, sale, "buyer_a", 2, pay=None)  # reserved, never paid
    assert taken.status_code == 201, taken.text
    team = open_team(client, world, group_buy, "buyer_b")
    assert team.status_code == 201, team.text
    held = on_hand(world)

    world.clock.advance(seconds=30)  # nothing has run out yet
    assert "0 flash orders, group teams or campaigns settled" in _sweep(world, monkeypatch)
    assert sale_state(client, world, sale)["reserved"] == 2

    world.clock.advance(minutes=10)  # the reservation and the team's window have both run out
    out = _sweep(world, monkeypatch)
    assert "2 flash orders, group teams or campaigns settled" in out
    assert "0 orders expired" in out
    order = client.get(f"{API}/flash-orders/{taken.json()['id']}", headers=world.auth("buyer_a")).json()
    assert order["status"] == "expired"
    state = sale_state(client, world, sale)
    assert (state["reserved"], state["available"]) == (0, 3)  # the units are back on sale
    assert on_hand(world) == held  # still set aside for the sale, which has not ended
    failed = client.get(f"{API}/group-teams/{team.json()['id']}", headers=world.auth("buyer_b")).json()
    assert (failed["status"], failed["your_payment"]) == ("failed", "released")
    buy = client.get(f"{API}/group-buys/{group_buy}", headers=world.auth("buyer_a")).json()
    assert buy["held"] == 0
