"""Signed webhooks (HMAC-SHA256 over "<timestamp>.<body>") and the simulated payment provider."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import Unauthenticated
from entrepot.ordering.payments import (
    Backoff,
    MemoryLedger,
    PaymentRequest,
    PaymentState,
    PaymentStatus,
    SimulatedProvider,
    sign,
    status_event,
    verify,
)

SECRET = "whsec_test"
BODY = b'{"type":"payment.succeeded","payment_id":"pay_1"}'
NOW = 1_763_000_000  # a fixed clock: no test depends on the real time
TOLERANCE = 300


def test_signature_format_and_value() -> None:
    header = sign(SECRET, BODY, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert len(expected) == 64


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=500), skew=st.integers(-300, 300))
def test_sign_verify_round_trip(secret: str, body: bytes, skew: int) -> None:
    header = sign(secret, body, NOW)
    assert verify(secret, body, header, NOW + skew, TOLERANCE) is None


def test_verify_tolerates_unknown_fields_and_order() -> None:
    digest = sign(SECRET, BODY, NOW).split("v1=", 1)[1]
    verify(SECRET, BODY, f"v0=legacy,v1={digest},t={NOW}", NOW, TOLERANCE)


@given(body=st.binary(min_size=1, max_size=200), data=st.data())
def test_any_tampered_body_is_rejected(body: bytes, data: st.DataObject) -> None:
    header = sign(SECRET, body, NOW)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(Unauthenticated, match="signature does not match"):
        verify(SECRET, tampered, header, NOW, TOLERANCE)


def test_tampered_body_is_rejected() -> None:
    header = sign(SECRET, BODY, NOW)
    with pytest.raises(Unauthenticated, match="signature does not match"):
        verify(SECRET, BODY.replace(b"succeeded", b"failed"), header, NOW, TOLERANCE)
    with pytest.raises(Unauthenticated, match="signature does not match"):
        verify(SECRET, BODY + b" ", header, NOW, TOLERANCE)


def test_wrong_secret_is_rejected() -> None:
    header = sign("another-secret", BODY, NOW)
    with pytest.raises(Unauthenticated, match="signature does not match") as info:
        verify(SECRET, BODY, header, NOW, TOLERANCE)
    assert info.value.status == 401
    assert info.value.code == "unauthenticated"


def test_changed_timestamp_is_rejected() -> None:
    # moving the timestamp (within the window) breaks the signature: it is part of the signed text
    digest = sign(SECRET, BODY, NOW).split("v1=", 1)[1]
    with pytest.raises(Unauthenticated, match="signature does not match"):
        verify(SECRET, BODY, f"t={NOW + 1},v1={digest}", NOW, TOLERANCE)


@pytest.mark.parametrize("offset", [TOLERANCE + 1, -(TOLERANCE + 1), 86_400, -86_400])
def test_stale_or_future_timestamp_is_rejected(offset: int) -> None:
    header = sign(SECRET, BODY, NOW)
    with pytest.raises(Unauthenticated, match="outside the tolerance window"):
        verify(SECRET, BODY, header, NOW + offset, TOLERANCE)


@pytest.mark.parametrize("offset", [TOLERANCE, -TOLERANCE])
def test_timestamp_at_the_edge_of_the_window_is_accepted(offset: int) -> None:
    verify(SECRET, BODY, sign(SECRET, BODY, NOW), NOW + offset, TOLERANCE)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_rejected(header: str | None) -> None:
    with pytest.raises(Unauthenticated, match="missing Entrepot-Signature header"):
        verify(SECRET, BODY, header, NOW, TOLERANCE)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=,v1=abc",
        f"t={NOW}",
        "v1=abc",
        f"t=yesterday,v1={'0' * 64}",
        f"t={NOW};v1={'0' * 64}",
        f"T={NOW},V1={'0' * 64}",
    ],
)
def test_malformed_header_is_rejected(header: str) -> None:
    with pytest.raises(Unauthenticated, match="malformed Entrepot-Signature header"):
        verify(SECRET, BODY, header, NOW, TOLERANCE)


@pytest.mark.parametrize("given_signature", ["", "0" * 64, "zz", "A" * 64])
def test_wrong_or_non_hex_signature_is_rejected(given_signature: str) -> None:
    with pytest.raises(Unauthenticated, match="signature does not match"):
        verify(SECRET, BODY, f"t={NOW},v1={given_signature}", NOW, TOLERANCE)


@pytest.mark.parametrize("given_signature", ["\u00e9" * 64, "\u00ff"], ids=["e-acute-x64", "y-umlaut"])
def test_non_ascii_signature_is_rejected_as_unauthenticated(given_signature: str) -> None:
    # The webhook endpoint is public and Starlette decodes header values as Latin-1, so a client can
    # send these; they must give 401, not an unhandled TypeError from hmac.compare_digest (a 500).
    with pytest.raises(Unauthenticated):
        verify(SECRET, BODY, f"t={NOW},v1={given_signature}", NOW, TOLERANCE)


# -- simulated provider ----------------------------------------------------------------------------

PAYMENT_IDS = [f"pay_{i:05d}" for i in range(4000)]


def _request(payment_id: str, method: str = "card_visa") -> PaymentRequest:
    return PaymentRequest(payment_id, "ord_1", 1290, "SGD", method)


def _event(provider: SimulatedProvider, request: PaymentRequest) -> dict[str, object]:
    delivery = provider.authorize(request)
    timestamp = int(delivery.signature.split(",")[0].removeprefix("t="))
    verify("sim-secret", delivery.body, delivery.signature, timestamp, TOLERANCE)  # signed with the secret
    event: dict[str, object] = json.loads(delivery.body)
    return event


def _reason(provider: SimulatedProvider, payment_id: str) -> str | None:
    reason: str | None = json.loads(provider.authorize(_request(payment_id)).body)["reason"]
    return reason


def _declined(provider: SimulatedProvider) -> list[str]:
    return [pid for pid in PAYMENT_IDS if _reason(provider, pid) is not None]


def test_webhook_event_content() -> None:
    provider = SimulatedProvider("sim-secret", 0.0, [])
    event = _event(provider, _request("pay_42"))
    assert event == {
        "type": "payment.succeeded",
        "payment_id": "pay_42",
        "order_id": "ord_1",
        "amount_minor": 1290,
        "currency": "SGD",
        "reason": None,
    }


def test_decline_rate_zero_never_declines() -> None:
    assert _declined(SimulatedProvider("sim-secret", 0.0, ["card_declined"])) == []


def test_decline_rate_one_always_declines() -> None:
    provider = SimulatedProvider("sim-secret", 1.0, ["insufficient_funds"])
    assert len(_declined(provider)) == len(PAYMENT_IDS)
    event = _event(provider, _request("pay_7"))
    assert (event["type"], event["reason"]) == ("payment.failed", "insufficient_funds")


def test_quarter_decline_rate_declines_about_a_quarter_repeatably() -> None:
    provider = SimulatedProvider("sim-secret", 0.25, ["card_declined", "insufficient_funds"])
    declined = _declined(provider)
    assert 0.20 * len(PAYMENT_IDS) <= len(declined) <= 0.30 * len(PAYMENT_IDS)
    # the same ids give the same outcomes, also from a new provider with the same seed
    assert _declined(SimulatedProvider("other-secret", 0.25, ["card_declined"])) == declined
    # both reasons are used
    reasons = {_reason(provider, pid) for pid in declined}
    assert reasons == {"card_declined", "insufficient_funds"}


def test_higher_rate_declines_a_superset() -> None:
    low = set(_declined(SimulatedProvider("s", 0.1, [])))
    high = set(_declined(SimulatedProvider("s", 0.3, [])))
    assert low < high


def test_another_seed_declines_other_payments() -> None:
    assert _declined(SimulatedProvider("s", 0.25, [], seed="a")) != _declined(
        SimulatedProvider("s", 0.25, [], seed="b")
    )


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ("decline_expired_card", "expired_card"),
        ("decline_insufficient_funds", "insufficient_funds"),
        ("decline_", "card_declined"),
    ],
)
def test_decline_method_forces_the_reason(method: str, reason: str) -> None:
    provider = SimulatedProvider("sim-secret", 0.0, ["card_declined"])
    event = _event(provider, _request("pay_1", method))
    assert (event["type"], event["reason"]) == ("payment.failed", reason)


def test_ordinary_method_with_rate_zero_succeeds() -> None:
    event = _event(SimulatedProvider("sim-secret", 0.0, []), _request("pay_1", "card_declined_not_a_prefix"))
    assert (event["type"], event["reason"]) == ("payment.succeeded", None)


# -- the provider posts its webhook until it is acknowledged -----------------------------------------


class Merchant:
    """A merchant's webhook endpoint that answers with the given statuses in turn (an exception is
    raised as a connection refused would be), and remembers each post and each pause before it."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.posts: list[tuple[bytes, str]] = []
        self.pauses: list[float] = []

    async def post(self, body: bytes, signature: str) -> int:
        self.posts.append((body, signature))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)


def _provider(merchant: Merchant, backoff: Backoff | None = None, rate: float = 0.0) -> SimulatedProvider:
    return SimulatedProvider("sim-secret", rate, ["card_declined"], backoff=backoff, sleep=merchant.sleep)


def _deliver(provider: SimulatedProvider, merchant: Merchant, request: PaymentRequest) -> bool:
    return asyncio.run(provider.deliver(provider.authorize(request), merchant.post))


def test_an_acknowledged_webhook_is_posted_once() -> None:
    merchant = Merchant(200)
    assert _deliver(_provider(merchant), merchant, _request("pay_1")) is True
    assert len(merchant.posts) == 1 and merchant.pauses == []


def test_the_webhook_is_posted_again_with_growing_pauses_until_a_2xx() -> None:
    merchant = Merchant(500, 409, ConnectionRefusedError(), 503, 202, 200)
    backoff = Backoff(first_s=0.5, factor=2.0, longest_s=30.0, attempts=10)
    assert _deliver(_provider(merchant, backoff), merchant, _request("pay_1")) is True
    assert merchant.pauses == [0.5, 1.0, 2.0, 4.0]  # stops at the first 2xx (202)
    assert merchant.answers == [200]
    bodies = {body for body, _ in merchant.posts}
    assert len(bodies) == 1  # the same event every time, each post signed so that it verifies
    for body, signature in merchant.posts:
        timestamp = int(signature.split(",")[0].removeprefix("t="))
        verify("sim-secret", body, signature, timestamp, TOLERANCE)
    assert json.loads(bodies.pop())["payment_id"] == "pay_1"


def test_the_provider_gives_up_after_its_last_attempt_with_pauses_capped() -> None:
    merchant = Merchant(*[500] * 6)
    backoff = Backoff(first_s=1.0, factor=3.0, longest_s=5.0, attempts=6)
    assert _deliver(_provider(merchant, backoff), merchant, _request("pay_1")) is False
    assert len(merchant.posts) == 6
    assert merchant.pauses == [1.0, 3.0, 5.0, 5.0, 5.0]


@given(
    first=st.floats(0.01, 10),
    factor=st.floats(1, 4),
    longest=st.floats(0.01, 100),
    attempts=st.integers(1, 20),
)
def test_pauses_never_shrink_and_never_pass_the_longest(
    first: float, factor: float, longest: float, attempts: int
) -> None:
    pauses = Backoff(first, factor, longest, attempts).pauses()
    assert len(pauses) == attempts - 1
    assert pauses == sorted(pauses)
    assert all(0 < pause <= longest for pause in pauses)


# -- the provider answers a status query from its ledger ---------------------------------------------


def test_a_payment_never_authorised_is_unknown() -> None:
    assert SimulatedProvider("sim-secret", 0.0, []).status("pay_nope") == PaymentStatus("unknown")


def test_status_says_what_the_webhook_said() -> None:
    provider = SimulatedProvider("sim-secret", 0.25, ["card_declined", "insufficient_funds"])
    for payment_id in PAYMENT_IDS[:400]:
        request = _request(payment_id)
        sent = provider.authorize(request).body
        answer = provider.status(payment_id)
        reason = json.loads(sent)["reason"]
        assert answer == PaymentStatus("declined" if reason else "succeeded", reason, 1290, "SGD", "ord_1"), (
            payment_id
        )
        assert status_event(payment_id, answer) == sent  # settling from it is settling from the webhook


@pytest.mark.parametrize(
    ("method", "reason"), [("decline_expired_card", "expired_card"), ("decline_", "card_declined")]
)
def test_status_respects_a_forced_decline(method: str, reason: str) -> None:
    provider = SimulatedProvider("sim-secret", 0.0, [])
    provider.authorize(_request("pay_1", method))
    assert provider.status("pay_1") == PaymentStatus("declined", reason, 1290, "SGD", "ord_1")


def test_the_answer_outlives_the_provider_that_decided() -> None:
    """Another process (another provider object, even with another decline rate) over the same ledger
    answers what the first decided: the answer is kept, not decided again."""
    ledger = MemoryLedger()
    first = SimulatedProvider("sim-secret", 1.0, ["fraud_suspected"], ledger=ledger)
    first.authorize(_request("pay_1"))
    first.authorize(_request("pay_2", "decline_expired_card"))
    later = SimulatedProvider("sim-secret", 0.0, [], ledger=ledger)
    assert later.status("pay_1") == PaymentStatus("declined", "fraud_suspected", 1290, "SGD", "ord_1")
    assert later.status("pay_2").reason == "expired_card"


@pytest.mark.parametrize("state", ["pending", "unknown"])
def test_an_undecided_payment_has_no_settling_event(state: PaymentState) -> None:
    assert status_event("pay_1", PaymentStatus(state)) is None
