"""Back up a store and restore one: SQLite through its online backup API (safe while the API serves),
PostgreSQL through pg_dump and pg_restore in their custom format.

Neither leaves half of anything behind. A backup is written to a temporary file beside its destination
and renamed into place once complete and checked (SQLite: `PRAGMA integrity_check`; PostgreSQL:
pg_restore reads the archive's table of contents), so an interrupted backup never looks like a good one.
A restore refuses a target that already holds Entrepot's tables unless told to replace them; on SQLite
it swaps a complete copy into place, on PostgreSQL pg_restore runs as one transaction.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.platform.db import is_sqlite

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_TIMEOUT_S = 3600  # a dump or restore of a large store takes minutes; a stuck one is stopped


class BackupFailed(ValidationFailed):
    """The backup or restore could not be made; nothing was left half-written."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message, [FieldError(field, message)])


@dataclass(frozen=True)
class Backup:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size_bytes: int
    tables: int


def backup(url: str, destination: Path) -> Backup:
    """Write a complete, checked backup of the store at `url` to `destination` (replaced if present)."""
    if destination.is_dir():
        raise BackupFailed(f"{destination} is a folder; name the backup file")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        tables = _sqlite_backup(url, partial) if is_sqlite(url) else _pg_dump(url, partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    kind = "sqlite" if is_sqlite(url) else "postgresql"
    return Backup(destination, kind, destination.stat().st_size, tables)


def restore(url: str, source: Path, replace: bool = False) -> Backup:
    """Restore the backup at `source` into the store at `url`: all of it or, on failure, none of it."""
    kind = backup_kind(source)
    wanted = "sqlite" if is_sqlite(url) else "postgresql"
    if kind != wanted:
        raise BackupFailed(f"{source} is a {kind} backup; the store at the target is {wanted}")
    if not replace and _has_entrepot_tables(url):
        raise BackupFailed(
            "the target store already holds Entrepot's tables; add --replace to overwrite them"
        )
    tables = _sqlite_restore(url, source) if kind == "sqlite" else _pg_restore(url, source)
    return Backup(source, kind, source.stat().st_size, tables)


def backup_kind(path: Path) -> str:
    """ "sqlite" or "postgresql", from the file's first bytes; refuses anything else."""
    if not path.is_file():
        raise BackupFailed(f"no backup file at {path}")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupFailed(
        f"{path} is not a backup made by `entrepot db backup` (SQLite file or pg_dump archive)"
    )


# --- SQLite ---------------------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory SQLite store has nothing to back up or restore into", "database")
    return Path(database)


def _sqlite_backup(url: str, partial: Path) -> int:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupFailed(f"no SQLite store at {source_path}", "database")
    partial.unlink(missing_ok=True)
    # the online backup API copies page by page under SQLite's own locking: writers may go on meanwhile
    with _sqlite(source_path) as source, _sqlite(partial) as copy:
        source.backup(copy)
        return _checked_sqlite(copy, partial)


def _sqlite_restore(url: str, source: Path) -> int:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring")
    try:
        with _sqlite(source) as backup_db, _sqlite(partial) as copy:
            backup_db.backup(copy)
            tables = _checked_sqlite(copy, source)
        os.replace(partial, target)  # the store is the old one or the restored one, never a mix
    finally:
        partial.unlink(missing_ok=True)
    for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)  # the old store's journal must not be replayed onto the new one
    return tables


class _sqlite:
    """A plain sqlite3 connection, closed on leaving (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _checked_sqlite(connection: sqlite3.Connection, path: Path) -> int:
    verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupFailed(f"{path} fails SQLite's integrity check: {verdict}")
    count: int = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    return count


# --- PostgreSQL -----------------------------------------------------------------------------------------


def _pg_dump(url: str, partial: Path) -> int:
    _pg("pg_dump", url, "--format=custom", "--no-owner", f"--file={partial}")
    return _archive_tables(url, partial)


def _pg_restore(url: str, source: Path) -> int:
    tables = _archive_tables(url, source)
    # --single-transaction: a restore that fails on any object leaves the database as it was
    _pg("pg_restore", url, "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source))
    return tables


def _archive_tables(url: str, archive: Path) -> int:
    listing = _pg("pg_restore", None, "--list", str(archive))
    return sum(1 for line in listing.splitlines() if " TABLE " in line and " TABLE DATA " not in line)


def _pg(program: str, url: str | None, *args: str) -> str:
    """Run a PostgreSQL client program against `url` (password through the environment, never on the
    command line, where other users of the machine could read it); its output, or BackupFailed."""
    env = dict(os.environ)
    command = [_pg_program(program), *args]
    if url is not None:
        target = make_url(url)
        if target.password:
            env["PGPASSWORD"] = str(target.password)
        command.insert(1, "--dbname=" + _libpq(target))
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=PG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"{program} did not finish in {PG_TIMEOUT_S} s", "database") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise BackupFailed(f"{program} failed: {first}", "database")
    return done.stdout


def _libpq(url: URL) -> str:
    """The connection string libpq's programs read: SQLAlchemy's URL without driver or password."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _pg_program(name: str) -> str:
    """pg_dump or pg_restore on PATH, or the newest under Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise BackupFailed(f"{name} is not installed (PostgreSQL's client programs)", "database")
    return candidates[-1]


def _has_entrepot_tables(url: str) -> bool:
    if is_sqlite(url):
        path = _sqlite_path(url)
        if not path.is_file():
            return False
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()
