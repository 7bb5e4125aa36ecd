"""The route API says which (1+epsilon) and which routing rules each answer used; ?epsilon=0 is the exact
Pareto set; a bad epsilon is a 422 that plans nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import API, assert_problem, field_errors
from tests.integration.test_shipping import shipping  # noqa: F401  (the fixture: a small network)
from tests.world import World

BODY = {
    "origin": "cn-hangzhou",
    "destination": "ds-sg-central",
    "weight_kg": 1.0,
    "ready_at": "2025-11-11T03:00:00Z",
}
DEFAULT_RULES = {
    "warehouses_start_only": True,
    "stations_end_only": True,
    "no_node_twice": True,
    "max_legs": 8,
}


def test_an_answer_states_its_epsilon_and_rules(world: World, shipping: TestClient) -> None:  # noqa: F811
    headers = world.auth("buyer_a")
    default = shipping.post(f"{API}/logistics/routes", json=BODY, headers=headers)
    assert default.status_code == 200, default.text
    assert default.json()["epsilon"] == {"time": 0.02, "cost": 0.02, "emissions": 0.02}
    assert default.json()["rules"] == DEFAULT_RULES
    exact = shipping.post(f"{API}/logistics/routes", params={"epsilon": 0}, json=BODY, headers=headers)
    assert exact.status_code == 200, exact.text
    assert exact.json()["epsilon"] == {"time": 0.0, "cost": 0.0, "emissions": 0.0}
    assert [leg["lane"] for leg in exact.json()["pareto"][0]["legs"]] == [
        "truck-hz-hgh", "flight-hgh-sin", "truck-sin-hub", "van-hub-central",
    ]  # fmt: skip
    loose = shipping.post(f"{API}/logistics/routes", params={"epsilon": 0.5}, json=BODY, headers=headers)
    assert loose.json()["epsilon"]["cost"] == 0.5


@pytest.mark.parametrize("epsilon", ["-0.01", "1.5", "nan", "two"])
def test_a_bad_epsilon_is_refused(world: World, shipping: TestClient, epsilon: str) -> None:  # noqa: F811
    refused = shipping.post(
        f"{API}/logistics/routes", params={"epsilon": epsilon}, json=BODY, headers=world.auth("buyer_a")
    )
    assert "epsilon" in field_errors(assert_problem(refused, 422, "validation-failed"))


def test_the_document_states_the_rules_and_the_epsilon(world: World) -> None:
    document = world.client().get("/openapi.json").json()
    rules = document["components"]["schemas"]["RulesOut"]["properties"]
    assert "never passes one on" in rules["warehouses_start_only"]["description"]
    operation = document["paths"][f"{API}/logistics/routes"]["post"]
    [epsilon] = [p for p in operation["parameters"] if p["name"] == "epsilon"]
    assert "exact Pareto set" in epsilon["description"]
