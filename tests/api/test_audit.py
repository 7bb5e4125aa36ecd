"""The audit trail (platform.audit): a change an operator or a seller makes is recorded with who, when, what,
before and after, in the change's own transaction; operators read it at GET /audit (filters, cursor
pages, problem+json on bad input), nobody else."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from entrepot.catalog import service as catalog
from entrepot.identity import service as identity
from entrepot.platform.audit import Actor, AuditEntry, as_actor
from tests.api.helpers import API, PROBLEM, paid_order
from tests.api.test_catalog_import_stock import HEADER as CSV_HEADER
from tests.api.test_catalog_import_stock import ROW as CSV_ROW
from tests.world import World


def _audit(world: World, **params: object) -> list[dict[str, object]]:
    answer = world.client().get(f"{API}/audit", params=params, headers=world.auth("operator"))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


def _key_of(world: World, who: str) -> str:
    key: str = world.client().get(f"{API}/me", headers=world.auth(who)).json()["key"]
    return key


def _entries(world: World) -> int:
    with world.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_a_price_set_by_an_operator_is_recorded_with_who_when_before_and_after(world: World) -> None:
    client, sku = world.client(), world.ids["seller_a_red"]
    for amount in (2500, 2700):
        answer = client.put(
            f"{API}/skus/{sku}/prices/lazada-sg",
            json={"amount_minor": amount, "currency": "SGD"},
            headers=world.auth("operator"),
        )
        assert answer.status_code == 200, answer.text
    latest, first = _audit(world, action="price.set", subject=f"{sku}@lazada-sg")[:2]
    assert latest["actor"] == {"role": "operator", "key": _key_of(world, "operator"), "seller": None}
    assert latest["before"] == {"amount_minor": 2500, "currency": "SGD"}
    assert latest["after"] == {"amount_minor": 2700, "currency": "SGD"}
    assert first["after"] == {"amount_minor": 2500, "currency": "SGD"}
    assert latest["at"].startswith(world.clock().date().isoformat())  # the app's clock, not the machine's
    assert latest["request_id"]


def test_a_sellers_stock_change_names_the_seller(world: World) -> None:
    sku = world.ids["seller_a_red"]
    answer = world.client().put(
        f"{API}/skus/{sku}/stock/sg-tuas", json={"on_hand": 41}, headers=world.auth("seller_a")
    )
    assert answer.status_code == 200, answer.text
    [entry] = _audit(world, action="stock.set", role="seller")
    assert entry["actor"] == {
        "role": "seller",
        "key": _key_of(world, "seller_a"),
        "seller": world.ids["seller_a"],
    }
    assert entry["subject"] == f"{sku}@sg-tuas" and entry["after"] == {"on_hand": 41}


def test_a_new_key_is_recorded_without_its_secret(world: World) -> None:
    created = world.client().post(
        f"{API}/api-keys", json={"role": "operator", "name": "night shift"}, headers=world.auth("operator")
    )
    assert created.status_code == 201, created.text
    [entry] = _audit(world, action="api_key.", subject=created.json()["id"])
    assert entry["action"] == "api_key.created" and entry["after"]["name"] == "night shift"  # type: ignore[index]
    assert created.json()["key"] not in str(entry)


def test_a_refused_change_leaves_no_entry(world: World) -> None:
    before = _entries(world)
    refused = world.client().put(
        f"{API}/skus/{world.ids['seller_a_red']}/prices/lazada-sg",
        json={"amount_minor": 2500, "currency": "CNY"},
        headers=world.auth("operator"),
    )
    assert refused.status_code == 422
    assert _entries(world) == before


def test_the_entry_is_rolled_back_with_its_change(world: World) -> None:
    """Recorded in the change's transaction: a failure after the change is recorded takes both away."""
    before = _entries(world)
    operator = as_actor(Actor("operator", "key_test"))
    with pytest.raises(RuntimeError), operator, world.db.transaction() as s:
        catalog.set_price(s, catalog.get_sku(s, world.ids["seller_a_red"]), "lazada-sg", 999, "SGD")
        s.flush()
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
        raise RuntimeError("the change fails after its entry was written")
    assert _entries(world) == before


def test_pages_follow_the_cursor_newest_first(world: World) -> None:
    client, sku = world.client(), world.ids["seller_a_red"]
    for amount in (1100, 1200, 1300):
        client.put(
            f"{API}/skus/{sku}/prices/lazada-sg",
            json={"amount_minor": amount, "currency": "SGD"},
            headers=world.auth("operator"),
        )
    seen, cursor = [], None
    while True:
        params = {
            "action": "price.set",
            "role": "operator",
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        page = client.get(f"{API}/audit", params=params, headers=world.auth("operator")).json()
        seen += [e["after"]["amount_minor"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1300, 1200, 1100]


@pytest.mark.parametrize("who", ["seller_a", "buyer_a", "carrier"])
def test_only_operators_read_the_trail(world: World, who: str) -> None:
    headers = world.auth(who) if who != "carrier" else {"Authorization": f"Bearer {_carrier_key(world)}"}
    answer = world.client().get(f"{API}/audit", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["type"] == PROBLEM + "forbidden"


def _carrier_key(world: World) -> str:
    """The world has no carrier key: one for a carrier the check is told of."""
    with world.db.transaction() as s:
        _, key = identity.create_api_key(
            s, "carrier", "scans", world.clock(), carrier="DHL", carriers=lambda _: {"DHL"}
        )
    return key


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2025-11-12T00:00:00Z", "until": "2025-11-11T00:00:00Z"},
        {"since": "2025-11-12T00:00:00"},  # no time zone
        {"role": "admin"},
        {"cursor": "not-a-cursor"},
    ],
)
def test_bad_filters_are_problems(world: World, params: dict[str, str]) -> None:
    answer = world.client().get(f"{API}/audit", params=params, headers=world.auth("operator"))
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_refund_by_a_seller_records_the_refunded_total(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 1))
    refund = {"amount_minor": 100, "reason": "damaged box"}
    answer = client.post(f"{API}/orders/{order['id']}/refunds", json=refund, headers=world.auth("seller_a"))
    assert answer.status_code == 201, answer.text
    [entry] = _audit(world, action="order.refunded", subject=order["id"])
    assert entry["actor"]["role"] == "seller"  # type: ignore[index]
    assert entry["before"]["refunded_minor"] == 0  # type: ignore[index]
    assert entry["after"]["refunded_minor"] == 100 and entry["after"]["reason"] == "damaged box"  # type: ignore[index]


def test_webhook_subscriptions_and_targets_are_recorded_without_secrets(world: World) -> None:
    client, ops = world.client(), world.auth("operator")
    sub = client.post(
        f"{API}/webhooks/subscriptions",
        json={"url": "https://hooks.example.com/entrepot", "event_types": ["order.paid"]},
        headers=ops,
    ).json()
    assert client.post(f"{API}/webhooks/subscriptions/{sub['id']}/disable", headers=ops).status_code == 200
    rotated = client.post(f"{API}/webhooks/subscriptions/{sub['id']}/rotate", headers=ops).json()
    assert client.delete(f"{API}/webhooks/subscriptions/{sub['id']}", headers=ops).status_code == 204
    target = client.post(
        f"{API}/emissions/targets", json={"name": "halve intensity", "metric": "g_per_tkm"}, headers=ops
    )
    assert target.status_code == 201, target.text
    trail = _audit(world, action="webhook_subscription.", subject=sub["id"])
    assert [e["action"] for e in trail] == [
        "webhook_subscription.deleted",
        "webhook_subscription.rotated",
        "webhook_subscription.disabled",
        "webhook_subscription.created",
    ]
    assert trail[2]["before"] == {"status": "active"} and trail[2]["after"] == {"status": "disabled"}
    for secret in (sub["secret"], rotated["secret"]):
        assert secret not in str(trail)
    [made] = _audit(world, action="emissions_target.created")
    assert made["subject"] == target.json()["id"] and made["after"]["name"] == "halve intensity"  # type: ignore[index]


def test_the_trail_wants_a_key(world: World) -> None:
    answer = world.client().get(f"{API}/audit")
    assert answer.status_code == 401
    assert answer.json()["type"] == PROBLEM + "unauthenticated"


def test_a_catalog_import_is_one_entry_with_its_counts(world: World) -> None:
    answer = world.client().post(
        f"{API}/catalog/import",
        content=f"{CSV_HEADER},stock,warehouse\n{CSV_ROW},25,sg-tuas\n".encode(),
        headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    [entry] = _audit(world, action="catalog.imported")
    assert entry["subject"] == world.ids["seller_a"] and entry["actor"]["role"] == "seller"  # type: ignore[index]
    assert entry["after"]["imported"] == 1 and entry["after"]["refused"] == 0  # type: ignore[index]
    [stock] = _audit(world, action="stock.set", role="seller")  # the row's stock, through inventory
    assert stock["after"] == {"on_hand": 25}


def test_an_operators_fx_rate_correction_keeps_the_rate_it_replaced(world: World) -> None:
    client, ops = world.client(), world.auth("operator")
    for per_usd, note in (("26310.5", ""), ("26350", "corrected")):
        rate = {"currency": "VND", "on": "2025-11-11", "per_usd": per_usd, "note": note}
        assert client.put(f"{API}/fx/manual-rates", json=rate, headers=ops).status_code == 204
    latest = _audit(world, action="fx_manual_rate.set", subject="VND@2025-11-11")[0]
    before: dict[str, str] = latest["before"]  # type: ignore[assignment]
    # the stored rate as the database gives it back (PostgreSQL pads its numeric to 8 places)
    assert before["per_usd"].rstrip("0") == "26310.5" and before["note"] == ""
    assert latest["after"] == {"per_usd": "26350", "note": "corrected"}
