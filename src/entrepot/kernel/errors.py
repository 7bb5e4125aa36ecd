"""Domain errors. The API turns each into an RFC 9457 problem with a stable type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every error a use case raises on purpose. `code` becomes the problem type."""

    detail: str
    field_errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    code: str = "domain-error"
    status: int = 400
    title: str = "Request rejected"

    def __str__(self) -> str:
        return self.detail


class ValidationFailed(DomainError):
    def __init__(self, detail: str, field_errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(detail, field_errors or [], extra, "validation-failed", 422, "Invalid input")


class NotFound(DomainError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, [], extra, "not-found", 404, "Not found")


def not_found(what: str, ref: str) -> NotFound:
    """The one answer for an id the caller may not see, whether no thing has it or another tenant's
    does: the same status, type and detail both ways, so no answer tells that the thing exists."""
    return NotFound(f"no {what} {ref}")


class Conflict(DomainError):
    def __init__(self, detail: str, code: str = "conflict", **extra: Any) -> None:
        super().__init__(detail, [], extra, code, 409, "Conflict")


class Forbidden(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [], {}, "forbidden", 403, "Forbidden")


class Unauthenticated(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [], {}, "unauthenticated", 401, "Unauthenticated")


class InsufficientStock(DomainError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, [], extra, "insufficient-stock", 409, "Insufficient stock")


class InvalidTransition(DomainError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, [], extra, "invalid-transition", 409, "Transition not allowed")


class UnsupportedMediaType(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [], {}, "unsupported-media-type", 415, "Unsupported media type")
