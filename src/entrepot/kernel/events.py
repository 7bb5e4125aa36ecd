"""Domain events as plain data; the outbox table that carries them lives in entrepot.platform.db."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    type: str  # e.g. "order.placed"
    aggregate_id: str  # public id of what changed
    payload: dict[str, Any] = field(default_factory=dict)
