"""GET /fx/manual-rates reads what PUT /fx/manual-rates writes (operators only), in the same shape."""

from __future__ import annotations

from tests.api.helpers import API, assert_problem
from tests.world import World

RATES = [
    {"currency": "VND", "on": "2025-11-10", "per_usd": "26300", "note": "bank quote"},
    {"currency": "VND", "on": "2025-11-11", "per_usd": "26310.5", "note": ""},
    {"currency": "KHR", "on": "2025-11-10", "per_usd": "4010.12345678", "note": "cash desk"},
]


def test_the_rates_put_are_read_back_as_they_were_put(world: World) -> None:
    client, ops = world.client(), world.auth("operator")
    assert client.get(f"{API}/fx/manual-rates", headers=ops).json() == {"items": [], "next_cursor": None}
    for rate in RATES:
        assert client.put(f"{API}/fx/manual-rates", json=rate, headers=ops).status_code == 204
    corrected = {**RATES[0], "per_usd": "26350", "note": "corrected"}  # a PUT on the same day replaces
    assert client.put(f"{API}/fx/manual-rates", json=corrected, headers=ops).status_code == 204

    listed = client.get(f"{API}/fx/manual-rates", headers=ops)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"items": [corrected, *RATES[1:]], "next_cursor": None}
    vnd = client.get(f"{API}/fx/manual-rates", params={"currency": "VND"}, headers=ops).json()
    assert vnd["items"] == [corrected, RATES[1]]

    first = client.get(f"{API}/fx/manual-rates", params={"limit": 2}, headers=ops).json()
    assert first["items"] == [corrected, RATES[1]] and first["next_cursor"]
    rest = client.get(
        f"{API}/fx/manual-rates", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ops
    ).json()
    assert rest["items"] == [RATES[2]]


def test_only_operators_read_the_rates_and_a_bad_currency_is_422(world: World) -> None:
    client = world.client()
    for who in ("seller_a", "buyer_a"):
        assert_problem(client.get(f"{API}/fx/manual-rates", headers=world.auth(who)), 403, "forbidden")
    assert_problem(client.get(f"{API}/fx/manual-rates"), 401, "unauthenticated")
    bad = client.get(f"{API}/fx/manual-rates", params={"currency": "XYZ"}, headers=world.auth("operator"))
    assert_problem(bad, 422, "validation-failed")
