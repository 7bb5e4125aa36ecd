"""What every answer carries (nosniff; no-store on the API; a CSP and no framing on HTML pages; Allow on
a 405), and an unexpected error logged once without the request's data."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import text

from tests.api.helpers import API
from tests.world import World

CARD = "-".join(("card", "4111", "1111"))  # built, so that no source line a traceback quotes holds it


def test_every_answer_says_nosniff_and_the_api_is_not_cached(world: World) -> None:
    client = world.client()
    answers = {
        "api": client.get(f"{API}/markets", headers=world.auth("operator")),
        "unauthenticated": client.get(f"{API}/markets"),
        "not found": client.get(f"{API}/no-such-thing"),
        "flash fast path": client.post(f"{API}/flash-sales/fs_unknown/orders", json={}),
        "health": client.get("/healthz"),
        "docs": client.get("/docs"),
    }
    for name, answer in answers.items():
        assert answer.headers.get("x-content-type-options") == "nosniff", name
    for name in ("api", "unauthenticated", "not found", "flash fast path"):
        assert answers[name].headers.get("cache-control") == "no-store", name


def test_a_new_api_key_is_never_cached(world: World) -> None:
    created = world.client().post(
        f"{API}/api-keys", json={"role": "operator", "name": "ops 2"}, headers=world.auth("operator")
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"


def test_the_docs_page_has_a_policy_that_allows_its_own_inline_script_only(world: World) -> None:
    docs = world.client().get("/docs")
    policy = docs.headers["content-security-policy"]
    assert docs.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert len(re.findall(r"'sha256-[A-Za-z0-9+/=]+'", policy)) == docs.text.count("<script>")


def test_a_wrong_method_says_which_are_allowed(world: World) -> None:
    answer = world.client().delete(f"{API}/markets", headers=world.auth("operator"))
    assert answer.status_code == 405
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_an_unexpected_error_is_one_log_line_without_request_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    client = world.client(own_app=True)  # a route is added

    def broken() -> None:  # a query that fails with a bound parameter a client sent
        with world.db.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table WHERE x = :p"), {"p": CARD})

    client.app.add_api_route(f"{API}/broken", broken)  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO):
        answer = client.get(f"{API}/broken")
    assert answer.status_code == 500
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.json()["detail"] == "an unexpected error; nothing was changed"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert CARD not in caplog.text
