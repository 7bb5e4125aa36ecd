"""`entrepot users ...`: the people who sign in to the console with a name and password."""

from __future__ import annotations

from typing import Annotated

import typer

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures, require_schema
from entrepot.cli.output import stdout as console

app = typer.Typer(help="Console users (name and password; API keys sign in too).", no_args_is_help=True)
Password = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="ENTREPOT_NEW_PASSWORD",
        help="asked for when not given (or from ENTREPOT_NEW_PASSWORD): never on the command line",
    ),
]


@app.command("create")
def create(
    username: Annotated[str, typer.Option(help="2-64 of a-z, 0-9, '.', '_', '-'")],
    role: Annotated[str, typer.Option(help="operator, seller, buyer or carrier")],
    password: Password,
    seller: Annotated[str | None, typer.Option(help="seller id, for sellers")] = None,
    buyer: Annotated[str | None, typer.Option(help="buyer id, for buyers")] = None,
    carrier: Annotated[str | None, typer.Option(help="carrier as lanes name it, for carriers")] = None,
) -> None:
    """Create a console user (only an argon2 hash of the password is kept)."""
    from entrepot.identity import users
    from entrepot.logistics import service as logistics
    from entrepot.platform.db import Database

    settings = get_settings()
    require_schema(settings.database_url)
    with failures():
        db = Database(settings.database_url)
        with db.transaction() as session:
            user = users.create_user(
                session,
                username,
                password,
                role,
                settings.make_clock()(),
                seller,
                buyer,
                carrier,
                logistics.carriers,
            )
            public_id = user.public_id
        db.dispose()
    console.print(f"{public_id} {role}: {username}")


@app.command("password")
def password(username: Annotated[str, typer.Option()], new_password: Password) -> None:
    """Set a user's password."""
    from entrepot.identity import users
    from entrepot.platform.db import Database

    settings = get_settings()
    require_schema(settings.database_url)
    with failures():
        db = Database(settings.database_url)
        with db.transaction() as session:
            users.set_password(session, username, new_password, settings.make_clock()())
        db.dispose()
    console.print(f"password of {username} set")
