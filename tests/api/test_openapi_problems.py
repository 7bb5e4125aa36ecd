"""The OpenAPI document states what the API checks: every operation declares its problem answers
(application/problem+json, the `Problem` schema), Idempotency-Key is a required header where the code
requires it, and days carry the years the API supports."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import API
from tests.world import World

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
def document(world: World) -> dict[str, Any]:
    response = world.client().get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith(API)
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_declares_its_problems(document: dict[str, Any]) -> None:
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]  # ours is a problem, not that
    missing = []
    for method, path, operation in operations(document):
        problems = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
        if not problems:
            missing.append(f"{method} {path}")
        for status, answer in problems.items():
            assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                method,
                path,
                status,
            )
    assert not missing


def test_a_route_with_a_key_answers_401_and_403_and_one_with_input_422(document: dict[str, Any]) -> None:
    responses = document["paths"][f"{API}/orders"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "422"} <= set(responses)
    assert set(document["paths"][f"{API}/payments/webhook"]["post"]["responses"]) >= {"401", "422"}


@pytest.mark.parametrize("path", ["/orders", "/carts/{cart_id}/checkout", "/flash-sales/{sale_id}/orders"])
def test_idempotency_key_is_a_required_header(document: dict[str, Any], path: str) -> None:
    parameters = document["paths"][API + path]["post"]["parameters"]
    key = next(p for p in parameters if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (8, 255)


def test_days_state_the_supported_years(document: dict[str, Any]) -> None:
    starts_at = document["components"]["schemas"]["FlashSaleIn"]["properties"]["starts_at"]
    assert starts_at["format"] == "date-time"
    assert starts_at["pattern"] == "^(199[0-9]|20[0-9][0-9]|2100)-"
