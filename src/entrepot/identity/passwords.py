"""Passwords: argon2id hashes (argon2-cffi), and what a password must be.

Unlike an API key's secret (256 random bits, a fast hash is enough: identity.domain), a password is
chosen by a person and may be guessed: a slow, memory-hard hash makes each guess against a stolen hash
expensive. argon2-cffi's defaults follow RFC 9106's recommended profile.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from entrepot.kernel.errors import FieldError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a megabyte "password" from costing a hash

_hasher = PasswordHasher()
# Verified when the user name is unknown, so that a wrong name takes as long as a wrong password and the
# time of an answer does not tell which names exist.
_DECOY = _hasher.hash("entrepot-decoy-password")


def password_error(password: str) -> FieldError | None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return FieldError("password", f"{MIN_LENGTH} to {MAX_LENGTH} characters")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password: str, stored_hash: str | None) -> bool:
    """Whether `password` is the one `stored_hash` was made from; with no hash (an unknown user), a
    decoy is verified for the same cost and the answer is False."""
    try:
        matched = _hasher.verify(stored_hash or _DECOY, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None
