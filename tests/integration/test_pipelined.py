"""db.pipelined, db.in_list, db.planned_each_time, db.insert_many(_returning_ids) and db.rows_changed,
on SQLite and PostgreSQL: what the flash and checkout batches rely on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from entrepot.platform.db import (
    Database,
    OutboxEvent,
    UtcDateTime,
    in_list,
    insert_many,
    insert_many_returning_ids,
    pipelined,
    planned_each_time,
    record_events,
    rows_changed,
)

NOW = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
EVENTS = OutboxEvent.__table__


def _events(db: Database) -> list[str]:
    with db.transaction() as s:
        return list(s.scalars(select(OutboxEvent.aggregate_id).order_by(OutboxEvent.id)))


def test_writes_in_a_pipeline_all_land(database: Database) -> None:
    with database.transaction() as s, pipelined(s):
        if database.dialect == "postgresql":  # the statements really are queued, not sent one by one
            driver = s.connection().connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            assert driver.pgconn.pipeline_status == psycopg.pq.PipelineStatus.ON
        record_events(s, "test.one", [("a", {}), ("b", {})], NOW)
        record_events(s, "test.two", [("c", {"n": 1})], NOW)
    assert _events(database) == ["a", "b", "c"]


@pytest.mark.parametrize("together", [True, False], ids=["in-one-executemany", "two-statements"])
def test_a_failing_write_in_a_pipeline_raises_and_nothing_lands(database: Database, together: bool) -> None:
    row = {"public_id": "evt_twice", "type": "t", "aggregate_id": "x", "payload": {}, "occurred_at": NOW}
    # PostgreSQL reports the error at the statement or when the pipeline is synced on leaving the block:
    # either way it comes out as SQLAlchemy's IntegrityError
    with (
        pytest.raises(IntegrityError),
        database.transaction() as s,
        pipelined(s),
    ):
        record_events(s, "test.before", [("before", {})], NOW)
        if together:
            s.execute(insert(EVENTS).inline(), [row, {**row, "aggregate_id": "y"}])
        else:
            s.execute(insert(EVENTS).inline(), row)
            s.execute(insert(EVENTS).inline(), {**row, "aggregate_id": "y"})
        record_events(s, "test.after", [("after", {})], NOW)
    assert _events(database) == []
    with database.transaction() as s:  # the connection went back to the pool usable
        assert s.scalar(select(func.count()).select_from(EVENTS)) == 0


@pytest.mark.parametrize("wanted", [["a", "c", "zz"], ["b"], []])
def test_one_of_finds_what_in_finds(database: Database, wanted: list[str]) -> None:
    with database.transaction() as s:
        record_events(s, "test", [("a", {}), ("b", {}), ("c", {})], NOW)
    with database.transaction() as s:
        found = s.scalars(
            select(OutboxEvent.aggregate_id).where(in_list(s, OutboxEvent.aggregate_id, wanted))
        )
        assert sorted(found) == sorted(set(wanted) & {"a", "b", "c"})


def _prepared_here(session: Any) -> int:
    return int(
        session.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%aggregate_id = ANY%'")
        ).scalar_one()
    )


def test_reads_planned_each_time_are_never_prepared(database: Database) -> None:
    """psycopg prepares a statement run five times; inside planned_each_time it never does, so
    PostgreSQL plans each run for its own values. The setting comes back on leaving the block."""
    with database.transaction() as s:
        record_events(s, "test", [("a", {})], NOW)
    with database.transaction() as s:
        wanted = select(OutboxEvent.id).where(in_list(s, OutboxEvent.aggregate_id, ["a"]))
        with planned_each_time(s):
            for _ in range(8):
                assert len(s.execute(wanted).all()) == 1
            if database.dialect == "postgresql":
                assert _prepared_here(s) == 0
        if database.dialect == "postgresql":
            for _ in range(8):
                s.execute(wanted).all()
            assert _prepared_here(s) == 1  # the same statement, prepared as usual outside the block


def test_planned_each_time_gives_the_setting_back_when_the_block_fails(database: Database) -> None:
    with pytest.raises(ZeroDivisionError), database.transaction() as s:
        driver = s.connection().connection.driver_connection
        kept = getattr(driver, "prepare_threshold", None)
        with planned_each_time(s):
            1 / 0  # noqa: B018  # any failure inside the block
    assert getattr(driver, "prepare_threshold", None) == kept
    if database.dialect == "postgresql":
        assert kept is not None  # psycopg's default (5) came back, not the block's None


def _event_row(ref: str, published: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "public_id": f"evt_{ref}",
        "type": "test",
        "aggregate_id": ref,
        "payload": {"ref": ref, "n": [1, 2]},
        "occurred_at": NOW,
        "published_at": published,
    }


def test_insert_many_writes_every_row_as_given(database: Database) -> None:
    rows = [_event_row("a"), _event_row("b", NOW + dt.timedelta(seconds=1)), _event_row("c")]
    with database.transaction() as s, pipelined(s):
        insert_many(s, EVENTS, rows)
        insert_many(s, EVENTS, [])  # nothing to write is no statement
    with database.transaction() as s:
        stored = s.execute(
            select(
                EVENTS.c.aggregate_id, EVENTS.c.payload, EVENTS.c.occurred_at, EVENTS.c.published_at
            ).order_by(EVENTS.c.aggregate_id)
        ).all()
    assert [tuple(r) for r in stored] == [
        ("a", {"ref": "a", "n": [1, 2]}, NOW, None),
        ("b", {"ref": "b", "n": [1, 2]}, NOW, NOW + dt.timedelta(seconds=1)),
        ("c", {"ref": "c", "n": [1, 2]}, NOW, None),
    ]


def test_insert_many_on_a_conflict_updates_only_the_columns_named(database: Database) -> None:
    with database.transaction() as s:
        insert_many(s, EVENTS, [_event_row("a"), _event_row("b")])
    moved = {**_event_row("a"), "type": "changed", "published_at": NOW}
    with database.transaction() as s:
        insert_many(s, EVENTS, [moved, _event_row("c")], conflict=("public_id",), update=("published_at",))
    with database.transaction() as s:
        stored = s.execute(select(EVENTS.c.aggregate_id, EVENTS.c.type, EVENTS.c.published_at)).all()
    assert sorted(tuple(r) for r in stored) == [("a", "test", NOW), ("b", "test", None), ("c", "test", None)]


def test_insert_many_keeps_the_rows_in_order(database: Database) -> None:
    """The ids (a serial key) follow the rows' order: the flash sale's waiting line is served by id."""
    refs = ["m", "c", "x", "a", "q", "b"]
    with database.transaction() as s:
        insert_many(s, EVENTS, [_event_row(ref) for ref in refs])
    with database.transaction() as s:
        assert list(s.scalars(select(EVENTS.c.aggregate_id).order_by(EVENTS.c.id))) == refs


def test_insert_many_refuses_a_timestamp_without_its_time_zone(database: Database) -> None:
    naive = {**_event_row("a"), "occurred_at": NOW.replace(tzinfo=None)}
    with pytest.raises((ValueError, StatementError)), database.transaction() as s:
        insert_many(s, EVENTS, [naive])
    assert _events(database) == []


def test_insert_many_that_fails_writes_nothing(database: Database) -> None:
    with pytest.raises(IntegrityError), database.transaction() as s:
        insert_many(s, EVENTS, [_event_row("a"), _event_row("a")])  # the same public id twice
    assert _events(database) == []


def test_rows_changed_counts_what_a_pipelined_update_changed(database: Database) -> None:
    with database.transaction() as s:
        record_events(s, "test", [("a", {}), ("b", {}), ("c", {})], NOW)
    with database.transaction() as s:
        with pipelined(s):
            wanted = EVENTS.c.aggregate_id.in_(["a", "b", "zz"])
            two = s.execute(update(EVENTS).where(wanted).values(type="x"))
            none = s.execute(update(EVENTS).where(EVENTS.c.aggregate_id == "zz").values(type="y"))
        assert (rows_changed(two), rows_changed(none)) == (2, 0)


_TYPED = Table(  # a table of its own: the column types JSON has no type for
    "test_insert_typed",
    MetaData(),
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("label", String(8)),
    Column("rate", Numeric(24, 10)),
    Column("day", Date),
    Column("at", UtcDateTime),
    Column("share", Float),
    Column("count", BigInteger),
)


@contextmanager
def _typed_table(database: Database) -> Iterator[None]:
    with database.engine.begin() as connection:
        _TYPED.create(connection)
    try:
        yield
    finally:
        with database.engine.begin() as connection:
            _TYPED.drop(connection)


def _typed_rows(database: Database) -> int:
    with database.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(_TYPED)) or 0)


def test_insert_many_returning_ids_gives_each_row_its_own_id(database: Database) -> None:
    """Checkout writes an order's lines with its id: the ids must come back in the rows' order."""
    refs = ["m", "c", "x", "a", "q", "b", "z"]
    with database.transaction() as s:
        insert_many(s, EVENTS, [_event_row("before")])  # the serial does not start at 1
        ids = insert_many_returning_ids(s, EVENTS, [_event_row(ref) for ref in refs])
        assert insert_many_returning_ids(s, EVENTS, []) == []
    with database.transaction() as s:
        stored = dict(s.execute(select(EVENTS.c.id, EVENTS.c.aggregate_id).where(EVENTS.c.id.in_(ids))).all())
    assert [stored[i] for i in ids] == refs


def test_insert_many_keeps_decimals_dates_and_times_exact(database: Database) -> None:
    rows = [
        {"label": "a", "rate": Decimal("0.1400000001"), "day": dt.date(2026, 12, 6), "at": NOW},
        {"label": "b", "rate": Decimal("7.1234567890"), "day": dt.date(2025, 1, 31), "at": NOW},
    ]
    with _typed_table(database):
        with database.transaction() as s:
            insert_many_returning_ids(s, _TYPED, rows)
        with database.transaction() as s:
            stored = s.execute(select(_TYPED.c.label, _TYPED.c.rate, _TYPED.c.day, _TYPED.c.at)).all()
        assert sorted(tuple(r) for r in stored) == [tuple(r.values()) for r in rows]


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_insert_many_refuses_a_number_that_is_not_finite(database: Database, number: float) -> None:
    """PostgreSQL's document would carry it as null (orjson), SQLite would store NaN as NULL."""
    good = {"label": "a", "share": 0.5}
    with _typed_table(database):
        with pytest.raises(ValueError, match="not a number any column stores"), database.transaction() as s:
            insert_many(s, _TYPED, [good, {"label": "b", "share": number}])
        assert _typed_rows(database) == 0


def test_insert_many_leaves_an_integer_past_64_bits_to_the_database_to_refuse(database: Database) -> None:
    """orjson has no form for it: the document falls back to the standard library's, and the database
    refuses the value as it refuses any out of its column's range (not a serializer's TypeError)."""
    with _typed_table(database):
        with pytest.raises((DBAPIError, OverflowError)), database.transaction() as s:
            insert_many(s, _TYPED, [{"label": "a", "count": 1}, {"label": "b", "count": 2**64}])
        assert _typed_rows(database) == 0
