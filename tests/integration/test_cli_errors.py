"""The `entrepot` commands of the main module refuse bad input with one line on stderr and exit code 2:
a database without the schema, a database URL that is none, a bad key role, a keys file that cannot be
written (checked before the demo writes anything)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.identity.models import ApiKey
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
    assert "run `entrepot db upgrade`" in _refused(args)


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
