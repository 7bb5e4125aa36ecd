"""`entrepot db backup` and `entrepot db restore`: the store at ENTREPOT_DATABASE_URL to a file and back
(entrepot.platform.backup says how, and why nothing is ever left half-written)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures, redacted
from entrepot.cli.output import stdout as console


def backup(
    file: Annotated[Path, typer.Argument(help="the backup file to write (replaced if present)")],
) -> None:
    """Back up the store (SQLite: a consistent copy while the API serves; PostgreSQL: pg_dump's custom
    format), checked before it replaces FILE."""
    from entrepot.platform import backup as backups

    url = get_settings().database_url
    with failures():
        made = backups.backup(url, file)
    console.print(
        f"backup of {redacted(url)}: {made.path} ({made.kind}, {made.tables} tables, {made.size_bytes} bytes)"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="a file `entrepot db backup` wrote")],
    replace: Annotated[
        bool, typer.Option(help="overwrite a store that already has Entrepot's tables")
    ] = False,
) -> None:
    """Restore a backup into the store: all of it, or (on any failure) none of it. Stop the API first:
    it would keep serving from what it had cached."""
    from entrepot.platform import backup as backups

    url = get_settings().database_url
    with failures():
        restored = backups.restore(url, file, replace)
    console.print(
        f"restored {restored.path} into {redacted(url)} ({restored.kind}, {restored.tables} tables)"
    )
