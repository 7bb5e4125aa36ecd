"""The happy path over HTTP: quote, place, pay, and the order is paid with its stock taken."""

from __future__ import annotations

import logging

import anyio.to_thread
import pytest

from tests.world import World


def test_quote_place_pay(world: World) -> None:
    client = world.client()
    basket = {"market": "lazada-sg", "lines": [{"sku": world.ids["seller_a_red"], "quantity": 2}]}
    quote = client.post("/api/v1/checkout/quote", json=basket, headers=world.auth("buyer_a"))
    assert quote.status_code == 200, quote.text
    body = quote.json()
    assert body["subtotal_minor"] == 3980
    assert body["shipping_minor"] == 199
    assert body["total_minor"] == 4179
    assert body["lines"][0]["warehouse"] == world.ids["sg-tuas"]
    placed = client.post(
        "/api/v1/orders", json=basket, headers={**world.auth("buyer_a"), "Idempotency-Key": "k-000001"}
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "placed"
    paid = client.post(
        f"/api/v1/orders/{order['id']}/pay", json={"method": "card"}, headers=world.auth("buyer_a")
    )
    assert paid.status_code == 202, paid.text
    final = client.get(f"/api/v1/orders/{order['id']}", headers=world.auth("buyer_a")).json()
    assert final["status"] == "paid"
    stock = client.get(
        f"/api/v1/skus/{world.ids['seller_a_red']}/stock", headers=world.auth("seller_a")
    ).json()
    tuas = next(s for s in stock if s["warehouse"] == "sg-tuas")
    assert (tuas["on_hand"], tuas["reserved"]) == (8, 0)


def test_the_api_warns_at_start_when_it_signs_webhooks_with_the_published_secret(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="entrepot"), world.client(run_relay=False):
        pass
    assert "ENTREPOT_WEBHOOK_SECRET is the published development value" in caplog.text
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="entrepot"),
        world.client(run_relay=False, webhook_secret="whsec_" + "s" * 32),
    ):
        pass
    assert "ENTREPOT_WEBHOOK_SECRET" not in caplog.text


async def _thread_tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


@pytest.mark.parametrize(("overrides", "threads"), [({"db_pool_size": 7}, 7), ({"api_threads": 3}, 3)])
def test_blocking_work_runs_on_as_many_threads_as_the_settings_say(
    world: World, overrides: dict[str, int], threads: int
) -> None:
    """By default as many threads as the connection pool's size (anyio's own default is 40)."""
    with world.client(run_relay=False, **overrides) as client:
        assert client.portal is not None
        assert client.portal.call(_thread_tokens) == threads
