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
    place_ok(world.client(), world, ("seller_a_red", 1))  # a reservation on the first page too
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


def _more_catalog(world: World, sellers: int) -> None:
    """`sellers` more sellers, each with a product of two priced and stocked SKUs, an API key and a
    console user, and one more product for seller_a."""
    from entrepot.catalog import service as catalog
    from entrepot.catalog.domain import ProductSpec, SkuSpec
    from entrepot.identity import service as identity
    from entrepot.identity import users
    from entrepot.inventory import service as inventory

    with world.db.transaction() as session:
        warehouse = inventory.get_warehouse(session, "sg-tuas")
        owners = [catalog.get_seller(session, world.ids["seller_a"])]
        owners += [
            catalog.create_seller(session, f"more-{n}", "SG", ["lazada"], world.clock())
            for n in range(sellers)
        ]
        for owner in owners:
            ref = f"extra-{owner.public_id[-6:]}"
            skus = [SkuSpec(f"{ref}-{c}", 100, 100, 100, 100) for c in ("x", "y")]
            catalog.create_product(
                session, owner, ProductSpec(ref, "Extra", "toys", "950300", "CN"), skus, world.clock()
            )
            if owner.name.startswith("more-"):  # a key and a console user of its own
                identity.create_api_key(session, "seller", owner.name, world.clock(), owner.public_id)
                users.create_user(
                    session, owner.name, "long enough pass", "seller", world.clock(), owner.public_id
                )
            for sku in catalog.seller_skus(session, owner.id):
                catalog.set_price(session, sku, "lazada-sg", 1000, "SGD")
                inventory.set_on_hand(session, sku, warehouse, 3)


CATALOG_BUDGETS = {
    "/sellers": SESSION + 3,  # sellers, their marketplaces, the marketplaces' codes
    "/sellers/{seller_a}": SESSION + 6,  # seller, marketplaces, codes, commissions, products, their SKUs
    # product, SKUs, prices, stock; for the price and stock forms: the seller's marketplaces, their
    # markets and the warehouses
    "/products/{product}": SESSION + 7,
    "/inventory": SESSION + 4,  # stock lines, their SKUs' labels, warehouses and markets to filter by
    "/inventory/low": SESSION + 4,
    "/inventory/reservations": SESSION + 4,
    "/inventory/reservations?market=lazada-sg": SESSION + 5,  # and the market named
    "/api-keys": SESSION + 1,
    "/users": SESSION + 1,
}


def test_catalog_and_inventory_pages_cost_the_same_for_few_and_many_rows(
    world: World, people: dict[str, str]
) -> None:
    console = console_as(world, "ops")
    place_ok(world.client(), world, ("seller_a_red", 1))  # a reservation on the first page too
    paths = [
        p.format(seller_a=world.ids["seller_a"], product=world.ids["seller_a_product"])
        for p in CATALOG_BUDGETS
    ]
    few = {path: counted(console, world, path) for path in paths}
    _more_catalog(world, 6)
    for _ in range(3):  # stock held for three more orders
        place_ok(world.client(), world, ("seller_a_red", 1))
    many = {path: counted(console, world, path) for path in paths}
    for path, budget in zip(paths, CATALOG_BUDGETS.values(), strict=True):
        assert len(many[path]) == len(few[path]) <= budget, f"{path}\n{few[path]}\n---\n{many[path]}"
