"""What the API and the console say of a schema's errors (platform.schemas.error_message)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from entrepot.platform.schemas import Text, error_message


class _Note(BaseModel):
    title: Text = Field(min_length=2, max_length=5)
    note: Text | None = Field(default=None, min_length=2, max_length=5)  # checked after validation
    count: int = Field(default=1, le=3)


def _messages(**values: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        _Note.model_validate(values)
    return {str(e["loc"][0]): error_message(e) for e in raised.value.errors()}


def test_an_optional_texts_length_is_said_in_characters_like_a_required_ones() -> None:
    said = _messages(title="abcdefg", note="abcdefg")
    assert said == {
        "title": "String should have at most 5 characters",
        "note": "String should have at most 5 characters",  # pydantic: "at most 5 items after validation"
    }
    assert _messages(title="a", note="a")["note"] == "String should have at least 2 characters"


def test_other_errors_keep_pydantics_words() -> None:
    assert _messages(title="abc", count=4) == {"count": "Input should be less than or equal to 3"}
