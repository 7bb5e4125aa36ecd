"""Console fixtures: users of each role in the test world, signing in as a browser does (the form's
CSRF token read from the page), and a paid order to look at and refund."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from entrepot.identity import passwords, users
from tests.api.helpers import pay, place_ok
from tests.world import World

PASSWORD = "correct horse battery"  # every test user's: the tests are about roles, not passwords
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# user name -> (role, owner in world.ids, carrier)
PEOPLE = {
    "ops": ("operator", None, None),
    "seller-a": ("seller", "seller_a", None),
    "seller-b": ("seller", "seller_b", None),
    "buyer-a": ("buyer", "buyer_a", None),
    "buyer-b": ("buyer", "buyer_b", None),
    "courier": ("carrier", None, "DHL"),
}


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its lightest cost for the tests' users: the product's cost (RFC 9106's profile, tens
    of milliseconds a hash by design) would be most of these tests' time. A hash names its own cost, so
    verifying works the same; tests/unit/test_passwords holds the product's own cost."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def people(world: World) -> dict[str, str]:
    """A console user per role (two sellers, two buyers); returns user name -> role."""
    with world.db.transaction() as session:
        for name, (role, owner, carrier) in PEOPLE.items():
            users.create_user(
                session,
                name,
                PASSWORD,
                role,
                world.clock(),
                seller_public_id=world.ids[owner] if role == "seller" and owner else None,
                buyer_public_id=world.ids[owner] if role == "buyer" and owner else None,
                carrier=carrier,
                carriers=lambda _: {"DHL"},
            )
    return {name: spec[0] for name, spec in PEOPLE.items()}


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Open the sign-in page (its CSRF cookie and token), then send the password form."""
    token = csrf_of(client.get("/sign-in"))
    form = {"csrf": token, "method": "password", "username": username, "password": password}
    response: httpx.Response = client.post("/sign-in", data=form, follow_redirects=False)
    return response


def sign_in_with_key(client: TestClient, key: str) -> httpx.Response:
    token = csrf_of(client.get("/sign-in"))
    response: httpx.Response = client.post(
        "/sign-in", data={"csrf": token, "method": "key", "api_key": key}, follow_redirects=False
    )
    return response


def console_as(world: World, username: str, **settings: Any) -> TestClient:
    """A browser of its own (its own cookies), signed in as `username`."""
    client = world.client(**settings)
    assert sign_in(client, username).status_code == 303
    return client


@pytest.fixture
def api(world: World) -> TestClient:
    return world.client()


@pytest.fixture
def paid_orders(world: World, api: TestClient) -> dict[str, str]:
    """One paid order from each seller, both bought by buyer_a: seller name -> order id."""
    orders = {}
    for seller in ("seller_a", "seller_b"):
        sku = "seller_a_red" if seller == "seller_a" else "seller_b_red"
        if seller == "seller_b":  # seller_b's SKUs have no stock in the world: give some
            _stock(world, sku)
        order = place_ok(api, world, (sku, 2))
        assert pay(api, world, order["id"]).status_code == 202
        orders[seller] = order["id"]
    for order_id in orders.values():  # the provider's webhook ran in-process after the answer
        assert (
            api.get(f"/api/v1/orders/{order_id}", headers=world.auth("operator")).json()["status"] == "paid"
        )
    return orders


def _stock(world: World, sku_key: str) -> None:
    from entrepot.catalog import service as catalog
    from entrepot.inventory import service as inventory

    with world.db.transaction() as session:
        sku = catalog.get_sku(session, world.ids[sku_key])
        inventory.set_on_hand(session, sku, inventory.get_warehouse(session, "sg-tuas"), 10)
