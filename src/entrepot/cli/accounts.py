"""`entrepot report org ...`: the organisation as reported (units closed by a reorganisation, planned
moves corrected or withdrawn, audited); thin wrappers over organization.service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures
from entrepot.cli.output import stdout as console

T = TypeVar("T")
org_app = typer.Typer(help="The organisation as reported: closing, planned moves.", no_args_is_help=True)
Reason = Annotated[str, typer.Option(help="why (kept in the audit record), up to 200 characters")]
Day = Annotated[str, typer.Option(help="YYYY-MM-DD")]


def register(report_app: typer.Typer) -> None:
    report_app.add_typer(org_app, name="org")


def in_transaction(work: Callable[[Any, dt.datetime], T]) -> T:
    """Run `work(session, now)` in one transaction; a refusal is one line and exit 2, nothing written."""
    from entrepot.platform.db import Database

    db = Database(get_settings().database_url)
    try:
        with failures(), db.transaction() as session:
            return work(session, get_settings().make_clock()())
    finally:
        db.dispose()


def day(text: str, option: str) -> dt.date:
    from entrepot.kernel.errors import FieldError, ValidationFailed

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        message = f"{option} {text!r} is not a day (YYYY-MM-DD)"
        raise ValidationFailed(message, [FieldError(option, "YYYY-MM-DD")]) from None


def reason_text(text: str) -> str:
    from entrepot.kernel.errors import FieldError, ValidationFailed

    if not 1 <= len(text.strip()) <= 200:
        raise ValidationFailed("--reason must be 1 to 200 characters", [FieldError("--reason", "1-200")])
    return text.strip()


@org_app.command("close")
def close(code: str, on: Day) -> None:
    """Close a unit a reorganisation emptied, on the reorganisation's day."""
    from entrepot.organization import service

    unit = in_transaction(lambda s, now: service.close_unit(s, code, day(on, "--on"), now))
    console.print(f"{unit.code} closed on {unit.closed_on}")


@org_app.command("withdraw-move")
def withdraw_move(code: str, reason: Reason) -> None:
    """Withdraw a unit's move that has not taken effect yet (audited)."""
    from entrepot.organization import service

    in_transaction(lambda s, now: service.withdraw_move(s, code, reason_text(reason), now))
    console.print(f"the planned move of {code} is withdrawn")


@org_app.command("correct-move")
def correct_move(
    code: str, parent: Annotated[str, typer.Option(help="the new parent's code")], on: Day, reason: Reason
) -> None:
    """Correct a unit's move that has not taken effect yet: another parent or a later day (audited)."""
    from entrepot.organization import service

    in_transaction(
        lambda s, now: service.correct_move(s, code, parent, day(on, "--on"), reason_text(reason), now)
    )
    console.print(f"{code} now moves under {parent} on {on}")


@org_app.command("revisions")
def revisions(code: str) -> None:
    """The audit records of a unit's planned moves corrected or withdrawn."""
    from entrepot.organization import service

    rows = in_transaction(
        lambda s, _: [
            (r.action, r.planned_parent, r.planned_from, r.new_parent, r.new_from, r.reason, r.revised_at)
            for r in service.move_revisions(s, code)
        ]
    )
    for action, parent, start, new_parent, new_start, why, at in rows:
        instead = f", instead under {new_parent} from {new_start}" if new_parent else ""
        console.print(f"{at:%Y-%m-%d %H:%M} {action}: under {parent} from {start}{instead} ({why})")
    if not rows:
        console.print(f"no revised move for {code}")
