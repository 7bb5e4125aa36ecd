"""`entrepot db backup` and `entrepot db restore` (issue 19): a store backed up and restored into another
answers the same reports as the original, row for row; a restore refuses a file that is not a backup, a
backup of the other kind of store, and a target that already has data unless told to replace it, and
then changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from entrepot.cli.main import app as cli
from entrepot.platform.db import Database
from entrepot.platform.settings import get_settings
from entrepot.schema import metadata, upgrade
from tests.api.helpers import API, pay, place_ok
from tests.world import World


def entrepot(url: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


@pytest.fixture
def target_url(world: World, tmp_path: Path) -> Iterator[str]:
    """An empty store of the same kind as the world's: a new SQLite file, or a new PostgreSQL database."""
    if world.db.dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"entrepot_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(world.db.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(world.db.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def answers(world: World, snapshot_dir: Path) -> dict[str, Any]:
    """What an operator reads: GMV by unit (through a reporting snapshot built from the store), the
    orders list, and an order."""
    client = world.client(reporting_snapshot_dir=str(snapshot_dir), run_relay=False)
    operator = world.auth("operator")
    assert client.post(f"{API}/reports/snapshot", headers=operator).status_code == 200
    params = {"period": "2025-11", "by": "business_unit", "currency": "SGD"}
    gmv = client.get(f"{API}/reports/gmv", params=params, headers=operator)
    orders = client.get(f"{API}/orders", params={"limit": 50}, headers=operator)
    assert gmv.status_code == orders.status_code == 200, (gmv.text, orders.text)
    first = orders.json()["items"][-1]["id"]
    order = client.get(f"{API}/orders/{first}", headers=operator).json()
    return {"gmv": gmv.json()["rows"], "orders": orders.json()["items"], "order": order}


def table_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            for table in metadata.sorted_tables
        }


def test_a_restored_store_answers_as_the_original(
    world: World, target_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = world.client(run_relay=False)
    first = place_ok(client, world, ("seller_a_red", 2))
    place_ok(client, world, ("seller_a_red", 1), who="buyer_b")
    assert pay(client, world, first["id"]).status_code == 202
    before = answers(world, tmp_path / "snapshot-original")
    assert before["gmv"] and len(before["orders"]) == 2

    backup = tmp_path / "backups" / "store.bak"
    code, out = entrepot(world.db.url, "db", "backup", str(backup), monkeypatch=monkeypatch)
    assert code == 0, out
    code, out = entrepot(target_url, "db", "restore", str(backup), monkeypatch=monkeypatch)
    assert code == 0, out

    restored = World(Database(target_url), world.keys, world.ids, world.clock)
    try:
        assert table_rows(restored.db) == table_rows(world.db)
        assert answers(restored, tmp_path / "snapshot-restored") == before
    finally:
        restored.db.dispose()


def test_a_restore_refuses_what_it_cannot_restore_and_changes_nothing(
    world: World, target_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(target_url)  # a store with Entrepot's tables, and none of the world's rows
    target = Database(target_url)
    empty = table_rows(target)
    backup = tmp_path / "store.bak"
    assert entrepot(world.db.url, "db", "backup", str(backup), monkeypatch=monkeypatch)[0] == 0
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a backup\n")
    other_kind = tmp_path / "other.bak"
    other_kind.write_bytes(b"PGDMP" if world.db.dialect == "sqlite" else b"SQLite format 3\x00")

    refusals = {
        str(backup): "already holds Entrepot's tables; add --replace",
        str(not_a_backup): "is not a backup made by `entrepot db backup`",
        str(other_kind): "backup; the store at the target is",
        str(tmp_path / "missing.bak"): "no backup file at",
    }
    for path, reason in refusals.items():
        code, out = entrepot(target_url, "db", "restore", path, monkeypatch=monkeypatch)
        assert (code, out.count("\n")) == (2, 1), out
        assert reason in out, out
        assert table_rows(target) == empty
    target.dispose()  # as the API is stopped before a restore: an open SQLite connection keeps the old file
    code, out = entrepot(target_url, "db", "restore", str(backup), "--replace", monkeypatch=monkeypatch)
    assert code == 0, out
    assert table_rows(target) == table_rows(world.db)
    target.dispose()


def test_a_backup_is_never_left_half_written(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = tmp_path / "store.bak"
    backup.write_bytes(b"the previous backup")
    if world.db.dialect == "sqlite":
        missing = f"sqlite:///{tmp_path / 'nowhere.db'}"
    else:
        missing = (
            make_url(world.db.url).set(database="entrepot_no_such_db").render_as_string(hide_password=False)
        )
    code, out = entrepot(missing, "db", "backup", str(backup), monkeypatch=monkeypatch)
    assert code == 2 and out.count("\n") == 1, out
    assert backup.read_bytes() == b"the previous backup"  # the old backup stands
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
