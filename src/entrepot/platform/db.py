"""Database plumbing: the declarative base, engines for SQLite and PostgreSQL, and the unit of work."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
import psycopg
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    TextClause,
    any_,
    bindparam,
    create_engine,
    event,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SqlPoolTimeout
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.types import TypeDecorator

from entrepot.kernel.errors import Conflict, not_found
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.platform.logs import current_request_id
from entrepot.platform.metrics import EVENTS, count_on_commit

# Named constraints so Alembic migrations are stable across SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_PENDING = "published_at IS NULL AND dead_at IS NULL"


class OutboxEvent(Base):
    """Events written in the same transaction as the change they describe (transactional outbox).

    The relay (entrepot.platform.outbox) hands each to its handlers: `published_at` once they all succeeded,
    otherwise `attempts`, `last_error` and `next_attempt_at` for the retry, and `dead_at` when it gave up.
    """

    __tablename__ = "outbox_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    aggregate_id: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    dead_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # the id of the request whose transaction recorded it (its answer's X-Request-Id): a change followed
    # from the request to its handlers and webhook deliveries; null for changes no request made
    request_id: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        # The relay's queue, oldest first: stays small however long the history grows.
        Index("ix_outbox_events_pending", "id", sqlite_where=text(_PENDING), postgresql_where=text(_PENDING)),
    )


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as one: to mypy `__table__` is only a FromClause, which Core's
    insert, update and the builders below do not take."""
    return cast(Table, model.__table__)


_Row = TypeVar("_Row", bound=Base)


def as_read(model: type[_Row], values: dict[str, Any]) -> _Row:
    """A `model` object holding a row this transaction has just written in bulk (`insert_many` and
    kin), as if it had been read back: for answers built from a batch's own rows. The mapped class's
    constructor records each attribute it sets as a change to flush: 50 us an order's 30 columns,
    against 5 here. The object is in no session; `values` must hold every column it is read for."""
    obj: _Row = model.__mapper__.class_manager.new_instance()
    instance_dict(obj).update(values)
    return obj


def by_public_id(
    session: Session,
    model: type[_Row],
    public_id: str,
    what: str,
    *,
    lock: bool = False,
    where: ColumnElement[bool] | None = None,
) -> _Row:
    """The `model` whose public id is `public_id`, else `kernel.errors.not_found(what, public_id)` (a
    404 "no {what} {public_id}"). One statement: `lock` takes it FOR UPDATE; `where` narrows it to what
    the caller may see (another tenant's thing is then answered as no thing at all)."""
    query = select(model).where(model.__mapper__.c.public_id == public_id)
    if where is not None:
        query = query.where(where)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise not_found(what, public_id)
    return found


def refuse_taken_code(session: Session, model: type[_Row], code: str, what: str) -> None:
    """A 409 `duplicate` ("{what} with code {code!r} exists") when a `model` row has this code: the
    friendly answer before the insert (the unique index stays the guard against a race)."""
    if session.scalar(select(model.__mapper__.c.id).where(model.__mapper__.c.code == code)) is not None:
        raise Conflict(f"{what} with code {code!r} exists", code="duplicate")


_OUTBOX = table_of(OutboxEvent)
_RECORD_EVENT = insert(_OUTBOX)


def record_event(session: Session, event_: DomainEvent, now: dt.datetime) -> None:
    """Write the event in the caller's transaction: it commits with the change or not at all. It carries
    the id of the request being answered, if any."""
    row = _event_row(event_.type, event_.aggregate_id, event_.payload, now, current_request_id())
    session.execute(_RECORD_EVENT, row)
    count_on_commit(session, EVENTS, event_.type)


def record_events(
    session: Session,
    kind: str,
    payloads: list[tuple[str, dict[str, Any]]],
    now: dt.datetime,
    request_ids: Sequence[str | None] | None = None,
) -> None:
    """Events of one kind, (aggregate id, payload) each, in one round trip: for batches that change many
    aggregates together. Written in the caller's transaction, like `record_event`. A batch may answer
    many requests, so each event's request id is given (`request_ids`, one per payload), never taken
    from the context: without them, the events carry none."""
    if payloads:
        ids = request_ids if request_ids is not None else [None] * len(payloads)
        rows = [_event_row(kind, ref, body, now, rid) for (ref, body), rid in zip(payloads, ids, strict=True)]
        insert_many(session, _OUTBOX, rows)
        count_on_commit(session, EVENTS, kind, len(payloads))


def record_timed_events(
    session: Session, events: Sequence[tuple[DomainEvent, dt.datetime]], request_id: str | None = None
) -> None:
    """Events of any kinds, each with the moment it happened, in one round trip (a relay's batch answers
    events that happened at different times). They carry `request_id` when one request caused them
    all, else none, like `record_events`."""
    if events:
        rows = [_event_row(e.type, e.aggregate_id, e.payload, at, request_id) for e, at in events]
        insert_many(session, _OUTBOX, rows)
        for kind, count in Counter(e.type for e, _ in events).items():
            count_on_commit(session, EVENTS, kind, count)


def _event_row(
    kind: str, aggregate_id: str, payload: dict[str, Any], now: dt.datetime, request_id: str | None
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "public_id": new_id("evt"),
        "type": kind,
        "aggregate_id": aggregate_id,
        "payload": payload,
        "occurred_at": now,
        "published_at": None,
    }


def insert_many(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
) -> None:
    """Insert `rows` (all with the same keys, none repeating a `conflict` key) as ONE statement, in
    their order; with `conflict` (a unique key), a row whose key exists sets its `update` columns
    instead. Returns nothing, so it can go out in `pipelined`.

    On PostgreSQL the rows travel as one JSON document read by `jsonb_to_recordset`: an executemany
    sends a statement per row, each with PostgreSQL's per-statement cost, and psycopg converts every
    row's parameters in Python. The document skips the columns' Python-side conversions: timestamps
    must be timezone-aware, a JSON column's None becomes SQL NULL and its objects are stored as jsonb
    reads them (keys sorted, repeats dropped), and the table's Python-side defaults are not applied.
    Elsewhere (SQLite) an executemany."""
    if not rows:
        return
    _refuse_what_no_column_takes(rows)
    columns = tuple(rows[0])
    if dialect_of(session) == "postgresql":
        document = _document(rows)
        session.execute(_insert_from_json(table, columns, conflict, update), {"rows": document})
    else:
        session.execute(_upsert(sqlite.insert(table).inline(), conflict, update), rows)


def insert_many_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """`insert_many` without a conflict key, returning the new rows' serial ids in the rows' order: for a
    batch whose next rows refer to these (an order's lines to the order). On PostgreSQL the statement's
    text is the same for any number of rows, so psycopg converts it once and PostgreSQL plans it once
    (a multi-row VALUES is a new text, parsed and planned anew, for each batch size). The ids come back
    sorted: one statement takes its serial values in the order it inserts the rows, which is the
    document's order. Elsewhere (SQLite) SQLAlchemy's INSERT ... RETURNING in the rows' order."""
    if not rows:
        return []
    _refuse_what_no_column_takes(rows)
    key = _serial_key(table)
    if dialect_of(session) == "postgresql":
        document = _document(rows)
        statement = _insert_from_json(table, tuple(rows[0]), (), (), (key.name,))
        return sorted(session.execute(statement, {"rows": document}).scalars())
    return list(session.execute(insert(table).returning(key, sort_by_parameter_order=True), rows).scalars())


def insert_many_skipping(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    conflict: tuple[str, ...],
    returning: tuple[str, ...] = (),
    where: TextClause | None = None,
) -> list[tuple[Any, ...]]:
    """Insert `rows` as ONE statement, in their order, skipping each row whose `conflict` key (a unique
    index; a partial one's condition in `where`) is taken already; the `returning` columns of the rows
    it inserted, if any are asked: for claims, the rows this batch won. On PostgreSQL a JSON document,
    as `insert_many` (its statement's text the same for any number of rows: an executemany of a
    multi-row VALUES was a new text for each batch size, converted by psycopg and planned by PostgreSQL
    anew each time). Elsewhere (SQLite) an executemany."""
    if not rows:
        return []
    _refuse_what_no_column_takes(rows)
    if dialect_of(session) == "postgresql":
        document = _document(rows)
        statement = _insert_from_json(table, tuple(rows[0]), conflict, (), returning, where)
        result = session.execute(statement, {"rows": document})
    else:
        result = session.execute(_sqlite_insert_skipping(table, conflict, returning, where), rows)
    return [tuple(row) for row in result] if returning else []


@functools.cache
def _sqlite_insert_skipping(
    table: Table, conflict: tuple[str, ...], returning: tuple[str, ...], where: TextClause | None
) -> Executable:
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict, index_where=where)
    return cast(Executable, statement.returning(*[table.c[c] for c in returning]) if returning else statement)


def _serial_key(table: Table) -> Column[Any]:
    (key,) = table.primary_key.columns
    if key.autoincrement is False:
        raise ValueError(f"{table.name}'s key is not a serial: no order to return its ids in")
    return key


@functools.cache
def _insert_from_json(
    table: Table,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
    returning: tuple[str, ...] = (),
    where: TextClause | None = None,
) -> Executable:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = [dialect.identifier_preparer.quote(c) for c in columns]
    typed = ", ".join(
        f"{n} {table.c[c].type.compile(dialect=dialect)}" for n, c in zip(names, columns, strict=True)
    )
    # ordinality: the rows go in in the document's order (a serial key then follows it)
    source = text(
        f"ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS ({typed}))"
        f" WITH ORDINALITY AS r({', '.join(names)}, n)"
    )
    rows: Select[*tuple[Any, ...]] = (
        select(*[literal_column(f"r.{n}") for n in names]).select_from(source).order_by(text("r.n"))
    )
    statement = postgresql.insert(table).from_select(columns, rows, include_defaults=False)
    built = _upsert(statement, conflict, update, where)
    if returning:
        built = built.returning(*[table.c[c] for c in returning])
    return cast(Executable, built)


def _refuse_what_no_column_takes(rows: list[dict[str, Any]]) -> None:
    """A timestamp without a time zone (as UtcDateTime refuses one) or a number that is not finite, in
    any column, refused before anything is sent, on either database: orjson would write the first as a
    local time and the second as null, and SQLite would store NaN as NULL."""
    for row in rows:
        for value in row.values():
            if type(value) is dt.datetime and value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            if type(value) is float and not math.isfinite(value):
                raise ValueError(f"{value} given to a column: not a number any column stores")


def _document(rows: list[dict[str, Any]]) -> str:
    """The rows as one JSON document (checked by `_refuse_what_no_column_takes` first). orjson writes a
    batch's rows five times as fast as the standard library, whose callback for every timestamp was a
    twentieth of an API worker's time under the checkout bench (py-spy, 2026-12-07)."""
    try:
        return orjson.dumps(rows, default=_json_value).decode()
    except orjson.JSONEncodeError:  # what orjson has no form for (an integer past 64 bits) goes as before
        return json.dumps(rows, separators=(",", ":"), ensure_ascii=False, default=_json_value)


def _json_value(value: Any) -> str:
    """A value JSON has no type for, as the text PostgreSQL's column reads it from (a decimal as its
    exact digits, never a float)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # the standard library's (orjson writes dates and timestamps itself)
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form here")


def _upsert(
    statement: Any, conflict: tuple[str, ...], update: tuple[str, ...], where: TextClause | None = None
) -> Any:
    """A row whose `conflict` key is taken sets its `update` columns instead, or without any is skipped."""
    if not conflict:
        return statement
    if not update:
        return statement.on_conflict_do_nothing(index_elements=conflict, index_where=where)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=conflict, index_where=where, set_={c: excluded[c] for c in update}
    )


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def in_list(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values`. On PostgreSQL as `column = ANY(array)`: one parameter however many values,
    so the statement's text never changes (an IN list is rendered anew for each number of values).
    How PostgreSQL plans it is another matter: see planned_each_time."""
    if dialect_of(session) == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


@contextmanager
def planned_each_time(session: Session) -> Iterator[None]:
    """Statements executed inside are planned by PostgreSQL for their actual parameters on every
    execution, instead of being prepared by psycopg after a few runs and then given PostgreSQL's
    generic plan. For reads by `in_list` while a table grows fast (a rush): the generic plan of a read
    by a list of ids does not know the list's values and is several times slower than one planned for
    them (custom plans forced are as fast, so the plan is the cost, not the preparing; measured in
    docs/performance.md, Flash sales). Elsewhere (SQLite) nothing changes."""
    driver = _psycopg(session)
    if driver is None:
        yield
        return
    kept = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = kept


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """Statements executed inside go to PostgreSQL together and are waited for once, on leaving the
    block (psycopg's pipeline mode), instead of one round trip each: for a hot transaction's closing
    writes, so a lock is held for fewer round trips. Only for statements whose results are not read
    (no RETURNING, no SELECT); a statement that fails raises by the end of the block, as SQLAlchemy's
    exception for it (IntegrityError for a broken constraint) wherever PostgreSQL reports it, and the
    transaction rolls back as usual. Elsewhere (SQLite) the statements simply run one by one."""
    driver = _psycopg(session)
    if driver is None:
        yield
        return
    try:
        with driver.pipeline():
            yield
    except psycopg.Error as exc:
        # reported as the pipeline synced, past SQLAlchemy: wrapped as SQLAlchemy wraps the others
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed, also for one sent in `pipelined` (read it after the
    block: SQLAlchemy takes the count when the statement is sent, before PostgreSQL has run it)."""
    assert isinstance(result, CursorResult), "only a statement's own result knows its count"
    count = int(result.context.cursor.rowcount)
    if count < 0:  # the driver kept no count: a change in psycopg, not in the data
        raise RuntimeError("the database driver did not report how many rows the statement changed")
    return count


def _psycopg(session: Session) -> psycopg.Connection[Any] | None:
    """The session's psycopg connection on PostgreSQL; None on SQLite."""
    driver = session.connection().connection.driver_connection
    return driver if isinstance(driver, psycopg.Connection) else None


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# How long a request may wait for the database before it is told the database is out of reach (a 503,
# see `is_unavailable`), rather than holding its client: to open a connection (a stopped server refuses at
# once; one cut off by the network would otherwise be waited on for minutes), and for a pooled
# connection when every one is busy.
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 10


def create_db_engine(url: str, pool_size: int = 10) -> Engine:
    if is_sqlite(url):
        return _sqlite_engine(url)
    # hide_parameters: an error's message (and so a logged traceback) never carries request data;
    # pool_pre_ping: connections a restarted server dropped are replaced before use, not failed in use
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (down, restarting, its connection cut, the
    pool exhausted past POOL_TIMEOUT_S, SQLite's file locked past its busy timeout), rather than that
    a statement was wrong: the request can be tried again later, so the API answers 503, not 500.
    A deadlock or serialisation failure is not one of these: it names a bug in how we lock."""
    if isinstance(exc, SqlPoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, psycopg.errors.TransactionRollback):
        return False
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


def ensure_sqlite_folder(url: str) -> None:
    """A fresh clone has no var/ yet: SQLite creates the file but not its folder."""
    if not is_sqlite(url):
        return
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str) -> Engine:
    ensure_sqlite_folder(url)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy drive transactions; WAL lets readers run beside the single writer.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: SQLite cannot upgrade a read transaction safely under contention.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """An engine and its session factory; `transaction()` is the unit of work: commit all or nothing."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
