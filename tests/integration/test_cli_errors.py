"""The `entrepot` commands of the main module refuse bad input with one line on stderr and exit code 2:
a database without the schema, a database that does not exist, a database URL that is none, a bad key
role, a key for a carrier no lane names, a keys file that cannot be written (checked before the demo
writes anything). Commands that read never create a schema, nor an empty SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.identity.models import ApiKey
from entrepot.logistics import service as logistics
from entrepot.platform.db import Database
from entrepot.platform.settings import get_settings
from entrepot.schema import upgrade


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _refused(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == "", result.stdout  # the message goes to stderr, alone
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args", [["sweep"], ["keys", "create", "--role", "operator"], ["events", "relay", "--once"]]
)
def test_a_database_without_the_schema_says_to_upgrade(database_url: str, args: list[str]) -> None:
    assert _refused(args) == f"error: no Entrepot schema in {database_url}: run `entrepot db upgrade`"


READERS = [
    ["sweep"],
    ["events", "relay", "--once"],
    ["keys", "create", "--role", "operator"],
    ["emissions", "report", "--period", "FY2025"],
    ["emissions", "scenario", "--period", "FY2025"],
    ["emissions", "factors", "list"],
    ["emissions", "targets", "progress", "tgt_x"],
    ["emissions", "backfill"],
    ["logistics", "track", "shp_x"],
    ["fx", "status"],
    ["fx", "restate"],
]


@pytest.mark.parametrize("args", READERS, ids=lambda args: " ".join(args))
def test_commands_that_read_create_no_schema_and_no_file(database_url: str, args: list[str]) -> None:
    path = Path(make_url(database_url).database or "")
    assert _refused(args) == f"error: no Entrepot schema in {database_url}: run `entrepot db upgrade`"
    assert not path.exists()  # no empty SQLite file left behind
    sqlite3.connect(path).close()  # an empty database: refused the same way, and left without tables
    assert _refused(args) == f"error: no Entrepot schema in {database_url}: run `entrepot db upgrade`"
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_db_upgrade_creates_a_missing_sqlite_file_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'folder' / 'entrepot.db'}"
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert (result.exit_code, result.stdout.strip()) == (0, f"schema up to date: {url}"), result.output
    db = Database(url)
    try:
        assert inspect(db.engine).has_table("alembic_version")
    finally:
        db.dispose()


def test_db_upgrade_where_sqlite_cannot_write_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("where a folder should be")
    url = f"sqlite:///{tmp_path / 'a-file' / 'entrepot.db'}"
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        line = _refused(["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert "a-file" in line, line


@pytest.mark.postgres
@pytest.mark.parametrize(
    "args", [["db", "upgrade"], ["sweep"], ["emissions", "report", "--period", "FY2025"]]
)
def test_a_postgres_database_that_does_not_exist_is_named_with_how_to_create_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """Not 'run entrepot db upgrade' (which cannot create a database) nor a traceback: one line saying
    which database is missing on which server, and the command that creates it."""
    missing = make_url(postgres_url).set(database="entrepot_no_such_database")
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", missing.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        line = _refused(args)
    finally:
        get_settings.cache_clear()
    assert "the database 'entrepot_no_such_database' does not exist on the PostgreSQL server" in line
    assert (
        "createdb" in line
        and "entrepot_no_such_database" in line
        and "then run `entrepot db upgrade`" in line
    )


def test_a_carrier_key_for_a_carrier_no_lane_names_is_one_line(database_url: str) -> None:
    upgrade(database_url)
    args = ["keys", "create", "--role", "carrier", "--carrier", "Nobody Express"]
    assert "no lane names a carrier yet" in _refused(args)
    assert CliRunner().invoke(app, ["logistics", "seed"]).exit_code == 0
    line = _refused(args)
    assert "no lane names carrier 'Nobody Express'; known carriers: " in line, line
    db = Database(database_url)
    try:
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(ApiKey)) == 0
            known = logistics.carriers(session)
    finally:
        db.dispose()
    created = CliRunner().invoke(app, ["keys", "create", "--role", "carrier", "--carrier", known[0]])
    assert created.exit_code == 0, created.output


def test_a_url_that_is_no_database_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", "not a url at all")
    get_settings.cache_clear()
    try:
        assert "ENTREPOT_DATABASE_URL is not a database URL" in _refused(["sweep"])
    finally:
        get_settings.cache_clear()


def test_a_bad_key_role_is_refused_and_writes_nothing(database_url: str) -> None:
    upgrade(database_url)
    assert "role: must be one of operator, seller, buyer, carrier" in _refused(
        ["keys", "create", "--role", "wizard"]
    )
    db = Database(database_url)
    try:
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(ApiKey)) == 0
    finally:
        db.dispose()


def test_the_demo_checks_its_keys_file_before_writing_anything(database_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "notadir"
    blocker.write_text("a file where the keys' folder should be")
    args = ["demo", "--no-serve", "--sellers", "2", "--buyers", "4", "--days", "1"]
    assert "--keys-file" in _refused([*args, "--keys-file", str(blocker / "keys.json")])
    assert "is a folder" in _refused([*args, "--keys-file", str(tmp_path)])
    assert not (tmp_path / "cli.db").exists()  # refused before the database was even created


def test_serve_refuses_several_workers_on_sqlite(database_url: str) -> None:
    assert "SQLite serves one worker" in _refused(["serve", "--workers", "2"])
    assert "--workers must be at least 1" in _refused(["serve", "--workers", "0"])
