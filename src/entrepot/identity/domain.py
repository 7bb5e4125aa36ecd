"""API keys and the principal a request acts as."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "ek"


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret_hash: str
    plaintext: str


def generate_key() -> NewKey:
    """`ek_<lookup prefix>_<secret>`; only the SHA-256 of the secret is stored.

    A fast hash is right here: the secret is 256 random bits, so there is nothing to brute-force,
    and a slow password hash would cost every API call tens of milliseconds.
    """
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(prefix, hash_secret(secret), f"{KEY_PREFIX}_{prefix}_{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
