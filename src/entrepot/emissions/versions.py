"""Factor tables and calculation versions: the tables in force (the newest version of each name), the
version new results belong to, and reading them. A version's tables never change, so the factor set of a
version is cached by its tables' labels."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from entrepot.emissions import defaults
from entrepot.emissions.defaults import sha256_of
from entrepot.emissions.factors import Factor, FactorSet, FactorTable
from entrepot.emissions.models import CalculationVersion, FactorRow, FactorTableRow
from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.kernel.ids import new_id


def _table_of(row: FactorTableRow, factors: Iterable[FactorRow]) -> FactorTable:
    label = f"{row.name}@{row.version}"
    return FactorTable(
        row.name,
        row.version,
        row.kind,
        countries=frozenset(row.countries) if row.countries is not None else None,
        factors=tuple(
            Factor(
                label,
                f.row,
                f.mode,
                f.vehicle,
                f.energy,
                f.ttw,
                f.wtt,
                f.wtw,
                f.source,
                f.note,
                f.carrier,
                f.min_km,
                f.max_km,
                f.unit,
            )
            for f in sorted(factors, key=lambda f: f.row)
        ),
    )


def active_tables(session: Session) -> list[FactorTable]:
    """The newest version of every named table, in the order they were loaded."""
    newest = (
        select(FactorTableRow.name, func.max(FactorTableRow.version).label("version"))
        .group_by(FactorTableRow.name)
        .subquery()
    )
    rows = session.scalars(
        select(FactorTableRow)
        .join(newest, (newest.c.name == FactorTableRow.name) & (newest.c.version == FactorTableRow.version))
        .order_by(FactorTableRow.id)
    ).all()
    factors: dict[int, list[FactorRow]] = {}
    for f in session.scalars(select(FactorRow).where(FactorRow.table_id.in_([r.id for r in rows]))):
        factors.setdefault(f.table_id, []).append(f)
    return [_table_of(r, factors.get(r.id, [])) for r in rows]


def factor_set(session: Session) -> FactorSet:
    """The tables in force now (the newest version of every name)."""
    return FactorSet.ordered(active_tables(session))


_cache: dict[tuple[str, ...], FactorSet] = {}
_cache_lock = threading.Lock()


def factor_set_of(session: Session, number: int) -> FactorSet:
    """The factor set of a calculation version: a version lists its tables as name@version, and a loaded
    table never changes, so the set is read once per process (recording a shipment then costs one query)."""
    labels = session.scalar(select(CalculationVersion.tables).where(CalculationVersion.number == number))
    key = (str(session.get_bind().engine.url), *(labels or []))
    found = _cache.get(key)
    if found is None:
        found = factor_set(session)
        if found.labels != list(labels or []):  # only a version's own tables may be cached under it
            return found
        with _cache_lock:
            _cache[key] = found
    return found


def store_table(session: Session, table: FactorTable, sha256: str, now: dt.datetime) -> FactorTableRow:
    row = FactorTableRow(
        public_id=new_id("eft"),
        name=table.name,
        version=table.version,
        kind=table.kind,
        sha256=sha256,
        rows=len(table.factors),
        loaded_at=now,
        countries=sorted(table.countries) if table.countries is not None else None,
    )
    session.add(row)
    session.flush()
    values = [
        {
            "table_id": row.id,
            "row": f.row,
            "mode": f.mode,
            "vehicle": f.vehicle,
            "energy": f.energy,
            "carrier": f.carrier,
            "min_km": f.min_km,
            "max_km": f.max_km,
            "unit": f.unit,
            "ttw": f.ttw,
            "wtt": f.wtt,
            "wtw": f.wtw,
            "source": f.source,
            "note": f.note,
        }
        for f in table.factors
    ]
    session.execute(insert(FactorRow), values)
    return row


FIRST = 1  # the first version's row is the lock that orders recording against opening new versions


def current_version(session: Session, now: dt.datetime) -> int:
    """The calculation version new results belong to, held until the caller's transaction ends; the first
    use installs the default table.

    Locking, why: opening a version (a table load) takes the first version's row FOR UPDATE, then adds the
    next version and recomputes every stored element; recording a shipment takes the same row FOR SHARE
    before it reads the newest number. So a recording either commits before the load's recompute reads the
    elements, or waits for the load and then reads the new number (a fresh statement, a fresh snapshot
    under READ COMMITTED). One fixed row, not "the newest row": a recorder that waited on the newest row
    would hold a lock on a row that is no longer the newest, and the next load would not wait for it (the
    race test caught exactly that). SQLite serialises writers anyway."""
    first = session.scalar(
        select(CalculationVersion.number).where(CalculationVersion.number == FIRST).with_for_update(read=True)
    )
    if first is None:
        return _install_default(session, now)
    return int(session.scalar(select(func.max(CalculationVersion.number))) or FIRST)


def lock_for_new_version(session: Session, now: dt.datetime) -> int:
    """Take the lock that makes recordings wait (see `current_version`) and return the next version's
    number. FOR UPDATE straight away, never SHARE first and UPDATE later: two loads upgrading their shared
    locks would deadlock each other."""
    locked = session.scalar(
        select(CalculationVersion.number).where(CalculationVersion.number == FIRST).with_for_update()
    )
    if locked is None:  # nothing yet; two first installs race on the unique number and one is retried
        _install_default(session, now)
    return int(session.scalar(select(func.max(CalculationVersion.number))) or FIRST) + 1


def _install_default(session: Session, now: dt.datetime) -> int:
    install_packaged(session, now)
    session.add(
        CalculationVersion(
            number=FIRST, tables=factor_set(session).labels, reason="default tables", created_at=now
        )
    )
    session.flush()
    return 1


def packaged_factors() -> FactorSet:
    """The package's default tables as a first install stores them (version 1 of each)."""
    return FactorSet.ordered([table for table, _ in defaults.packaged()])


def install_packaged(session: Session, now: dt.datetime) -> list[FactorTableRow]:
    """Store each of the package's default tables that the database does not hold as it ships: a table
    never stored comes in as version 1, one whose text changed as its next version. Returns the stored
    rows (none when the database is up to date); the caller opens the calculation version."""
    stored = []
    for table, text in defaults.packaged():
        digest = sha256_of(text)
        latest = session.scalar(
            select(FactorTableRow)
            .where(FactorTableRow.name == table.name)
            .order_by(FactorTableRow.version.desc())
            .limit(1)
        )
        if latest is not None and latest.sha256 == digest:
            continue
        if latest is not None:
            table = replace(table, version=latest.version + 1)
            table = replace(table, factors=tuple(replace(f, table=table.label) for f in table.factors))
        stored.append(store_table(session, table, digest, now))
    return stored


def resolve_version(session: Session, version: int | None) -> int:
    """The version asked for, or the newest; 0 while nothing has been calculated (then reports are empty)."""
    newest = int(session.scalar(select(func.max(CalculationVersion.number))) or 0)
    if version is None:
        return newest
    if session.scalar(select(CalculationVersion.id).where(CalculationVersion.number == version)) is None:
        known = f"versions are 1 to {newest}" if newest else "nothing has been calculated yet"
        raise ValidationFailed("unknown version", [FieldError("version", known)])
    return version


def all_versions(session: Session) -> list[CalculationVersion]:
    return list(session.scalars(select(CalculationVersion).order_by(CalculationVersion.number)))


def all_tables(session: Session) -> list[FactorTableRow]:
    return list(session.scalars(select(FactorTableRow).order_by(FactorTableRow.id)))
