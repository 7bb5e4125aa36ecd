"""Signing in to the console and staying signed in: by password and by API key, refusals, the cookie's
flags, idle expiry on the injected clock, sign-out, and CSRF on every form."""

from __future__ import annotations

from sqlalchemy import func, select

from entrepot.bootstrap import sweep_round
from entrepot.identity import sessions, users
from entrepot.identity.models import ConsoleSession, User
from tests.web.conftest import PASSWORD, console_as, csrf_of, sign_in, sign_in_with_key
from tests.world import World


def test_signed_out_the_root_is_the_sign_in_page_and_pages_send_there(world: World) -> None:
    client = world.client()
    root = client.get("/")
    assert root.status_code == 200
    assert (
        'action="/sign-in"' in root.text and 'name="password"' in root.text and 'name="api_key"' in root.text
    )
    page = client.get("/orders?status=paid", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/orders"
    assert client.get("/api/v1/me").status_code == 401  # the API stays where it was, keys only
    assert client.get("/docs").status_code == 200


def test_sign_in_with_a_password_opens_the_roles_first_page(world: World, people: dict[str, str]) -> None:
    client = world.client()
    signed = sign_in(client, " Ops ")  # as people type it: user names are lower case
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "entrepot_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    assert client.get("/", follow_redirects=False).headers["location"] == "/overview"
    overview = client.get("/overview")
    assert overview.status_code == 200
    assert "ops" in overview.text and 'aria-current="page"' in overview.text
    seller = console_as(world, "seller-a")
    assert seller.get("/", follow_redirects=False).headers["location"] == "/orders"
    assert 'href="/overview"' not in seller.get("/orders").text  # navigation by role


def test_the_cookie_is_secure_when_the_page_came_over_https(world: World, people: dict[str, str]) -> None:
    client = world.client()
    client.base_url = client.base_url.copy_with(scheme="https")
    assert "Secure" in sign_in(client, "ops").headers["set-cookie"]


def test_sign_in_with_an_api_key_acts_as_the_key(world: World) -> None:
    client = world.client()
    assert sign_in_with_key(client, world.keys["seller_a"]).status_code == 303
    assert client.get("/orders").status_code == 200
    assert client.get("/overview").status_code == 403  # a seller's key, as in the API


def test_a_wrong_password_an_unknown_user_and_a_bad_key_are_refused_alike(
    world: World, people: dict[str, str]
) -> None:
    client = world.client()
    for username, password in (("ops", "not the password"), ("nobody", PASSWORD)):
        refused = sign_in(client, username, password)
        assert refused.status_code == 401
        assert "wrong user name or password" in refused.text
        assert "entrepot_session" not in refused.headers.get("set-cookie", "")
    refused = sign_in_with_key(client, "ek_000000000000_nope")
    assert refused.status_code == 401
    assert client.get("/orders", follow_redirects=False).status_code == 303
    empty = sign_in(client, "", "")
    assert empty.status_code == 422
    assert empty.text.count('class="error"') == 2  # beside both fields


def test_only_a_hash_of_the_password_and_of_the_session_token_is_stored(
    world: World, people: dict[str, str]
) -> None:
    client = world.client()
    sign_in(client, "ops")
    token = client.cookies["entrepot_session"]
    with world.db.transaction() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "ops"))
        hashes = list(session.scalars(select(ConsoleSession.token_hash)))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_an_idle_session_ends_and_a_used_one_lives_on(world: World, people: dict[str, str]) -> None:
    client = console_as(world, "ops", console_idle_minutes=30)
    world.clock.advance(minutes=29)
    assert client.get("/orders").status_code == 200  # used: its idle time starts again
    world.clock.advance(minutes=29)
    assert client.get("/orders").status_code == 200
    world.clock.advance(minutes=30, seconds=1)
    expired = client.get("/orders", follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/sign-in")
    world.clock.advance(seconds=1)  # ended for good, not only while idle
    assert client.get("/orders", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_on_the_server(world: World, people: dict[str, str]) -> None:
    client = console_as(world, "ops")
    token = client.cookies["entrepot_session"]
    page = client.get("/orders")
    out = client.post("/sign-out", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    replay = world.client()
    replay.cookies.set("entrepot_session", token)  # the old cookie, kept by someone
    assert replay.get("/orders", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_sessions(world: World) -> None:
    client = world.client()
    sign_in_with_key(client, world.keys["seller_a"])
    me = client.get("/api/v1/me", headers=world.auth("seller_a")).json()
    world.client().delete(f"/api/v1/api-keys/{me['key']}", headers=world.auth("operator"))
    assert client.get("/orders", follow_redirects=False).status_code == 303


def test_a_post_without_its_csrf_token_is_refused(world: World, people: dict[str, str]) -> None:
    client = console_as(world, "ops")
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf": "forged"}).status_code == 403
    assert client.get("/orders").status_code == 200  # still signed in: nothing was done
    stranger = world.client()  # no sign-in page opened: no double-submit cookie to match
    form = {"csrf": "anything", "method": "password", "username": "ops", "password": PASSWORD}
    assert stranger.post("/sign-in", data=form).status_code == 403


def test_next_sends_back_to_the_page_asked_for_and_never_elsewhere(
    world: World, people: dict[str, str]
) -> None:
    for asked, landed in (("/orders", "/orders"), ("//evil.example/", "/"), ("https://evil.example/", "/")):
        client = world.client()
        token = csrf_of(client.get("/sign-in"))
        form = {"csrf": token, "method": "password", "username": "ops", "password": PASSWORD, "next": asked}
        signed = client.post("/sign-in", data=form, follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == landed, asked


def test_a_new_password_ends_the_users_open_sessions(world: World, people: dict[str, str]) -> None:
    client = console_as(world, "seller-a")
    other = console_as(world, "ops")
    with world.db.transaction() as session:
        users.set_password(session, "seller-a", "a brand new passphrase", world.clock())
    assert client.get("/orders", follow_redirects=False).status_code == 303  # back to the sign-in page
    assert other.get("/orders").status_code == 200  # another user's session is untouched
    assert sign_in(world.client(), "seller-a").status_code == 401  # the old password no longer signs in
    assert sign_in(world.client(), "seller-a", "a brand new passphrase").status_code == 303


def test_a_second_tab_does_not_spoil_the_sign_in_form_open_in_the_first(
    world: World, people: dict[str, str]
) -> None:
    browser = world.client()
    first_tab = csrf_of(browser.get("/sign-in"))
    browser.get("/")  # the sign-in form again, in another tab
    browser.get("/sign-in")
    form = {"csrf": first_tab, "method": "password", "username": "ops", "password": PASSWORD}
    assert browser.post("/sign-in", data=form, follow_redirects=False).status_code == 303


def test_a_form_sent_after_the_session_ended_leads_to_the_sign_in_page_not_to_a_405(
    world: World, people: dict[str, str]
) -> None:
    client = console_as(world, "ops", console_idle_minutes=30)
    csrf = csrf_of(client.get("/orders"))
    world.clock.advance(minutes=31)
    out = client.post("/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"  # not ?next=/sign-out
    assert client.get(out.headers["location"]).status_code == 200


def test_a_session_ends_at_its_longest_life_however_much_it_is_used(
    world: World, people: dict[str, str]
) -> None:
    client = console_as(world, "ops", console_idle_minutes=30, console_session_hours=1)
    for _ in range(2):
        world.clock.advance(minutes=25)
        assert client.get("/orders").status_code == 200  # in use all along
    world.clock.advance(minutes=10, seconds=1)  # an hour and a second after signing in
    assert client.get("/orders", follow_redirects=False).status_code == 303


def _last_seen(world: World) -> object:
    with world.db.transaction() as session:
        return session.scalar(select(ConsoleSession.last_seen_at))


def test_a_page_view_records_the_visit_only_once_the_record_is_a_minute_old(
    world: World, people: dict[str, str]
) -> None:
    client = console_as(world, "ops", console_idle_minutes=30)  # recorded at most every 30/30 minutes
    signed_in_at = _last_seen(world)
    world.clock.advance(seconds=50)
    assert client.get("/orders").status_code == 200
    assert _last_seen(world) == signed_in_at  # no write for this view
    world.clock.advance(seconds=10)
    assert client.get("/orders").status_code == 200
    assert _last_seen(world) == world.clock()


def test_the_cookie_is_secure_over_http_when_the_settings_say_tls_is_in_front(
    world: World, people: dict[str, str]
) -> None:
    assert "Secure" not in world.client().get("/sign-in").headers["set-cookie"]
    behind_tls = world.client(console_secure_cookies=True)
    assert "Secure" in behind_tls.get("/sign-in").headers["set-cookie"]  # the form's CSRF cookie


def test_the_sweep_deletes_sessions_ended_long_ago_and_keeps_the_rest(
    world: World, people: dict[str, str]
) -> None:
    ended = console_as(world, "ops")
    ended.post("/sign-out", data={"csrf": csrf_of(ended.get("/orders"))})
    console_as(world, "seller-a")  # left signed in, then never used again
    world.clock.advance(days=20)
    live = console_as(world, "ops")
    ctx = world.context(console_sessions_kept_days=15)
    assert sweep_round(ctx).sessions_purged == 2  # ended 20 days ago; idle 20 days
    with world.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 1
    assert live.get("/orders").status_code == 200


def test_a_live_feeds_check_does_not_count_as_use(world: World, people: dict[str, str]) -> None:
    client = console_as(world, "ops", console_idle_minutes=30)
    token = client.cookies["entrepot_session"]
    ctx = world.context(console_idle_minutes=30)
    life = sessions.Lifetime.of(ctx.settings)
    world.clock.advance(minutes=20)  # an open board asks whether it may go on: yes
    with world.db.transaction() as session:
        assert sessions.resume(session, token, world.clock(), life, in_use=False) is not None
    world.clock.advance(minutes=11)  # 31 minutes since the last page: idle, though the feed asked at 20
    with world.db.transaction() as session:
        assert sessions.resume(session, token, world.clock(), life, in_use=False) is None
    assert client.get("/orders", follow_redirects=False).status_code == 303
