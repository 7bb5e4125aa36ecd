"""The city's roads as JSON for the local services' maps (web/local_map.py): for any signed-in user, with
the extract's attribution; a visitor not signed in is sent to sign in."""

from __future__ import annotations

import pytest

from tests.api.local_on_demand import shipped_city
from tests.web.conftest import console_as
from tests.world import World

__all__ = ["shipped_city"]  # fixture


@pytest.mark.parametrize("who", ["ops", "seller-a", "buyer-a", "courier"])
def test_a_signed_in_user_gets_the_roads(
    world: World, people: dict[str, str], shipped_city: None, who: str
) -> None:
    got = console_as(world, who).get("/local/roads.json")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    body = got.json()
    assert body["attribution"] == "© OpenStreetMap contributors, ODbL"
    assert len(body["lines"]) > 100


def test_a_visitor_not_signed_in_is_sent_to_sign_in(world: World, shipped_city: None) -> None:
    got = world.client().get("/local/roads.json", follow_redirects=False)
    assert got.status_code == 303
    assert got.headers["location"].startswith("/sign-in")
