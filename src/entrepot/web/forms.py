"""A form's errors, from the problem details a service raised (the API's `errors` member): what the
form component (templates/components.html, `field`) shows in place beside each field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed

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
        errors = [FieldError(str(e["loc"][0]) if e["loc"] else "form", e["msg"]) for e in invalid.errors()]
        raise ValidationFailed(title, errors) from None
