"""Shapes shared by every router, and the types every request's text, numbers and days are read as.

Each string a request carries is `Text` (or a path or query parameter below): no control characters,
and a max_length that fits the column it goes to, stated on the field; each day is a `Day`, each time a
`Moment`. tests/api/test_bounded_input.py walks every request schema and route to hold them to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, TypeVar

import pycountry
from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from entrepot.kernel.bounds import (
    CODE_LENGTH,
    ID_LENGTH,
    PRINTABLE_PATTERN,
    day_problem,
    moment_problem,
    text_problem,
)

T = TypeVar("T")


def error_message(error: Mapping[str, Any]) -> str:
    """What to say of one of pydantic's errors: its own message, except for a text's length. A length
    limit on an optional text (`Text | None = Field(max_length=...)`) is checked after validation, and
    pydantic then says "Value should have at most 500 items": a text has characters."""
    kind, ctx = error.get("type"), error.get("ctx") or {}
    if kind == "too_long" and isinstance(error.get("input"), str) and "max_length" in ctx:
        return f"String should have at most {ctx['max_length']} characters"
    if kind == "too_short" and isinstance(error.get("input"), str) and "min_length" in ctx:
        return f"String should have at least {ctx['min_length']} characters"
    return str(error.get("msg", "invalid"))


def printable(value: str) -> str:
    """`value` when it holds no control character; the length is the field's max_length."""
    problem = text_problem(value, len(value))
    if problem is not None:
        raise ValueError(problem)
    return value


def supported_day(day: dt.date) -> dt.date:
    problem = day_problem(day)
    if problem is not None:
        raise ValueError(problem)
    return day


def supported_moment(moment: dt.datetime) -> dt.datetime:
    problem = moment_problem(moment)
    if problem is not None:
        raise ValueError(problem)
    return moment


# The years kernel.bounds supports (1990-2100), as the document states them: a day or a time must start so.
SUPPORTED_YEARS = {"pattern": "^(199[0-9]|20[0-9][0-9]|2100)-"}


class NoControls:
    """States `printable`'s rule in the document: the string schema gets PRINTABLE_PATTERN (its lengths
    come from the field that uses it)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core)
        schema.setdefault("pattern", PRINTABLE_PATTERN)
        return schema


Text = Annotated[str, AfterValidator(printable), NoControls]
Day = Annotated[dt.date, AfterValidator(supported_day), Field(json_schema_extra=SUPPORTED_YEARS)]
Moment = Annotated[AwareDatetime, AfterValidator(supported_moment), Field(json_schema_extra=SUPPORTED_YEARS)]
Code = Annotated[Text, Field(max_length=CODE_LENGTH)]  # a market, unit, warehouse or category code
PublicId = Annotated[Text, Field(max_length=ID_LENGTH)]  # `ord_...`, `sku_...`

# Path parameters: a public id (`ord_...`) or a code (a market, a unit, a warehouse).
IdPath = Annotated[Text, Path(max_length=ID_LENGTH)]
CodePath = Annotated[Text, Path(max_length=CODE_LENGTH)]
# Query parameters naming a public id or a code, as filters.
IdQuery = Annotated[Text | None, Query(max_length=ID_LENGTH)]
CodeQuery = Annotated[Text | None, Query(max_length=CODE_LENGTH)]
DayQuery = Annotated[Day | None, Query(json_schema_extra=SUPPORTED_YEARS)]
TimeQuery = Annotated[dt.datetime, Query(json_schema_extra=SUPPORTED_YEARS), AfterValidator(supported_moment)]


class Request(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ListPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


# Text with at least one character that is not white space (pattern=r"\S" on the field), as the document
# states it together with PRINTABLE_PATTERN's rule (a field states one pattern).
_CONTROLS = r"\u0000-\u001f\u007f-\u009f"
NOT_BLANK_PATTERN: JsonDict = {"pattern": f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"}


# What the code checks of these, as the document states it: an ISO 3166 alpha-2 country code
# (kernel.countries, against pycountry's list), an upper-case ISO 4217 currency code (kernel.money), the
# code of a new organisation unit or warehouse (organization.domain.CODE_PATTERN).
COUNTRY_CODES: JsonDict = {
    "enum": [str(c.alpha_2) for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)]
}
# kernel.money.validate_currency: three upper-case letters, and a code of pycountry's ISO 4217 list.
CURRENCY_CODE: JsonDict = {
    "enum": [str(c.alpha_3) for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3)]
}
NEW_CODE: JsonDict = {"pattern": "^[a-z0-9][a-z0-9-]{1,62}$"}


def decimal_text(pattern: str, **number: float) -> Callable[[JsonDict], None]:
    """States which strings a Decimal field takes (pydantic documents it as a number or any string): its
    string form gets `pattern`, numbers within the field's bounds written in plain digits; `number` adds
    bounds the service checks to its number form."""

    def state(schema: JsonDict) -> None:
        branches = schema.get("anyOf")
        assert isinstance(branches, list)
        for branch in branches:
            if isinstance(branch, dict) and branch.get("type") == "string":
                branch["pattern"] = pattern
            elif isinstance(branch, dict) and branch.get("type") == "number":
                branch.update(number)

    return state


# Decimal strings in plain digits, up to 12 places: one of 0 up to (not including) 1; one above 0; any;
# one from -10000 to 10000.
FRACTION_TEXT = r"^(0|0?\.[0-9]{1,12})$"
POSITIVE_TEXT = r"^(0*[1-9][0-9]{0,11}(\.[0-9]{1,12})?|0*\.[0-9]{0,11}[1-9][0-9]{0,11})$"
SIGNED_TEXT = r"^[+-]?[0-9]{1,12}(\.[0-9]{1,12})?$"
PERCENT_TEXT = r"^[+-]?[0-9]{1,4}(\.[0-9]{1,12})?$"
# An exchange rate (organization.service.set_manual_rate): above 0, below 10^9, up to 8 places.
RATE_TEXT = r"^(0*[1-9][0-9]{0,8}(\.[0-9]{1,8})?|0*\.[0-9]{0,7}[1-9][0-9]{0,7})$"


def one_of(*values: str) -> JsonDict:
    """A text field's list of accepted values, for the document (the service checks it, in its words)."""
    return {"enum": [*values]}


# Period names as the document states them (kernel.periods parses them; case and spaces do not matter to
# it, the document states the upper-case form). Years are the ones the product supports (kernel.bounds),
# days are real days (29 February aside).
YEAR = r"(199[0-9]|20[0-9]{2}|2100)"
MONTH = r"(0[1-9]|1[0-2])"
_DAY_OF_MONTH = (
    r"(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])"
)
DATE = f"{YEAR}-({_DAY_OF_MONTH})"
PERIOD_FORMS = {
    "fiscal-year": f"FY{YEAR}",
    "fiscal-quarter": f"FY{YEAR}-?Q[1-4]",
    "calendar-year": YEAR,
    "calendar-quarter": f"{YEAR}-Q[1-4]",
    "month": f"{YEAR}-{MONTH}",
    "day": DATE,
    "ltm": f"LTM{YEAR}-{MONTH}",
    "range": f"{DATE}\\.\\.{DATE}",
}


def period_pattern(*forms: str) -> JsonDict:
    """The pattern of the period names in `forms` (kernel.periods' form names)."""
    return {"pattern": "^(" + "|".join(PERIOD_FORMS[f] for f in forms) + ")$"}


# The OpenAPI entry of a route that reads its body itself as CSV text (imports): FastAPI sees no body
# parameter, so the document is told. One for every such route, so they cannot drift apart.
CSV_BODY: JsonDict = {
    "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
}
