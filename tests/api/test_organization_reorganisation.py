"""The organisation as the group reported it: the seven segments with their history, the units the
reorganisation of 1 Oct 2021 emptied closed on that day, planned moves corrected or withdrawn before
they take effect (audited), and published figures that name only units that exist."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem, collect, field_errors
from tests.world import World

SEVEN = {
    "china-commerce",
    "international-commerce",
    "local-consumer-services",
    "cainiao-segment",
    "cloud",
    "digital-media-entertainment",
    "innovation-initiatives",
}


def _segments_on(client: TestClient, world: World, on: str) -> set[str]:
    tree = client.get(f"{API}/org/tree", params={"on": on}, headers=world.auth("operator")).json()
    return {segment["code"] for group in tree for segment in group["children"]}


def _units(client: TestClient, world: World) -> dict[str, Any]:
    return {u["code"]: u for u in collect(client, world, "/org/units")}


def test_the_seven_segments_after_the_reorganisation_and_four_before(world: World) -> None:
    client = world.client()
    assert _segments_on(client, world, "2021-10-01") == SEVEN
    before = {"core-commerce", "cloud", "digital-media-entertainment", "innovation-initiatives"}
    assert _segments_on(client, world, "2021-09-30") == before


def test_the_emptied_units_are_closed_on_the_reorganisation_day(world: World) -> None:
    client = world.client()
    units = _units(client, world)
    for code in ("core-commerce", "commerce", "logistics", "local-services"):
        assert units[code]["closed_on"] == "2021-10-01", code
    assert units["china-commerce"]["closed_on"] is None
    history = client.get(f"{API}/org/units/core-commerce/history", headers=world.auth("operator")).json()
    assert history == [{"parent": "commerce-group", "valid_from": "2019-04-01", "valid_to": "2021-10-01"}]


def test_a_closed_unit_takes_no_new_member(world: World) -> None:
    client = world.client()
    body = {"kind": "business_unit", "code": "freshippo", "name": "Freshippo", "parent": "commerce"}
    response = client.post(
        f"{API}/org/units", json={**body, "valid_from": "2020-01-01"}, headers=world.auth("operator")
    )
    assert_problem(response, 409, "closed")
    moved = client.post(
        f"{API}/org/units/taobao/moves",
        json={"parent": "commerce", "effective_from": "2026-01-01"},
        headers=world.auth("operator"),
    )
    assert_problem(moved, 409, "closed")
    assert "freshippo" not in _units(client, world)


def test_a_unit_that_still_has_members_does_not_close(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/org/units/china-commerce-division/close",
        json={"on": "2026-01-01"},
        headers=world.auth("operator"),
    )
    problem = assert_problem(response, 409, "not-empty")
    assert "taobao" in problem["detail"]
    again = client.post(
        f"{API}/org/units/core-commerce/close", json={"on": "2022-01-01"}, headers=world.auth("operator")
    )
    assert_problem(again, 409, "closed")
    assert _units(client, world)["china-commerce-division"]["closed_on"] is None


def _plan(client: TestClient, world: World) -> None:
    """A move of Lazada to China commerce planned for 2026 (the world's clock is 2025-11-11)."""
    response = client.post(
        f"{API}/org/units/lazada/moves",
        json={"parent": "china-commerce-division", "effective_from": "2026-04-01"},
        headers=world.auth("operator"),
    )
    assert response.status_code == 200, response.text


def _history(client: TestClient, world: World, code: str = "lazada") -> list[dict[str, Any]]:
    response = client.get(f"{API}/org/units/{code}/history", headers=world.auth("operator"))
    history: list[dict[str, Any]] = response.json()
    return history


def test_a_planned_move_is_withdrawn_before_it_takes_effect(world: World) -> None:
    client = world.client()
    before = _history(client, world)
    _plan(client, world)
    response = client.post(
        f"{API}/org/units/lazada/moves/planned/withdraw",
        json={"reason": "typed the wrong unit"},
        headers=world.auth("operator"),
    )
    assert response.status_code == 200, response.text
    assert _history(client, world) == before
    audit = client.get(f"{API}/org/units/lazada/move-revisions", headers=world.auth("operator")).json()
    assert [(a["action"], a["planned_parent"], a["planned_from"], a["reason"]) for a in audit] == [
        ("withdrawn", "china-commerce-division", "2026-04-01", "typed the wrong unit")
    ]


def test_a_planned_move_is_corrected_to_another_day(world: World) -> None:
    client = world.client()
    _plan(client, world)
    response = client.put(
        f"{API}/org/units/lazada/moves/planned",
        json={
            "parent": "china-commerce-division",
            "effective_from": "2026-07-01",
            "reason": "a quarter later",
        },
        headers=world.auth("operator"),
    )
    assert response.status_code == 200, response.text
    assert _history(client, world)[-2:] == [
        {"parent": "international-commerce-division", "valid_from": "2021-10-01", "valid_to": "2026-07-01"},
        {"parent": "china-commerce-division", "valid_from": "2026-07-01", "valid_to": None},
    ]
    audit = client.get(f"{API}/org/units/lazada/move-revisions", headers=world.auth("operator")).json()
    assert [(a["action"], a["new_parent"], a["new_from"]) for a in audit] == [
        ("corrected", "china-commerce-division", "2026-07-01")
    ]


def test_a_move_in_effect_is_history_and_cannot_be_revised(world: World) -> None:
    client = world.client()
    before = _history(client, world)
    response = client.post(
        f"{API}/org/units/lazada/moves/planned/withdraw", json={"reason": "x"}, headers=world.auth("operator")
    )
    assert_problem(response, 409, "in-effect")
    assert _history(client, world) == before
    assert client.get(f"{API}/org/units/lazada/move-revisions", headers=world.auth("operator")).json() == []


def test_a_correction_into_the_past_is_422_and_changes_nothing(world: World) -> None:
    client = world.client()
    _plan(client, world)
    planned = _history(client, world)
    response = client.put(
        f"{API}/org/units/lazada/moves/planned",
        json={"parent": "china-commerce-division", "effective_from": "2025-11-11", "reason": "now"},
        headers=world.auth("operator"),
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["effective_from"]
    assert _history(client, world) == planned


def test_only_operators_revise_moves(world: World) -> None:
    client = world.client()
    _plan(client, world)
    response = client.post(
        f"{API}/org/units/lazada/moves/planned/withdraw", json={"reason": "x"}, headers=world.auth("seller_a")
    )
    assert_problem(response, 403, "forbidden")
    assert len(_history(client, world)) == 3


def test_published_figures_name_units_that_exist(world: World) -> None:
    client = world.client()
    csv = (
        "metric,scope,period,currency,value,source\n"
        "revenue,cloud,FY2022Q3,CNY,19539,ok\n"
        "revenue,cloud-computing,FY2022Q3,CNY,1,no such unit\n"
    )
    headers = {**world.auth("operator"), "content-type": "text/csv"}
    response = client.post(f"{API}/reports/external-actuals", content=csv, headers=headers)
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["line 3.scope"]
    assert client.get(f"{API}/reports/external-actuals", headers=world.auth("operator")).json() == []
