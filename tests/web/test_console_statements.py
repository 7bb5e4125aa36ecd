"""The console's pages cost a fixed number of SQL statements whatever they show, as the API's lists do
(tests/api/test_statement_budgets.py): the session (find it, its user, mark it used), then the same
queries as the API route. A page that loaded something per row would cost more with more rows."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import place_ok
from tests.statements import Statements, count_statements
from tests.web.conftest import console_as
from tests.world import World

SESSION = 3  # the session row, its user with seller and buyer ids, and its last use
BUDGETS = {
    "/orders": SESSION + 1 + 4,  # a page of orders and their details
    "/overview": None,
    "/organisation": SESSION + 4,  # units, memberships on the day, markets, moves
    "/markets": SESSION + 3,  # markets, new published rates, operators' newest rates (ECB currencies only)
}


def counted(client: TestClient, world: World, path: str) -> Statements:
    assert client.get(path).status_code == 200  # warms the connections up
    with count_statements(world.db.engine) as seen:
        assert client.get(path).status_code == 200
    return seen


def test_console_pages_cost_the_same_for_few_and_many_orders(world: World, people: dict[str, str]) -> None:
    api = world.client()
    first = place_ok(api, world, ("seller_a_red", 1))["id"]
    console = console_as(world, "ops")
    paths = [*BUDGETS, f"/orders/{first}"]
    few = {path: counted(console, world, path) for path in paths}
    for _ in range(8):
        place_ok(api, world, ("seller_a_red", 1))
    many = {path: counted(console, world, path) for path in paths}
    for path in paths:
        assert len(many[path]) == len(few[path]), f"{path}\n{few[path]}\n---\n{many[path]}"
        budget = BUDGETS.get(path)
        assert budget is None or len(many[path]) <= budget, f"{path}\n{many[path]}"
    # an order: the session, the order, its details (4) and its events
    assert len(many[f"/orders/{first}"]) <= SESSION + 1 + 4 + 1, many[f"/orders/{first}"]
