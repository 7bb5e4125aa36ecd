"""Shapes shared by every router, and the types every request's text, numbers and days are read as.

Each string a request carries is `Text` (or a path or query parameter below): no control characters,
and a max_length that fits the column it goes to, stated on the field; each day is a `Day`, each time a
`Moment`. tests/api/test_bounded_input.py walks every request schema and route to hold them to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from entrepot.kernel.bounds import CODE_LENGTH, ID_LENGTH, day_problem, moment_problem, text_problem

T = TypeVar("T")


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

Text = Annotated[str, AfterValidator(printable)]
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
