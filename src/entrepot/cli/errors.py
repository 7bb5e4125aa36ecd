"""How every `entrepot` command fails: one line on stderr saying what is wrong, and exit code 2.

Domain errors carry their own precise message. A database that cannot be reached, or that has no
Entrepot schema yet, is named as such with what to do, rather than shown as a driver's traceback."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # imported where used: `entrepot --help` loads neither pydantic nor SQLAlchemy
    from pydantic import BaseModel
    from pydantic_core import ErrorDetails
    from sqlalchemy.exc import DBAPIError

    from entrepot.kernel.errors import DomainError

M = TypeVar("M", bound="BaseModel")
# SQLite's and PostgreSQL's words for a table that is not there (PostgreSQL's for a database that is not
# there end the same way, `database "x" does not exist`: told apart below)
MISSING_TABLE = re.compile(r'no such table|relation "[^"]*" does not exist')
MISSING_DATABASE = re.compile(r'database "([^"]*)" does not exist')


def fail(message: str) -> typer.Exit:
    """Print `error: message` on stderr; raise what this returns to exit with code 2."""
    # escaped: a path or a CSV value may hold [brackets]; soft wrap: one line however narrow the terminal
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def domain_message(exc: DomainError) -> str:
    """The error's detail, with the field messages it does not already say."""
    fields = "; ".join(f"{e.field}: {e.message}" for e in exc.field_errors if e.message not in exc.detail)
    return f"{exc.detail}{' (' + fields + ')' if fields else ''}"


@contextmanager
def failures() -> Iterator[None]:
    """Turn a refused command into one clear line and exit code 2; nothing else is printed."""
    try:
        yield
    except Exception as exc:
        message = refusal(exc)
        if message is None:
            raise
        raise fail(message) from None


def refusal(exc: Exception) -> str | None:
    """The one line that says why `exc` refused a command; None for a fault (a bug), which stands."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from entrepot.kernel.errors import DomainError

    if isinstance(exc, DomainError):
        return domain_message(exc)
    if isinstance(exc, ArgumentError):
        return f"ENTREPOT_DATABASE_URL is not a database URL: {exc}"
    if isinstance(exc, DBAPIError):
        return database_message(exc)
    if isinstance(exc, OSError) and exc.filename:  # a SQLite file's folder that cannot be made, say
        return f"{exc.filename}: {exc.strerror or exc}"
    return None


def database_message(exc: DBAPIError) -> str | None:
    """A database that does not exist, has no schema, or cannot be reached, named with what to do."""
    from sqlalchemy.exc import OperationalError

    from entrepot.platform.settings import get_settings

    url = get_settings().database_url
    said = str(exc.orig).strip()
    missing = MISSING_DATABASE.search(said)
    if missing:
        return missing_database(url, missing.group(1))
    if MISSING_TABLE.search(said):
        return no_schema(url)
    if isinstance(exc, OperationalError):
        return f"cannot use the database {redacted(url)}: {said.splitlines()[0] if said else exc}"
    return None


def no_schema(url: str) -> str:
    return f"no Entrepot schema in {redacted(url)}: run `entrepot db upgrade`"


def missing_database(url: str, name: str) -> str:
    """PostgreSQL's database `name` is not there: how to create it (Entrepot creates schemas, not
    databases, which need a role allowed to create them)."""
    from sqlalchemy.engine import make_url

    where = make_url(url)
    options = "".join(
        f" {flag} {value}"
        for flag, value in (("-h", where.host), ("-p", where.port), ("-U", where.username))
        if value is not None
    )
    return (
        f"the database {name!r} does not exist on the PostgreSQL server {where.host or 'localhost'}"
        f"{':' + str(where.port) if where.port else ''}: create it (`createdb{options} {name}`,"
        f' or CREATE DATABASE "{name}"), then run `entrepot db upgrade`'
    )


def redacted(url: str) -> str:
    """The URL without its password, as it may be shown."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: ArgumentError says so where it is used
        return "ENTREPOT_DATABASE_URL"


def require_schema(url: str) -> None:
    """Refuse, in one line with exit code 2, a database without Entrepot's schema; create nothing.
    Commands that read (and those that write rows) run on a schema `entrepot db upgrade` made: they
    neither make one silently nor leave an empty SQLite file behind."""
    with failures():
        present = has_schema(url)
    if not present:
        raise fail(no_schema(url))


def has_schema(url: str) -> bool:
    """Whether the database at `url` has Entrepot's schema, asked without creating anything (on SQLite,
    a file that is not there is not made). A database out of reach raises DBAPIError."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    from entrepot.platform.db import is_sqlite

    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and not Path(path).is_file():
            return False
    engine = create_engine(url)  # a bare engine: no folder made, no pragma set
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()


def from_options(model: type[M], options: Mapping[str, str] | None = None, **values: object) -> M:
    """The API's request model made of command-line values, so that a command refuses what the API
    refuses, by the same rules. The first field refused becomes a ValidationFailed naming its option
    (`options` maps a field to its option where the two names differ: `origin` to `--from`)."""
    from pydantic import ValidationError as RefusedByModel

    from entrepot.kernel.errors import FieldError, ValidationFailed

    try:
        return model(**values)
    except RefusedByModel as error:
        issue = error.errors()[0]
        field = str(issue["loc"][0]) if issue["loc"] else ""
        option = (options or {}).get(field, "--" + field.replace("_", "-"))
        message = f"{option} {_reason(issue)}"
        raise ValidationFailed(message, [FieldError(option, message)]) from None


def _reason(issue: ErrorDetails) -> str:
    """Pydantic's message worded after an option's name: 'should be greater than 0', 'must be one of
    express, standard, economy'."""
    if issue["type"] == "literal_error":
        expected = str(issue.get("ctx", {}).get("expected", ""))
        return "must be one of " + ", ".join(re.findall(r"'([^']*)'", expected))
    return re.sub(r"^(Input |String |Value error, )", "", issue["msg"])
