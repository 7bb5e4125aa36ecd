"""The demo's console sign-ins: an operator, the first demo seller, the demo buyer (the storefront) and
a carrier of the network's lanes (its shipments), each with a random password kept beside the demo's
API keys (the keys file, readable by its owner only) and printed with the console's address."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from entrepot.identity import users
from entrepot.logistics import service as logistics
from entrepot.platform.deps import AppContext

FIELD = "console_users"  # in the keys file: user name -> {role, password}


def ensure_console_users(ctx: AppContext, keys_file: Path, console: Console) -> dict[str, Any]:
    """The demo's users, made once (or given new passwords when the keys file that held them is gone
    while the database stayed), saved in the keys file and printed."""
    keys: dict[str, Any] = json.loads(keys_file.read_text())
    if FIELD not in keys:
        keys[FIELD] = _make(ctx, keys.get("seller_1_id"), keys.get("buyer_id"))
        keys_file.write_text(json.dumps(keys, indent=2) + "\n")
    sign_ins = ", ".join(f"{name} / {escape(u['password'])}" for name, u in keys[FIELD].items())
    console.print(f"console sign-ins (user / password, also in {keys_file}): {sign_ins}")
    return dict(keys[FIELD])


def _make(ctx: AppContext, seller: str | None, buyer: str | None) -> dict[str, dict[str, str]]:
    made = {}
    with ctx.db.transaction() as session:
        carrier = next(iter(logistics.carriers(session)), None)  # the first by name: any carries parcels
        wanted = [
            (role, owner)
            for role, owner in (("operator", "-"), ("seller", seller), ("buyer", buyer), ("carrier", carrier))
            if owner is not None
        ]
        for role, owner in wanted:
            username, password = role, secrets.token_urlsafe(12)
            if users.find_user(session, username) is None:
                users.create_user(
                    session,
                    username,
                    password,
                    role,
                    ctx.clock(),
                    seller_public_id=owner if role == "seller" else None,
                    buyer_public_id=owner if role == "buyer" else None,
                    carrier=owner if role == "carrier" else None,
                    carriers=logistics.carriers,
                )
            else:
                users.set_password(session, username, password, ctx.clock())
            made[username] = {"role": role, "password": password}
    return made
