"""Reconciliation on both databases: payments whose webhook never came are settled from the provider's
answer (paid; declined and their stock released), before their reservation runs out and at expiry, and
an order is never cancelled for non-payment while its payment may have succeeded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from entrepot.bootstrap import reconcile_once, sweep_once
from entrepot.kernel.errors import Conflict
from entrepot.ordering import api as ordering_api
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.models import ProviderLedgerEntry
from entrepot.ordering.payments import (
    Backoff,
    PaymentProvider,
    PaymentStatus,
    SimulatedProvider,
    WebhookDelivery,
)
from entrepot.ordering.provider_ledger import TableLedger
from tests.api.helpers import API, basket, get_order, new_key, stock
from tests.conftest import intercept_webhooks
from tests.world import World

TTL = 60  # seconds; the sweeper's round is 5 s, so reconciliation asks from 10 s before expiry


@pytest.fixture
def lost(monkeypatch: pytest.MonkeyPatch) -> list[WebhookDelivery]:
    """Every webhook is lost on its way, as when the server that was to receive it died."""
    return intercept_webhooks(monkeypatch, acknowledged=False)


def _client(world: World) -> tuple[TestClient, OrderingContext]:
    client = world.client(reservation_ttl_seconds=TTL)
    ctx: OrderingContext = client.app.state.ctx  # type: ignore[attr-defined]
    return client, ctx


def _place_paying(client: TestClient, world: World, method: str, quantity: int = 2) -> dict[str, Any]:
    body = {**basket(world, ("seller_a_red", quantity)), "payment_method": method}
    headers = {**world.auth("buyer_a"), "Idempotency-Key": new_key()}
    response = client.post(f"{API}/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    assert [p["status"] for p in order["payments"]] == ["pending"]
    return order


def _state(client: TestClient, world: World, order_id: str) -> tuple[str, str | None, list[str]]:
    order = get_order(client, world, order_id)
    return order["status"], order["cancel_reason"], [p["status"] for p in order["payments"]]


def test_nothing_is_asked_while_the_webhook_may_still_come(world: World, lost: list[Any]) -> None:
    client, ctx = _client(world)
    order = _place_paying(client, world, "card")
    world.clock.advance(seconds=20)  # neither waited 30 s nor 10 s from expiry
    assert reconcile_once(ctx).asked == 0
    assert _state(client, world, order["id"]) == ("placed", None, ["pending"])


def test_payments_are_settled_before_their_reservation_runs_out(world: World, lost: list[Any]) -> None:
    client, ctx = _client(world)
    paid = _place_paying(client, world, "card")
    declined = _place_paying(client, world, "decline_insufficient_funds", quantity=3)
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 5)
    world.clock.advance(seconds=TTL - 9)
    reconciled = reconcile_once(ctx)
    assert (reconciled.asked, reconciled.outcomes, reconciled.left) == (2, {"paid": 1, "declined": 1}, 0)
    assert _state(client, world, paid["id"]) == ("paid", None, ["succeeded"])
    reason = "payment_declined:insufficient_funds"
    assert _state(client, world, declined["id"]) == ("cancelled", reason, ["failed"])
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)  # 2 sold, 3 released
    world.clock.advance(seconds=TTL)
    assert sweep_once(ctx) == 0
    assert reconcile_once(ctx).asked == 0


def test_a_payment_pending_long_is_asked_about_before_expiry_nears(world: World, lost: list[Any]) -> None:
    client = world.client(reservation_ttl_seconds=900)
    order = _place_paying(client, world, "card")
    world.clock.advance(seconds=31)
    assert reconcile_once(client.app.state.ctx).outcomes == {"paid": 1}  # type: ignore[attr-defined]
    assert _state(client, world, order["id"])[0] == "paid"


def test_expiry_reconciles_first_and_cancels_only_the_unpaid(world: World, lost: list[Any]) -> None:
    client, ctx = _client(world)
    paying = _place_paying(client, world, "card")
    unpaid = client.post(
        f"{API}/orders",
        json=basket(world, ("seller_a_red", 1)),
        headers={**world.auth("buyer_a"), "Idempotency-Key": new_key()},
    ).json()
    world.clock.advance(seconds=TTL + 1)  # no round ran before expiry: the sweep itself must ask
    assert sweep_once(ctx) == 1
    assert _state(client, world, paying["id"]) == ("paid", None, ["succeeded"])
    assert _state(client, world, unpaid["id"]) == ("cancelled", "reservation_expired", [])
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)


class Unreachable:
    """A provider that takes payments but cannot be asked about them (its API is down)."""

    def __init__(self, real: PaymentProvider) -> None:
        self.name = real.name
        self.authorize = real.authorize
        self.deliver = real.deliver

    def status(self, payment_ref: str) -> PaymentStatus:
        raise ConnectionError("the provider does not answer")


class Undecided(Unreachable):
    def status(self, payment_ref: str) -> PaymentStatus:
        return PaymentStatus("pending")


@pytest.mark.parametrize("provider", [Unreachable, Undecided])
def test_an_order_whose_payment_cannot_be_known_is_left_for_the_next_round(
    world: World, lost: list[Any], provider: type[Unreachable]
) -> None:
    client, ctx = _client(world)
    order = _place_paying(client, world, "card")
    real = ctx.payments
    ctx.payments = provider(real)
    world.clock.advance(seconds=TTL + 1)
    assert reconcile_once(ctx).left == 1
    assert sweep_once(ctx) == 0
    assert _state(client, world, order["id"]) == ("placed", None, ["pending"])
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 2)  # still held for the order
    ctx.payments = real  # the provider answers again
    world.clock.advance(seconds=5)
    assert sweep_once(ctx) == 0
    assert _state(client, world, order["id"]) == ("paid", None, ["succeeded"])
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)


def test_a_payment_the_provider_never_took_fails_once_overdue(world: World, lost: list[Any]) -> None:
    client, ctx = _client(world)
    order = _place_paying(client, world, "card")
    with world.db.transaction() as s:  # as for a payment taken before the provider kept a ledger
        s.execute(delete(ProviderLedgerEntry))
    world.clock.advance(seconds=TTL - 5)
    assert reconcile_once(ctx).left == 1  # unknown, but not overdue: the webhook may yet come
    assert _state(client, world, order["id"]) == ("placed", None, ["pending"])
    world.clock.advance(seconds=6)
    assert sweep_once(ctx) == 0  # cancelled by the declined payment, not for expiry
    detail = get_order(client, world, order["id"])
    assert (detail["status"], detail["cancel_reason"]) == (
        "cancelled",
        "payment_declined:unknown_to_provider",
    )
    assert [(p["status"], p["decline_reason"]) for p in detail["payments"]] == [
        ("failed", "unknown_to_provider")
    ]
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (10, 0)


def test_the_webhook_arriving_after_reconciliation_is_a_duplicate(world: World, lost: list[Any]) -> None:
    client, ctx = _client(world)
    order = _place_paying(client, world, "card")
    world.clock.advance(seconds=TTL - 9)
    assert reconcile_once(ctx).outcomes == {"paid": 1}
    late = ordering_api.receive(ctx, lost[0].body, lost[0].signature)
    assert late == "duplicate"
    assert _state(client, world, order["id"]) == ("paid", None, ["succeeded"])
    assert stock(client, world, "seller_a_red")["sg-tuas"] == (8, 0)


def test_the_answer_survives_the_process_that_took_the_payment(world: World, lost: list[Any]) -> None:
    client, ctx = _client(world)
    paid = _place_paying(client, world, "card")
    declined = _place_paying(client, world, "decline_expired_card")
    # Another server: its own provider object (with another decline rate) and its own connections.
    other = world.context(reservation_ttl_seconds=TTL, payment_decline_rate=1.0)
    assert other.payments is not ctx.payments
    assert other.payments.status(paid["payments"][0]["id"]).state == "succeeded"
    assert other.payments.status(declined["payments"][0]["id"]) == PaymentStatus(
        "declined", "expired_card", declined["total_minor"], "SGD", declined["id"]
    )
    world.clock.advance(seconds=TTL + 1)
    assert sweep_once(other) == 0
    assert _state(client, world, paid["id"]) == ("paid", None, ["succeeded"])
    assert _state(client, world, declined["id"])[:2] == ("cancelled", "payment_declined:expired_card")


def test_the_in_process_webhook_is_posted_again_until_acknowledged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ctx = _client(world)
    pauses: list[float] = []

    async def no_wait(seconds: float) -> None:
        pauses.append(seconds)

    settings = ctx.settings
    ctx.payments = SimulatedProvider(
        settings.webhook_secret, 0.0, [], ledger=TableLedger(world.db), backoff=Backoff(0.5), sleep=no_wait
    )
    settle = ordering_api.settle_verified
    failures = [Conflict("the order changed meanwhile"), RuntimeError("db")]

    async def failing_twice(*args: Any) -> str:
        if failures:
            raise failures.pop(0)
        return await settle(*args)

    monkeypatch.setattr(ordering_api, "settle_verified", failing_twice)
    order = _place_paying(client, world, "card")  # the webhook is delivered before the client hears
    assert pauses == [0.5, 1.0]
    assert _state(client, world, order["id"]) == ("paid", None, ["succeeded"])


def test_entrepot_sweep_reconciles_then_expires(
    world: World, lost: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from entrepot.cli.main import app
    from entrepot.platform.settings import get_settings

    client, _ = _client(world)
    order = _place_paying(client, world, "card")
    when = world.clock() + dt.timedelta(seconds=TTL - 9)
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    monkeypatch.setenv("ENTREPOT_CLOCK", when.isoformat())
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["sweep"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 pending payments asked about (1 paid; 0 left)" in result.stdout
    assert "0 orders expired" in result.stdout
    assert _state(client, world, order["id"]) == ("paid", None, ["succeeded"])
