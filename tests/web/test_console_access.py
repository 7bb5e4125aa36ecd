"""API keys and console users, operators only: keys listed by prefix (never a secret), a new key shown
once and working at once, a revocation after a confirmation; users listed, made, given a new password.
Every form refuses a POST without its CSRF token, and shows the API's field errors beside its fields,
with its status."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from entrepot.identity import users
from tests.web.conftest import PASSWORD, console_as, csrf_of, sign_in
from tests.world import World

PAGES = ("/api-keys", "/api-keys/new", "/users", "/users/new", "/users/ops/password")


def _post(console: TestClient, path: str, form: dict[str, str]) -> httpx.Response:
    token = csrf_of(console.get("/api-keys" if console.get("/api-keys").status_code == 200 else "/orders"))
    response: httpx.Response = console.post(path, data={"csrf": token, **form}, follow_redirects=False)
    return response


def _errors(page: str, field: str) -> list[str]:
    return re.findall(
        rf'<p class="error" id="f-{field}-error-\d+"><span[^>]*>Error: </span>([^<]+)</p>', page
    )


def test_only_operators_open_the_keys_and_users_pages(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    body = {"role": "operator", "name": "x"}
    assert api.post("/api/v1/api-keys", json=body, headers=world.auth("seller_a")).status_code == 403
    for name in ("seller-a", "buyer-a", "courier"):
        console = console_as(world, name)
        for path in PAGES:
            assert console.get(path).status_code == 403, (name, path)
        made = console.post("/api-keys", data={"csrf": csrf_of(console.get("/organisation")), **body})
        assert made.status_code == 403
    assert "API keys" not in console_as(world, "seller-a").get("/organisation").text.split("</nav>")[0]


def test_keys_are_listed_by_prefix_never_by_secret(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "ops").get("/api-keys").text
    for key in world.keys.values():
        kind, prefix, secret = key.split("_", 2)
        start = f"{kind}_{prefix}"
        assert start in page and secret not in page, start
    assert world.ids["seller_a"] in page  # a seller's key names its owner


def test_a_new_key_is_shown_once_and_works_at_once(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    console = console_as(world, "ops")
    made = _post(
        console, "/api-keys", {"role": "seller", "name": "nightly export", "seller": world.ids["seller_a"]}
    )
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    secret = re.search(r'id="secret"[^>]* value="([^"]+)"', made.text)
    assert secret is not None
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).json()
    assert me["role"] == "seller" and me["seller"] == world.ids["seller_a"]
    listed = console.get("/api-keys").text
    assert "nightly export" in listed and secret.group(1) not in listed


def test_a_refused_key_shows_the_apis_field_errors_and_makes_nothing(
    world: World, people: dict[str, str], api: TestClient
) -> None:
    console = console_as(world, "ops")
    before = console.get("/api-keys").text.count("<tr>")
    for form in (
        {"role": "seller", "name": "no owner"},
        {"role": "carrier", "name": "unknown carrier", "carrier": "Nobody"},
        {"role": "operator", "name": "", "seller": world.ids["seller_a"]},
    ):
        body = {k: v for k, v in form.items() if v}
        expected = api.post("/api/v1/api-keys", json=body, headers=world.auth("operator"))
        page = _post(console, "/api-keys", form)
        assert page.status_code == expected.status_code == 422, (form, expected.json())
        for error in expected.json().get("errors", []):
            field = {"seller_id": "seller", "buyer_id": "buyer"}.get(error["field"], error["field"])
            assert _errors(page.text, field), (field, page.text)
        assert f'value="{form["name"]}"' in page.text  # the form keeps what was typed
    assert console.get("/api-keys").text.count("<tr>") == before


def test_a_key_is_revoked_after_confirming(world: World, people: dict[str, str], api: TestClient) -> None:
    console = console_as(world, "ops")
    listed = console.get("/api-keys").text
    key_id = re.search(r'href="/api-keys/(key_[^/]+)/revoke" aria-label="Revoke buyer_a', listed)
    assert key_id is not None
    confirm = console.get(f"/api-keys/{key_id.group(1)}/revoke")
    assert "Revoke the key buyer_a?" in confirm.text
    assert api.get("/api/v1/me", headers=world.auth("buyer_a")).status_code == 200
    csrf_less = console.post(f"/api-keys/{key_id.group(1)}/revoke", data={}, follow_redirects=False)
    assert csrf_less.status_code == 403
    assert api.get("/api/v1/me", headers=world.auth("buyer_a")).status_code == 200  # nothing done
    done = _post(console, f"/api-keys/{key_id.group(1)}/revoke", {})
    assert done.status_code == 303 and done.headers["location"] == f"/api-keys?revoked={key_id.group(1)}"
    assert api.get("/api/v1/me", headers=world.auth("buyer_a")).status_code == 401
    assert console.get("/api-keys/key_nothing/revoke").status_code == 404


def test_an_operator_makes_a_user_who_signs_in(world: World, people: dict[str, str]) -> None:
    console = console_as(world, "ops")
    made = _post(
        console,
        "/users",
        {
            "username": "Shop-A ",
            "password": "long enough pass",
            "role": "seller",
            "seller": world.ids["seller_a"],
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/users?done=created-shop-a"
    assert "Made the user shop-a." in console.get(made.headers["location"]).text
    assert sign_in(world.client(), "shop-a", "long enough pass").status_code == 303
    refused = _post(console, "/users", {"username": "ops", "password": "short", "role": "seller"})
    assert refused.status_code == 422
    assert _errors(refused.text, "username") == ["already taken"]
    assert _errors(refused.text, "password") and _errors(refused.text, "seller")
    assert 'value="short"' not in refused.text  # a password is never sent back


def test_a_new_password_ends_the_users_sessions(world: World, people: dict[str, str]) -> None:
    seller = console_as(world, "seller-a")
    console = console_as(world, "ops")
    short = _post(console, "/users/seller-a/password", {"password": "x"})
    assert short.status_code == 422 and _errors(short.text, "password")
    assert seller.get("/orders").status_code == 200  # nothing done
    assert console.post("/users/seller-a/password", data={"password": "a new long one"}).status_code == 403
    done = _post(console, "/users/seller-a/password", {"password": "a new long one"})
    assert done.status_code == 303
    assert seller.get("/orders", follow_redirects=False).status_code == 303  # signed out
    assert sign_in(world.client(), "seller-a", PASSWORD).status_code == 401
    assert sign_in(world.client(), "seller-a", "a new long one").status_code == 303
    assert console.get("/users/nobody/password").status_code == 404
    with world.db.transaction() as session:
        assert [u.username for u in users.list_users(session, None, 100)][:2] == ["ops", "seller-a"]
