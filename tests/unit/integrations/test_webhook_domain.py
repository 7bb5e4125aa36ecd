"""The pure rules of outbound webhooks: the retry schedule, URL checks, who may hear which events, the
signature header during a rotation."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from entrepot.integrations import domain
from entrepot.kernel.errors import ValidationFailed

T0 = dt.datetime(2025, 11, 11, 3, 0, tzinfo=dt.UTC)


def test_the_default_schedule_spans_about_a_day() -> None:
    schedule = domain.RetrySchedule()
    nominal = sum(schedule.nominal(n) for n in range(1, schedule.max_attempts))
    assert 22 * 3600 <= nominal <= 28 * 3600
    assert schedule.gives_up(schedule.max_attempts) and not schedule.gives_up(schedule.max_attempts - 1)


@given(attempts=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_each_wait_is_the_doubled_base_within_its_jitter(attempts: int, seed: int) -> None:
    schedule = domain.RetrySchedule(base_seconds=10, cap_seconds=3600, jitter=0.25)
    wait = schedule.delay(attempts, random.Random(seed)).total_seconds()
    expected = min(10 * 2 ** (attempts - 1), 3600)
    assert 0.75 * expected <= wait <= 1.25 * expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.8/x",
        "http://192.168.1.1/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://LOCALHOST./",
        "http://api.localhost/",
        "http://100.64.0.1/",
    ],
)
def test_internal_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ValidationFailed):
        domain.check_url(url, allow_private=False)
    assert domain.check_url(url, allow_private=True) == url


def test_public_targets_pass() -> None:
    assert domain.check_url(" https://hooks.example.com/a?b=1 ", False) == "https://hooks.example.com/a?b=1"
    assert domain.check_url("http://8.8.8.8:8080/", False) == "http://8.8.8.8:8080/"


def test_sellers_hear_their_kinds_of_events_only() -> None:
    assert domain.check_event_types(["order.paid", "order.paid", "shipment.delivered"], False) == [
        "order.paid",
        "shipment.delivered",
    ]
    with pytest.raises(ValidationFailed) as refused:
        domain.check_event_types(["org.unit_moved"], is_operator=False)
    assert "an operator event" in refused.value.field_errors[0].message
    assert domain.check_event_types(["org.unit_moved"], is_operator=True) == ["org.unit_moved"]
    assert {"order.shipped", "order.returned", "shipment.out_for_delivery"} <= domain.SELLER_EVENTS


def test_a_rotation_signs_with_both_secrets_until_its_window_closes() -> None:
    old, new = domain.new_secret(b"o" * 32), domain.new_secret(b"n" * 32)
    live = domain.live_secrets(new, old, T0 + dt.timedelta(hours=1), T0)
    assert live == [new, old] and domain.live_secrets(new, old, T0, T0) == [new]
    body = b'{"type":"x"}'
    header = domain.signature_header(live, "msg_1", T0, body)
    signatures = header.split(" ")
    assert signatures == [Webhook(new).sign("msg_1", T0, body), Webhook(old).sign("msg_1", T0, body)]
