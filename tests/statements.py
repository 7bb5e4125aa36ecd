"""Counting the SQL statements a block of code sends to the database, as Saleor's benchmark tests do.

Every statement that reaches a DBAPI cursor on the engine is counted (`before_cursor_execute`): the
ORM's queries, Core statements, `exec_driver_sql`, and an executemany as one. Transactions are not:
commits and rollbacks are DBAPI calls, psycopg opens a transaction without a statement, and so the
`BEGIN IMMEDIATE` SQLite's engine sends is left out too, and a count is the same on both databases.
Neither are the PRAGMAs SQLite runs on a new connection (they go through the raw connection), so the
count does not depend on the pool. PostgreSQL's first connection asks the server a few things
(version, settings): warm up once before counting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Statements:
    """The statements seen so far, in order; `len()` is the count."""

    sql: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sql)

    def __str__(self) -> str:
        return "\n".join(f"{i:4d}  {' '.join(s.split())[:160]}" for i, s in enumerate(self.sql, 1))


@contextmanager
def count_statements(engine: Engine) -> Iterator[Statements]:
    """The statements `engine` executes inside the block, from every thread (the API runs sync routes
    and its authentication in a thread pool)."""
    seen = Statements()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement != "BEGIN IMMEDIATE":  # SQLite's way of opening a transaction (platform.db)
            seen.sql.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
