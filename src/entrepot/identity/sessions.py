"""Console sign-in sessions: started by a password or an API key, resumed from the browser's cookie,
ended by signing out, by being idle too long or by reaching their longest life; ended sessions are purged
by the sweeper once they are older than the days kept (a record of who was signed in, for a while).

The cookie carries a random token (256 bits); the table keeps its SHA-256 only, as API keys keep their
secret's. The CSRF token of a session is derived from that token (an HMAC), so it needs no column and
no one can compute it without the cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from entrepot.catalog import service as catalog
from entrepot.identity import service, users
from entrepot.identity.models import ApiKey, Buyer, ConsoleSession
from entrepot.platform.principal import Principal
from entrepot.platform.settings import Settings


@dataclass(frozen=True)
class Lifetime:
    """How long a session lives: `idle` without a page asked for, `longest` from its sign-in whatever
    its use (a stolen cookie stops working by then too)."""

    idle: dt.timedelta
    longest: dt.timedelta

    @classmethod
    def of(cls, settings: Settings) -> Lifetime:
        idle, longest = settings.console_idle_minutes, settings.console_session_hours
        return cls(dt.timedelta(minutes=idle), dt.timedelta(hours=longest))

    @property
    def seen_every(self) -> dt.timedelta:
        """How stale the recorded last visit may get: a page view writes it only when it is older than
        this, not on every view (a write transaction per page), at a cost of one thirtieth of the idle
        limit in when an idle session ends."""
        return self.idle / 30


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    name: str  # the user's name, or the API key's
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), b"entrepot-console-csrf", hashlib.sha256).hexdigest()


def sign_in_with_password(session: Session, username: str, password: str, now: dt.datetime) -> str:
    """A new session's token for these credentials; Unauthenticated (401) when they are wrong."""
    user = users.check_password(session, username, password)
    return _start(session, now, user_id=user.id)


def sign_in_with_key(session: Session, raw_key: str, now: dt.datetime) -> str:
    """A new session's token for this API key; Unauthenticated when it is unknown or revoked."""
    principal = service.authenticate(session, raw_key.strip(), 0.0)
    key_id = session.scalar(select(ApiKey.id).where(ApiKey.public_id == principal.key_id))
    assert key_id is not None
    return _start(session, now, api_key_id=key_id)


def _start(
    session: Session, now: dt.datetime, user_id: int | None = None, api_key_id: int | None = None
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_hash(token), user_id=user_id, api_key_id=api_key_id, created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return token


def resume(
    session: Session, token: str | None, now: dt.datetime, life: Lifetime, in_use: bool = True
) -> SignedIn | None:
    """Who this cookie's session acts as, or None: no such session, signed out, idle or alive past its
    `life` (then ended here), or its key revoked or user disabled since. A session `in_use` (a page
    asked for) has its idle time reset; a check that is not a person's doing (a live feed asking whether
    it may go on) leaves it, so an unattended screen still goes idle."""
    if not token:
        return None
    row = session.scalar(
        select(ConsoleSession).where(
            ConsoleSession.token_hash == _hash(token), ConsoleSession.ended_at.is_(None)
        )
    )
    if row is None:
        return None
    if now - row.last_seen_at > life.idle or now - row.created_at > life.longest:
        row.ended_at = now
        return None
    who = _subject(session, row)
    if who is None:
        row.ended_at = now
        return None
    if in_use and now - row.last_seen_at >= life.seen_every:
        row.last_seen_at = now
    return SignedIn(who[0], who[1], csrf_token(token))


def _subject(session: Session, row: ConsoleSession) -> tuple[Principal, str] | None:
    if row.user_id is not None:
        return users.user_principal(session, row.user_id)
    found = session.execute(
        select(ApiKey, catalog.seller_public_id(ApiKey.seller_id), Buyer)
        .outerjoin(Buyer, Buyer.id == ApiKey.buyer_id)
        .where(ApiKey.id == row.api_key_id)
    ).one_or_none()
    if found is None or found[0].revoked_at is not None:
        return None
    key, seller_public_id, buyer = found
    if buyer is not None:
        return service.principal_for_buyer(buyer, key.public_id), key.name
    return Principal(key.role, key.public_id, key.seller_id, seller_public_id, carrier=key.carrier), key.name


def sign_out(session: Session, token: str | None, now: dt.datetime) -> None:
    if token:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_hash == _hash(token), ConsoleSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def purge(session: Session, now: dt.datetime, kept: dt.timedelta, life: Lifetime) -> int:
    """Delete the sessions that ended over `kept` ago, and those a browser left behind (never signed
    out) last seen over `kept` ago and idle past their life; how many."""
    ended_before, seen_before = now - kept, now - max(kept, life.idle)
    gone = delete(ConsoleSession).where(
        or_(ConsoleSession.ended_at < ended_before, ConsoleSession.last_seen_at < seen_before)
    )
    result: CursorResult[Any] = session.execute(gone)  # type: ignore[assignment]
    return int(result.rowcount)
