"""Public ids: a type prefix and an opaque, time-ordered random part (ord_01J...)."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """`prefix_` + 10 chars of milliseconds + 16 random chars: sortable by creation, unguessable."""
    millis = int(time.time() * 1000)
    randomness = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_b32(millis, 10)}{_b32(randomness, 16)}"


def has_prefix(public_id: str, prefix: str) -> bool:
    return (
        isinstance(public_id, str)
        and public_id.startswith(prefix + "_")
        and len(public_id) == len(prefix) + 27
    )
