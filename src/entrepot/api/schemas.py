"""Shapes shared by every router."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Request(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ListPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
