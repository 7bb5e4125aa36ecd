"""What every context's Idempotency-Key shares: a request body's fingerprint, and the refusal of a key
reused for another body. Each context keeps its own claims beside what a request makes (an order's key
in the same transaction as the order), so the claim and the thing commit together or not at all."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from entrepot.kernel.errors import DomainError, FieldError


def request_fingerprint(body: dict[str, Any]) -> str:
    """A stable hash of a request body: the same JSON in any key order gives the same fingerprint."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used with a different request body",
            [FieldError("Idempotency-Key", "use a new key for a new request")],
            {},
            "idempotency-key-reused",
            422,
            "Idempotency key reused",
        )
