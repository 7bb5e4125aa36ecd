"""How every `entrepot` command fails: one line on stderr saying what is wrong, and exit code 2.

Domain errors carry their own precise message. A database that cannot be reached, or that has no
Entrepot schema yet, is named as such with what to do, rather than shown as a driver's traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from entrepot.kernel.errors import DomainError

MISSING_TABLE = ("no such table", "does not exist")  # SQLite's and PostgreSQL's words for it


def fail(message: str) -> typer.Exit:
    """Print `error: message` on stderr; raise what this returns to exit with code 2."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def domain_message(exc: DomainError) -> str:
    fields = "; ".join(f"{e.field}: {e.message}" for e in exc.field_errors if e.message != exc.detail)
    return f"{exc.detail}{' (' + fields + ')' if fields else ''}"


@contextmanager
def failures() -> Iterator[None]:
    """Turn a refused command into one clear line and exit code 2; nothing else is printed."""
    try:
        yield
    except DomainError as exc:
        raise fail(domain_message(exc)) from None
    except ArgumentError as exc:
        raise fail(f"ENTREPOT_DATABASE_URL is not a database URL: {exc}") from None
    except (OperationalError, ProgrammingError) as exc:
        if any(words in str(exc.orig) for words in MISSING_TABLE):
            raise fail("the database has no Entrepot schema yet: run `entrepot db upgrade`") from None
        if isinstance(exc, OperationalError):
            raise fail(f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}") from None
        raise
