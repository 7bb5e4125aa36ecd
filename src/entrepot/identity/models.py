"""Buyers and API keys (stored as a prefix for lookup and a SHA-256 hash of the secret)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.platform.db import Base, BigId, UtcDateTime


class Buyer(Base):
    __tablename__ = "buyers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    # Default delivery point; allocation prefers the nearest warehouse to it.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(64))  # carrier keys: the carrier whose scans they post
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint(
            "(role = 'operator' AND seller_id IS NULL AND buyer_id IS NULL AND carrier IS NULL)"
            " OR (role = 'seller' AND seller_id IS NOT NULL AND buyer_id IS NULL AND carrier IS NULL)"
            " OR (role = 'buyer' AND buyer_id IS NOT NULL AND seller_id IS NULL AND carrier IS NULL)"
            " OR (role = 'carrier' AND carrier IS NOT NULL AND seller_id IS NULL AND buyer_id IS NULL)",
            name="role_owner",
        ),
    )


# The rule both API keys and users follow: each role names exactly its own kind of owner.
ROLE_OWNER = (
    "(role = 'operator' AND seller_id IS NULL AND buyer_id IS NULL AND carrier IS NULL)"
    " OR (role = 'seller' AND seller_id IS NOT NULL AND buyer_id IS NULL AND carrier IS NULL)"
    " OR (role = 'buyer' AND buyer_id IS NOT NULL AND seller_id IS NULL AND carrier IS NULL)"
    " OR (role = 'carrier' AND carrier IS NOT NULL AND seller_id IS NULL AND buyer_id IS NULL)"
)


class User(Base):
    """A person who signs in to the console with a name and password: the roles and owners of API keys,
    the password kept as an argon2 hash (identity.passwords)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint(ROLE_OWNER, name="role_owner"),)


class ConsoleSession(Base):
    """A signed-in browser: by a user's password or by an API key. Only the SHA-256 of the cookie's token
    is kept, so a copy of this table signs nobody in."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint(
            "(user_id IS NOT NULL AND api_key_id IS NULL) OR (user_id IS NULL AND api_key_id IS NOT NULL)",
            name="one_subject",
        ),
    )
