"""Console users made outside the console: the demo's sign-ins (kept beside its API keys) and
`entrepot users create`; and the rules a user is held to (those of an API key's owner)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from entrepot.cli.main import app as cli
from entrepot.identity import users
from entrepot.kernel.errors import DomainError
from entrepot.logistics import service as logistics
from entrepot.platform.settings import get_settings
from entrepot.simulation.console_users import FIELD, ensure_console_users
from tests.api import test_emissions_api as emissions_api
from tests.web.conftest import sign_in
from tests.world import World


def test_the_demo_makes_an_operator_a_seller_and_a_buyer_sign_in_and_keeps_them(
    world: World, tmp_path: Path
) -> None:
    keys_file = tmp_path / "keys.json"
    ids = {"seller_1_id": world.ids["seller_a"], "buyer_id": world.ids["buyer_a"]}
    keys_file.write_text(json.dumps({"operator": world.keys["operator"], **ids}))
    printed = io.StringIO()
    made = ensure_console_users(world.context(), keys_file, Console(file=printed, width=300))
    assert set(made) == {"operator", "seller", "buyer"}  # no carrier: this world has no network
    shopper = world.client()
    assert sign_in(shopper, "buyer", made["buyer"]["password"]).status_code == 303
    assert shopper.get("/", follow_redirects=False).headers["location"].startswith("/shop")
    assert f"operator / {made['operator']['password']}" in printed.getvalue()
    assert json.loads(keys_file.read_text())[FIELD] == made
    client = world.client()
    assert sign_in(client, "seller", made["seller"]["password"]).status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/orders"
    assert client.get("/overview").status_code == 403

    again = ensure_console_users(world.context(), keys_file, Console(file=io.StringIO()))
    assert again == made  # a rerun reuses them
    keys_file.write_text(json.dumps({"seller_1_id": world.ids["seller_a"]}))  # the file lost, the users kept
    renewed = ensure_console_users(world.context(), keys_file, Console(file=io.StringIO()))
    assert renewed["operator"]["password"] != made["operator"]["password"]
    assert sign_in(world.client(), "operator", renewed["operator"]["password"]).status_code == 303
    assert sign_in(world.client(), "operator", made["operator"]["password"]).status_code == 401


@pytest.fixture
def cli_on(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_users_create_makes_a_user_who_signs_in(
    world: World, cli_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTREPOT_NEW_PASSWORD", "a long enough secret")
    args = ["users", "create", "--username", "ana", "--role", "seller", "--seller", world.ids["seller_b"]]
    made = CliRunner().invoke(cli, args)
    assert made.exit_code == 0, made.output
    assert made.output.startswith("usr_") and "seller: ana" in made.output
    assert sign_in(world.client(), "ana", "a long enough secret").status_code == 303
    twice = CliRunner().invoke(cli, args)
    assert twice.exit_code == 2 and "username: already taken" in twice.output


def test_users_create_asks_for_the_password_twice(world: World, cli_on: None) -> None:
    args = ["users", "create", "--username", "op", "--role", "operator"]
    made = CliRunner().invoke(cli, args, input="short\nshort\n")
    assert made.exit_code == 2 and "password: 10 to 256 characters" in made.output


@pytest.mark.parametrize(
    ("username", "role", "seller", "field"),
    [
        ("Ana", "operator", None, "username"),  # upper case
        ("ana", "admin", None, "role"),
        ("ana", "seller", None, "seller_id"),  # a seller names its seller, as its API key would
        ("ana", "operator", "seller_a", "seller_id"),
    ],
)
def test_a_user_is_held_to_the_api_keys_rules(
    world: World, username: str, role: str, seller: str | None, field: str
) -> None:
    with pytest.raises(DomainError) as refused, world.db.transaction() as session:
        users.create_user(
            session, username, "long enough pw", role, world.clock(), world.ids[seller] if seller else None
        )
    assert refused.value.status == 422
    assert field in {e.field for e in refused.value.field_errors}


def test_the_demo_makes_a_carrier_sign_in_for_a_carrier_of_its_network(world: World, tmp_path: Path) -> None:
    with world.db.transaction() as session:
        logistics.store_network(session, emissions_api.network())
        first = logistics.carriers(session)[0]
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"operator": world.keys["operator"]}))
    made = ensure_console_users(world.context(), keys_file, Console(file=io.StringIO()))
    assert set(made) == {"operator", "carrier"}
    with world.db.transaction() as session:
        user = users.find_user(session, "carrier")
        found = users.user_principal(session, user.id) if user else None
        assert found is not None and found[0].carrier == first
    client = world.client()
    assert sign_in(client, "carrier", made["carrier"]["password"]).status_code == 303
    assert client.get("/logistics").status_code == 200
