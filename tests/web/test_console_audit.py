"""The console's audit trail (/audit): operators read the changes with who, what, before and after, as
GET /api/v1/audit lists them; a change made in the console is recorded as its user; a bad filter is shown
in place and lists nothing; sellers, buyers and carriers get 403."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import API
from tests.web.conftest import console_as, csrf_of
from tests.world import World


def test_operators_see_the_changes_the_api_lists(world: World, people: dict[str, str]) -> None:
    sku = world.ids["seller_a_red"]
    api = world.client()
    changed = api.put(f"{API}/skus/{sku}/stock/sg-tuas", json={"on_hand": 77}, headers=world.auth("seller_a"))
    assert changed.status_code == 200, changed.text
    listed = api.get(f"{API}/audit", params={"action": "stock."}, headers=world.auth("operator")).json()
    page = console_as(world, "ops").get("/audit", params={"action": "stock."})
    assert page.status_code == 200
    for entry in listed["items"]:
        assert entry["subject"] in page.text and entry["actor"]["key"] in page.text
    assert "{&#34;on_hand&#34;: 77}" in page.text or '{"on_hand": 77}' in page.text
    assert '<a href="/audit"' in page.text  # in the navigation


def _key_entries(world: World) -> list[dict[str, Any]]:
    trail = world.client().get(f"{API}/audit", params={"action": "api_key."}, headers=world.auth("operator"))
    items: list[dict[str, Any]] = trail.json()["items"]
    return items


def test_a_change_made_in_the_console_is_recorded_as_its_user(world: World, people: dict[str, str]) -> None:
    client = console_as(world, "ops")
    before = len(_key_entries(world))
    form = client.get("/api-keys/new")
    made = client.post(
        "/api-keys", data={"csrf": csrf_of(form), "role": "operator", "name": "made in the console"}
    )
    assert made.status_code in (200, 201, 303), made.text
    entries = _key_entries(world)
    assert len(entries) == before + 1
    assert entries[0]["actor"]["role"] == "operator" and entries[0]["actor"]["key"] != "system"


def test_a_bad_filter_is_shown_in_place(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "ops").get("/audit", params={"since": "yesterday", "role": "admin"})
    assert page.status_code == 422
    assert "a day as YYYY-MM-DD" in page.text and "one of operator" in page.text
    assert "No change matches." in page.text


@pytest.mark.parametrize("who", ["seller-a", "buyer-a", "courier"])
def test_only_operators_open_the_page(world: World, people: dict[str, str], who: str) -> None:
    assert console_as(world, who).get("/audit").status_code == 403
