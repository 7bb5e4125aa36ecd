"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from entrepot.platform.db import Database
from entrepot.schema import metadata, upgrade


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_upgrade_creates_a_missing_folder_and_is_safe_to_repeat(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not' / 'yet' / 'entrepot.platform.db'}"
    upgrade(url)
    upgrade(url)
    db = Database(url)
    assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
    db.dispose()
