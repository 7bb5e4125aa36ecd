"""The bounds of what any input may hold, stated once: text without control characters and no longer than
its column, integers that fit theirs, days within the years the product supports, CSV fields of a
bounded size. Request schemas (entrepot.platform.schemas) and the CSV importers check input against these
before it reaches a query, where PostgreSQL would refuse it with an error (NUL in text, a number out of
its column's range) and Python's calendar could overflow (year 1 at +14:00 in UTC).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

from entrepot.kernel.errors import FieldError, ValidationFailed

T = TypeVar("T")

MAX_INT32 = 2**31 - 1  # INTEGER columns
MAX_INT64 = 2**63 - 1  # BIGINT columns, and the ids a cursor carries

# Column sizes most text goes to: public ids (`ord_...`) and codes (markets, units, warehouses).
ID_LENGTH = 40
CODE_LENGTH = 64

FIRST_DAY = dt.date(1990, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)

# C0 and C1 controls (NUL among them, which PostgreSQL refuses in text) and lone surrogates (which no
# encoding can store). Tabs and newlines too: no field of ours is multi-line.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as the OpenAPI document states it (an ECMA-262 regular expression, which Python reads
# too). Lone surrogates are left out: JSON and UTF-8 cannot carry one, and ECMA-262 without the `u` flag
# would read the class as refusing every character outside the BMP.
PRINTABLE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"

# The most units of a SKU an order line or a cart line takes, unless the settings (max_line_quantity) say
# otherwise; the document states this default.
MAX_LINE_QUANTITY = 10_000

# The longest CSV field any import takes (the longest column is 300 characters): a longer one is a
# mistake or an attack, refused with its row and column.
MAX_CSV_FIELD = 1000


def text_problem(value: str, max_length: int) -> str | None:
    """Why `value` is no text to store in a column of `max_length` characters, or None."""
    if len(value) > max_length:
        return f"at most {max_length} characters"
    if CONTROL.search(value):
        return "must not contain control characters"
    return None


def checked_text(field: str, value: str, max_length: int) -> str:
    """`value`, or ValidationFailed naming `field` (for input that no request schema reads)."""
    problem = text_problem(value, max_length)
    if problem is not None:
        raise ValidationFailed(f"{field}: {problem}", [FieldError(field, problem)])
    return value


def day_problem(day: dt.date) -> str | None:
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"must be from {FIRST_DAY} to {LAST_DAY}"


def moment_problem(moment: dt.datetime) -> str | None:
    """Checked on the date as written, before any conversion to UTC (which overflows for year 1 at a
    positive offset, or year 9999 at a negative one)."""
    return day_problem(moment.date())


class BoundedCsv:
    """csv.DictReader over a text, every field checked: one longer than `max_field` or holding a control
    character is refused (ValidationFailed) with its line and column.

    The csv module's own field limit is process-global (csv.field_size_limit is no setting to change per
    import: the threads of the API share it), so it stays at its default and the fields are measured
    here; a field past even that limit stops the parser, and `_long_field` finds its column again."""

    def __init__(self, text: str, max_field: int = MAX_CSV_FIELD) -> None:
        self.max_field = max_field
        self._lines = _RecordLines(text)
        self._reader = csv.DictReader(self._lines)
        self.fieldnames: list[str] = []
        header = self._parse(1, lambda: self._reader.fieldnames)
        self._check(1, dict(enumerate(header or [])))
        self.fieldnames = list(header or [])

    def rows(self) -> Iterator[tuple[int, dict[Any, Any]]]:
        """(line, row) with the header as line 1; a row as csv.DictReader makes it (a missing field is
        None, extra fields are a list under the key None); blank lines are skipped."""
        for line in itertools.count(2):
            row = self._parse(line, lambda: next(self._reader, None))
            if row is None:
                return
            self._check(line, row)
            yield line, row

    def _parse(self, line: int, read: Callable[[], T]) -> T:
        self._lines.record.clear()
        try:
            return read()
        except csv.Error as error:
            if "field limit" not in str(error):
                _refuse(line, "row", str(error))
            column = _long_field(self._lines.text(), self.max_field)
            _refuse(line, self._name(column), f"at most {self.max_field} characters")

    def _check(self, line: int, row: dict[Any, Any]) -> None:
        extra = row.get(None) or []
        fields = [(k, v) for k, v in row.items() if k is not None] + [
            (len(self.fieldnames) + i, v) for i, v in enumerate(extra)
        ]
        for key, value in fields:
            problem = None if value is None else text_problem(value, self.max_field)
            if problem is not None:
                _refuse(line, key if isinstance(key, str) else self._name(key), problem)

    def _name(self, column: int) -> str:
        return self.fieldnames[column] if column < len(self.fieldnames) else f"#{column + 1}"


def _refuse(line: int, column: str, problem: str) -> NoReturn:
    raise ValidationFailed(
        f"line {line}, column {column}: {problem}", [FieldError(f"line {line}.{column}", problem)]
    )


class _RecordLines:
    """The lines of a text, keeping those of the record the parser is reading."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text)
        self.record: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.record.append(line)
        return line

    def text(self) -> str:
        return "".join(self.record)


def _long_field(record: str, max_field: int) -> int:
    """The index of the first field of `record` longer than `max_field` (quotes considered)."""
    column, length, quoted = 0, 0, False
    for char in record:
        if char == '"':
            quoted = not quoted  # a doubled quote inside a field toggles twice
        elif char == "," and not quoted:
            column, length = column + 1, 0
            continue
        length += 1
        if length > max_field:
            return column
    return column
