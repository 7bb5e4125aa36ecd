"""How every `entrepot` command fails: one line on stderr saying what is wrong, and exit code 2.

Domain errors carry their own precise message. A database that cannot be reached, or that has no
Entrepot schema yet, is named as such with what to do, rather than shown as a driver's traceback."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import typer
from pydantic import BaseModel
from pydantic import ValidationError as RefusedByModel
from pydantic_core import ErrorDetails
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)
MISSING_TABLE = ("no such table", "does not exist")  # SQLite's and PostgreSQL's words for it


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


def from_options(model: type[M], options: Mapping[str, str] | None = None, **values: object) -> M:
    """The API's request model made of command-line values, so that a command refuses what the API
    refuses, by the same rules. The first field refused becomes a ValidationFailed naming its option
    (`options` maps a field to its option where the two names differ: `origin` to `--from`)."""
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
