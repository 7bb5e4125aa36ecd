"""Rate limits (platform.ratelimit) against the machine's real Redis: a key past its role's limit gets 429
problem+json with Retry-After, each role its own limit, each key its own count; the console's sign-in per
client address; Redis out of reach lets requests through, logged once and counted; the document lists 429."""

from __future__ import annotations

import logging
import socket
import uuid

import pytest
from prometheus_client import REGISTRY

from entrepot.platform import ratelimit
from tests.api.helpers import API, PROBLEM
from tests.web.conftest import csrf_of
from tests.world import World

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def _keys_of_this_test_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The world's keys are the same in every test (and every xdist worker shares the Redis): each test
    counts under a prefix of its own."""
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"entrepot-rl-test-{uuid.uuid4().hex}")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed when the socket is: a connection there is refused


def test_a_key_past_its_roles_limit_gets_429_with_retry_after(world: World) -> None:
    client = world.client(rate_limits=True, rate_limit_storage=REDIS, rate_limit_buyer="3/minute")
    statuses = [client.get(f"{API}/me", headers=world.auth("buyer_a")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get(f"{API}/me", headers=world.auth("buyer_a"))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == PROBLEM + "rate-limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
    # every key its own count: another buyer is not held back by the first
    assert client.get(f"{API}/me", headers=world.auth("buyer_b")).status_code == 200


def test_each_role_has_its_own_limit(world: World) -> None:
    client = world.client(
        rate_limits=True,
        rate_limit_storage=REDIS,
        rate_limit_buyer="1/minute",
        rate_limit_operator="4/minute",
    )
    ops = [client.get(f"{API}/me", headers=world.auth("operator")).status_code for _ in range(5)]
    buyer = [client.get(f"{API}/me", headers=world.auth("buyer_a")).status_code for _ in range(2)]
    assert ops == [200, 200, 200, 200, 429]
    assert buyer == [200, 429]


def test_the_demos_memory_store_limits_without_redis(world: World) -> None:
    client = world.client(rate_limits=True, rate_limit_storage="memory://", rate_limit_seller="2/minute")
    statuses = [client.get(f"{API}/me", headers=world.auth("seller_a")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_switched_off_nothing_is_limited(world: World) -> None:
    client = world.client(rate_limits=False, rate_limit_storage=REDIS, rate_limit_buyer="1/minute")
    statuses = [client.get(f"{API}/me", headers=world.auth("buyer_a")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_signing_in_is_limited_per_client_address(world: World) -> None:
    client = world.client(rate_limits=True, rate_limit_storage=REDIS, rate_limit_sign_in="2/minute")
    form = {"method": "password", "username": "ops", "password": "wrong guess"}
    tries = [
        client.post("/sign-in", data={**form, "csrf": csrf_of(client.get("/sign-in"))}) for _ in range(3)
    ]
    assert [t.status_code for t in tries] == [401, 401, 429]
    assert 1 <= int(tries[2].headers["retry-after"]) <= 60
    assert "Too many requests" in tries[2].text  # the sign-in page again, saying why
    # the API's keys are counted apart: the address's sign-in limit does not touch them
    assert client.get(f"{API}/me", headers=world.auth("operator")).status_code == 200


def test_redis_out_of_reach_lets_requests_through_logged_once_and_counted(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = REGISTRY.get_sample_value("entrepot_rate_limit_unavailable_total", {"scope": "key"}) or 0.0
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    client = world.client(rate_limits=True, rate_limit_storage=down, rate_limit_buyer="1/minute")
    with caplog.at_level(logging.WARNING, logger="entrepot.platform.ratelimit"):
        statuses = [client.get(f"{API}/me", headers=world.auth("buyer_a")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]
    warnings = [r for r in caplog.records if "out of reach" in r.getMessage()]
    assert len(warnings) == 1
    assert "127.0.0.1" in warnings[0].getMessage()
    after = REGISTRY.get_sample_value("entrepot_rate_limit_unavailable_total", {"scope": "key"})
    assert after == before + 4


def test_the_document_lists_429_where_a_key_is_checked(world: World) -> None:
    paths = world.client().get("/openapi.json").json()["paths"]
    me = paths[f"{API}/me"]["get"]["responses"]
    assert "429" in me and "Retry-After" in me["429"]["headers"]
    assert "429" not in paths["/healthz"]["get"]["responses"]


def test_a_bad_limit_or_store_is_refused_at_start() -> None:
    from entrepot.platform.settings import Settings

    with pytest.raises(ValueError, match="rate limit"):
        Settings(rate_limit_buyer="lots")
    with pytest.raises(ValueError):
        Settings(rate_limit_storage="mysql://somewhere")
