"""Use cases of console users: create one, change a password, check a sign-in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.identity import passwords
from entrepot.identity.models import Buyer, ConsoleSession, User
from entrepot.identity.service import (
    buyer_public_id,
    get_buyer,
    owner_errors,
    principal_for_buyer,
    refuse_unknown_carrier,
)
from entrepot.kernel.errors import FieldError, NotFound, Unauthenticated, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.platform import audit
from entrepot.platform.principal import ROLES, Principal

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    now: dt.datetime,
    seller_public_id: str | None = None,
    buyer_public_id: str | None = None,
    carrier: str | None = None,
    carriers: Callable[[Session], Collection[str]] = lambda _: (),
) -> User:
    """A user with the role and owner an API key of that role would have (the same rules); the password
    is stored as its argon2 hash only."""
    carrier = carrier.strip() if carrier else None
    errors = _user_errors(session, username, password, role)
    if role in ROLES:
        errors += owner_errors(role, seller_public_id, buyer_public_id, carrier)
    if errors:
        raise ValidationFailed("invalid user", errors)
    if carrier is not None:
        refuse_unknown_carrier(carrier, carriers(session))
    user = User(
        public_id=new_id("usr"),
        username=username,
        password_hash=passwords.hash_password(password),
        role=role,
        seller_id=catalog.seller_id_of(session, seller_public_id) if seller_public_id else None,
        buyer_id=get_buyer(session, buyer_public_id).id if buyer_public_id else None,
        carrier=carrier,
        created_at=now,
    )
    session.add(user)
    session.flush()
    after = {"username": username, "role": role, "seller": seller_public_id, "buyer": buyer_public_id}
    audit.record(session, "user.created", user.public_id, None, after | {"carrier": carrier}, now)
    return user


def _user_errors(session: Session, username: str, password: str, role: str) -> list[FieldError]:
    errors = []
    if not USERNAME.match(username):
        errors.append(
            FieldError("username", "2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
        )
    elif find_user(session, username) is not None:
        errors.append(FieldError("username", "already taken"))
    if (bad_password := passwords.password_error(password)) is not None:
        errors.append(bad_password)
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    return errors


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def set_password(session: Session, username: str, password: str, now: dt.datetime) -> User:
    """Give the user a new password and end the console sessions it has open: a reset must also lock
    out whoever holds a session cookie taken with the old one."""
    user = get_user(session, username)
    if (bad_password := passwords.password_error(password)) is not None:
        raise ValidationFailed("invalid password", [bad_password])
    user.password_hash = passwords.hash_password(password)
    # that it changed, never a password or its hash
    audit.record(session, "user.password_set", user.public_id, None, {"username": username}, now)
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user.id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return user


def check_password(session: Session, username: str, password: str) -> User:
    """The user these credentials name; one answer (401) for an unknown name, a wrong password and a
    disabled user, in about the same time (passwords.password_matches verifies a decoy)."""
    user = find_user(session, username)
    usable = user is not None and user.disabled_at is None
    if not passwords.password_matches(password, user.password_hash if usable and user else None):
        raise Unauthenticated("wrong user name or password")
    assert user is not None
    return user


def user_principal(session: Session, user_id: int) -> tuple[Principal, str] | None:
    """The principal a user acts as (as its API key would: see service._load_principal) and its name;
    None once the user is disabled."""
    user, seller_public_id, buyer = session.execute(
        select(User, catalog.seller_public_id(User.seller_id), Buyer)
        .outerjoin(Buyer, Buyer.id == User.buyer_id)
        .where(User.id == user_id)
    ).one()
    if user.disabled_at is not None:
        return None
    if buyer is not None:
        return principal_for_buyer(buyer, user.public_id), user.username
    principal = Principal(user.role, user.public_id, user.seller_id, seller_public_id, carrier=user.carrier)
    return principal, user.username


@dataclass(frozen=True, slots=True)
class UserView:
    """A console user as a list shows it (never its password hash)."""

    row_id: int
    public_id: str
    username: str
    role: str
    owner: str | None  # the seller's or buyer's public id, or the carrier
    created_at: dt.datetime
    disabled_at: dt.datetime | None


def list_users(session: Session, after: int | None, limit: int) -> list[UserView]:
    """A page of console users in user-name order (keyset on the name, after `after`), in one query."""
    owner = func.coalesce(
        catalog.seller_public_id(User.seller_id), buyer_public_id(User.buyer_id), User.carrier
    )
    query = select(
        User.id, User.public_id, User.username, User.role, owner, User.created_at, User.disabled_at
    ).order_by(User.id)
    if after is not None:
        query = query.where(User.id > after)
    return [UserView(*row) for row in session.execute(query.limit(limit))]


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user
