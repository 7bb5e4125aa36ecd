"""The organisation over HTTP: units whose parent must be of the right kind, effective-dated moves that
keep history, the tree on a date, markets with validated settings, and FX conversion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem, collect, field_errors
from tests.world import World


def _unit(
    client: TestClient, world: World, kind: str, code: str, parent: str | None, valid_from: str = "2020-01-01"
) -> Any:
    body = {"kind": kind, "code": code, "name": code.title(), "parent": parent, "valid_from": valid_from}
    return client.post(f"{API}/org/units", json=body, headers=world.auth("operator"))


def _tree(client: TestClient, world: World, on: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/org/tree", params={"on": on}, headers=world.auth("buyer_a"))
    assert response.status_code == 200, response.text
    tree: list[dict[str, Any]] = response.json()
    return tree


def _path_to(tree: list[dict[str, Any]], code: str) -> list[str] | None:
    """Codes from the root down to `code`, or None when it is not in the tree."""
    for node in tree:
        if node["code"] == code:
            return [code]
        below = _path_to(node["children"], code)
        if below is not None:
            return [node["code"], *below]
    return None


def _codes(client: TestClient, world: World) -> list[str]:
    return [u["code"] for u in collect(client, world, "/org/units")]


# --- units -----------------------------------------------------------------------------------------


def test_create_a_business_unit_under_a_division(world: World) -> None:
    client = world.client()
    response = _unit(client, world, "business_unit", "freshippo", "china-commerce-division", "2021-10-01")
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "business_unit"
    assert response.json()["code"] == "freshippo"
    assert response.json()["id"].startswith("org_")
    assert _path_to(_tree(client, world, "2021-10-01"), "freshippo") == [
        "commerce-group",
        "china-commerce",
        "china-commerce-division",
        "freshippo",
    ]
    assert _path_to(_tree(client, world, "2020-05-31"), "freshippo") is None
    events = collect(client, world, "/events", type="org.unit_created")
    assert events[-1]["payload"] == {"code": "freshippo", "kind": "business_unit"}


@pytest.mark.parametrize(
    ("kind", "parent"),
    [
        ("business_unit", "core-commerce"),  # a segment
        ("business_unit", "commerce-group"),  # the group
        ("business_unit", "taobao"),  # another business unit
        ("division", "commerce"),  # a division
        ("segment", "commerce"),
        ("business_unit", None),
        ("group", "commerce-group"),
    ],
)
def test_parent_of_the_wrong_kind_is_422(world: World, kind: str, parent: str | None) -> None:
    client = world.client()
    before = _codes(client, world)
    events = collect(client, world, "/events")
    problem = assert_problem(_unit(client, world, kind, "misplaced", parent), 422, "validation-failed")
    assert list(field_errors(problem)) == ["parent"]
    assert _codes(client, world) == before
    assert collect(client, world, "/events") == events


def test_unknown_parent_is_404(world: World) -> None:
    client = world.client()
    assert_problem(_unit(client, world, "business_unit", "orphan", "no-such-division"), 404, "not-found")
    assert "orphan" not in _codes(client, world)


def test_duplicate_unit_code_is_409(world: World) -> None:
    client = world.client()
    assert_problem(_unit(client, world, "business_unit", "taobao", "commerce"), 409, "duplicate")


@pytest.mark.parametrize("code", ["Upper", "a", "-dash-first", "with space", "x" * 64])
def test_bad_unit_code_is_422(world: World, code: str) -> None:
    client = world.client()
    problem = assert_problem(
        _unit(client, world, "business_unit", code, "commerce"), 422, "validation-failed"
    )
    assert list(field_errors(problem)) == ["code"]


def test_unknown_kind_is_422(world: World) -> None:
    client = world.client()
    problem = assert_problem(_unit(client, world, "department", "hr", "commerce"), 422, "validation-failed")
    assert list(field_errors(problem)) == ["kind"]


# --- moves -----------------------------------------------------------------------------------------


def test_move_keeps_history_and_the_tree_follows_the_date(world: World) -> None:
    client = world.client()
    division = "digital-media-entertainment-division"
    assert _unit(client, world, "business_unit", "youku", division, "2020-01-01").status_code == 201
    moved = client.post(
        f"{API}/org/units/youku/moves",
        json={"parent": "china-commerce-division", "effective_from": "2024-07-01"},
        headers=world.auth("operator"),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["code"] == "youku"

    before = _path_to(_tree(client, world, "2024-06-30"), "youku")
    after = _path_to(_tree(client, world, "2024-07-01"), "youku")
    assert before == ["commerce-group", "digital-media-entertainment", division, "youku"]
    assert after == ["commerce-group", "china-commerce", "china-commerce-division", "youku"]

    history = client.get(f"{API}/org/units/youku/history", headers=world.auth("seller_a"))
    assert history.status_code == 200, history.text
    assert history.json() == [
        {"parent": division, "valid_from": "2020-01-01", "valid_to": "2024-07-01"},
        {"parent": "china-commerce-division", "valid_from": "2024-07-01", "valid_to": None},
    ]
    event = collect(client, world, "/events", type="org.unit_moved")[-1]
    assert event["payload"] == {
        "code": "youku",
        "to": "china-commerce-division",
        "effective_from": "2024-07-01",
    }


def test_seeded_reorganisation_shows_in_history(world: World) -> None:
    client = world.client()
    history = client.get(f"{API}/org/units/lazada/history", headers=world.auth("operator")).json()
    assert history == [
        {"parent": "commerce", "valid_from": "2019-04-01", "valid_to": "2021-10-01"},
        {"parent": "international-commerce-division", "valid_from": "2021-10-01", "valid_to": None},
    ]
    assert _path_to(_tree(client, world, "2021-09-30"), "lazada") == [
        "commerce-group",
        "core-commerce",
        "commerce",
        "lazada",
    ]
    assert _path_to(_tree(client, world, "2021-10-01"), "lazada") == [
        "commerce-group",
        "international-commerce",
        "international-commerce-division",
        "lazada",
    ]


def test_tree_defaults_to_the_clock_date(world: World) -> None:
    client = world.client()
    response = client.get(f"{API}/org/tree", headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    assert response.json() == _tree(client, world, "2025-11-11")


def test_move_to_a_parent_of_the_wrong_kind_is_422(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/org/units/taobao/moves",
        json={"parent": "china-commerce", "effective_from": "2024-01-01"},
        headers=world.auth("operator"),
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["parent"]
    assert len(client.get(f"{API}/org/units/taobao/history", headers=world.auth("operator")).json()) == 2


def test_move_not_after_the_current_membership_is_422(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/org/units/taobao/moves",
        json={"parent": "commerce", "effective_from": "2021-10-01"},
        headers=world.auth("operator"),
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["effective_from"]


def test_move_to_the_current_parent_is_409(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/org/units/taobao/moves",
        json={"parent": "china-commerce-division", "effective_from": "2024-01-01"},
        headers=world.auth("operator"),
    )
    assert_problem(response, 409, "no-change")


def test_move_of_an_unknown_unit_is_404(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/org/units/nope/moves",
        json={"parent": "commerce", "effective_from": "2024-01-01"},
        headers=world.auth("operator"),
    )
    assert_problem(response, 404, "not-found")
    assert_problem(
        client.get(f"{API}/org/units/nope/history", headers=world.auth("operator")), 404, "not-found"
    )


def test_only_operators_move_units(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/org/units/taobao/moves",
        json={"parent": "commerce", "effective_from": "2024-01-01"},
        headers=world.auth("seller_a"),
    )
    assert_problem(response, 403, "forbidden")
    assert len(client.get(f"{API}/org/units/taobao/history", headers=world.auth("operator")).json()) == 2


# --- markets ---------------------------------------------------------------------------------------


def _market(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "business_unit": "tmall",
        "country": "MY",
        "currency": "MYR",
        "locale": "ms_MY",
        "time_zone": "Asia/Kuala_Lumpur",
        "tax_rate": "0.06",
        "prices_include_tax": True,
        "shipping_domestic_minor": 300,
        "shipping_cross_border_minor": 900,
    }
    body.update(overrides)
    return body


def _market_codes(client: TestClient, world: World) -> list[str]:
    return sorted(m["code"] for m in collect(client, world, "/markets"))


def test_create_a_market(world: World) -> None:
    client = world.client()
    response = client.post(f"{API}/markets", json=_market(), headers=world.auth("operator"))
    assert response.status_code == 201, response.text
    market = response.json()
    assert market["code"] == "tmall-my"
    assert (market["business_unit"], market["currency"], market["time_zone"]) == (
        "tmall",
        "MYR",
        "Asia/Kuala_Lumpur",
    )
    assert Decimal(market["tax_rate"]) == Decimal("0.06")
    fetched = client.get(f"{API}/markets/tmall-my", headers=world.auth("buyer_a"))
    assert fetched.status_code == 200, fetched.text
    # the created and the fetched market agree (tax_rate compared as a number: "0.06" vs "0.0600")
    assert {**fetched.json(), "tax_rate": None} == {**market, "tax_rate": None}
    assert Decimal(fetched.json()["tax_rate"]) == Decimal("0.06")
    assert _market_codes(client, world) == ["lazada-sg", "taobao-cn", "tmall-my"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, {"time_zone"}),
        ({"currency": "XYZ"}, {"currency"}),
        ({"currency": "myr"}, {"currency"}),
        ({"currency": "XYZ", "time_zone": "Asia/Nowhere"}, {"currency", "time_zone"}),
        ({"country": "ZZ"}, {"country"}),
        ({"locale": "xx_YY"}, {"locale"}),
        ({"tax_rate": "1.5"}, {"tax_rate"}),
        ({"tax_rate": "-0.1"}, {"tax_rate"}),
    ],
)
def test_bad_market_settings_are_422_with_field_errors(
    world: World, overrides: dict[str, Any], fields: set[str]
) -> None:
    client = world.client()
    response = client.post(f"{API}/markets", json=_market(**overrides), headers=world.auth("operator"))
    problem = assert_problem(response, 422, "validation-failed")
    assert set(field_errors(problem)) == fields
    assert _market_codes(client, world) == ["lazada-sg", "taobao-cn"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "RINGGIT"}, "currency"),
        ({"country": "MYS"}, "country"),
        ({"shipping_domestic_minor": -1}, "shipping_domestic_minor"),
        ({"shipping_cross_border_minor": 9.5}, "shipping_cross_border_minor"),
        ({"surcharge": 1}, "surcharge"),
    ],
)
def test_malformed_market_fields_are_422(world: World, overrides: dict[str, Any], field: str) -> None:
    client = world.client()
    response = client.post(f"{API}/markets", json=_market(**overrides), headers=world.auth("operator"))
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == [field]


def test_market_must_belong_to_a_business_unit(world: World) -> None:
    client = world.client()
    response = client.post(
        f"{API}/markets", json=_market(business_unit="commerce"), headers=world.auth("operator")
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert list(field_errors(problem)) == ["business_unit"]


def test_duplicate_market_is_409(world: World) -> None:
    client = world.client()
    body = _market(
        business_unit="lazada",
        country="SG",
        currency="SGD",
        locale="en_SG",
        time_zone="Asia/Singapore",
        tax_rate="0.09",
    )
    assert_problem(client.post(f"{API}/markets", json=body, headers=world.auth("operator")), 409, "duplicate")
    sg = client.get(f"{API}/markets/lazada-sg", headers=world.auth("operator")).json()
    assert (sg["shipping_domestic_minor"], sg["shipping_cross_border_minor"]) == (199, 399)


def test_unknown_market_is_404(world: World) -> None:
    client = world.client()
    assert_problem(client.get(f"{API}/markets/shopee-sg", headers=world.auth("operator")), 404, "not-found")


def test_markets_filter_by_country(world: World) -> None:
    client = world.client()
    sg = collect(client, world, "/markets", who="buyer_a", country="sg")
    assert [m["code"] for m in sg] == ["lazada-sg"]


# --- FX ----------------------------------------------------------------------------------------------


def _convert(client: TestClient, world: World, amount: int, source: str, to: str, on: str) -> Any:
    params = {"amount_minor": amount, "from": source, "to": to, "on": on}
    return client.get(f"{API}/fx/convert", params=params, headers=world.auth("buyer_a"))


def test_convert_sgd_to_usd_on_11_11(world: World) -> None:
    client = world.client()
    response = _convert(client, world, 10_000, "SGD", "USD", "2025-11-11")
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["currency"], result["rate_date"], result["source"]) == ("USD", "2025-11-11", "ECB/ECB")
    rate = Decimal(result["rate"])
    assert Decimal("0.6") < rate < Decimal("0.9")
    assert abs(result["amount_minor"] - int(rate * 10_000)) <= 1
    # the rate on the order placed the same day is the same rate
    back = _convert(client, world, result["amount_minor"], "USD", "SGD", "2025-11-11").json()
    assert abs(back["amount_minor"] - 10_000) <= 1


def test_convert_on_a_sunday_uses_fridays_rate(world: World) -> None:
    client = world.client()
    result = _convert(client, world, 10_000, "SGD", "USD", "2025-11-16").json()
    assert result["rate_date"] == "2025-11-14"


def test_convert_between_minor_units_of_different_size(world: World) -> None:
    """JPY has no minor unit: 100.00 USD is about 15,000 yen, not 1,500,000."""
    client = world.client()
    result = _convert(client, world, 10_000, "USD", "JPY", "2025-11-11").json()
    assert 12_000 < result["amount_minor"] < 18_000


def test_vnd_without_operator_rates_is_422(world: World) -> None:
    client = world.client()
    problem = assert_problem(
        _convert(client, world, 1_000_000, "VND", "USD", "2025-11-11"), 422, "validation-failed"
    )
    assert "VND" in problem["detail"]
    problem = assert_problem(
        _convert(client, world, 1_000, "USD", "VND", "2025-11-11"), 422, "validation-failed"
    )
    assert "VND" in problem["detail"]


def test_vnd_with_an_operator_rate_converts(world: World) -> None:
    client = world.client()
    stored = client.put(
        f"{API}/fx/manual-rates",
        json={"currency": "VND", "on": "2025-11-10", "per_usd": "26300", "note": "bank quote"},
        headers=world.auth("operator"),
    )
    assert stored.status_code == 204, stored.text
    result = _convert(client, world, 2_630_000, "VND", "USD", "2025-11-11").json()
    assert result["amount_minor"] == 10_000  # 2,630,000 dong at 26,300 per dollar: 100.00 USD
    assert result["rate_date"] == "2025-11-10"


@pytest.mark.parametrize(
    "params",
    [
        {"amount_minor": 100, "from": "SGD", "to": "USD"},  # no date
        {"amount_minor": -1, "from": "SGD", "to": "USD", "on": "2025-11-11"},
        {"amount_minor": 100, "from": "SGDX", "to": "USD", "on": "2025-11-11"},
        {"amount_minor": 100, "from": "SGD", "to": "USD", "on": "11/11/2025"},
    ],
)
def test_malformed_conversion_is_422(world: World, params: dict[str, Any]) -> None:
    response = world.client().get(f"{API}/fx/convert", params=params, headers=world.auth("buyer_a"))
    assert_problem(response, 422, "validation-failed")


def test_unknown_currency_conversion_is_422(world: World) -> None:
    client = world.client()
    assert_problem(_convert(client, world, 100, "SGD", "XYZ", "2025-11-11"), 422, "validation-failed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"on": "2025-11-10", "per_usd": "1e300"}, "per_usd"),
        ({"on": "2025-11-10", "per_usd": "1000000001"}, "per_usd"),
        ({"on": "2025-11-10", "per_usd": "26300.123456789"}, "per_usd"),
        ({"on": "0001-01-01", "per_usd": "26300"}, "on"),
        ({"on": "2101-01-01", "per_usd": "26300"}, "on"),
    ],
)
def test_an_absurd_operator_rate_is_422_and_not_stored(
    world: World, body: dict[str, Any], field: str
) -> None:
    client = world.client()
    response = client.put(
        f"{API}/fx/manual-rates", json={"currency": "VND", **body}, headers=world.auth("operator")
    )
    assert field in field_errors(assert_problem(response, 422, "validation-failed"))
    # nothing stored: VND still has no rate to convert with
    assert_problem(_convert(client, world, 100, "VND", "USD", "2025-11-11"), 422, "validation-failed")
