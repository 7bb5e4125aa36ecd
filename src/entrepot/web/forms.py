"""A form's errors, from the problem details a service raised (the API's `errors` member): what the
form component (templates/components.html, `field`) shows in place beside each field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from annotated_types import Ge, Le
from pydantic import BaseModel, ValidationError

from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.platform.schemas import error_message

Body = TypeVar("Body", bound=BaseModel)


@dataclass
class FormProblem:
    title: str = ""
    detail: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, problem: DomainError, aliases: dict[str, str] | None = None, notes: dict[str, str] | None = None
    ) -> FormProblem:
        """The problem's field errors under the form's field names: `aliases` maps a service's field
        (`amount_minor`) to the form's (`amount`), `notes` adds what a person needs to read the service's
        message in the form's terms (`in minor units`)."""
        fields: dict[str, list[str]] = {}
        for error in problem.field_errors:
            name = (aliases or {}).get(error.field, error.field)
            note = (notes or {}).get(error.field)
            fields.setdefault(name, []).append(f"{error.message} ({note})" if note else error.message)
        return cls(problem.title, problem.detail, fields)

    def errors_of(self, name: str) -> list[str]:
        return self.fields.get(name, [])


def parse(model: type[Body], title: str, values: dict[str, Any]) -> Body:
    """A form's values as the API's body (the same rules), or ValidationFailed naming each field."""
    try:
        return model.model_validate(values)
    except ValidationError as invalid:
        raise ValidationFailed(title, field_errors(model, invalid)) from None


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def field_errors(model: type[BaseModel], invalid: ValidationError) -> list[FieldError]:
    """Each error under its field's name. A number out of range says the field's whole range ("2 to
    100"), not only the bound it crossed: a person then fixes it in one try."""
    return [
        FieldError(str(e["loc"][0]) if e["loc"] else "form", _message(model, e)) for e in invalid.errors()
    ]


def _message(model: type[BaseModel], error: Any) -> str:
    field = model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    if error["type"] not in _RANGE_ERRORS or field is None:
        return error_message(error)
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if low is None or high is None:  # one-sided, or strict bounds: pydantic's own words say it
        return str(error["msg"])
    return f"{low:,} to {high:,}"
