"""Allocation of a batch of baskets: every line reserved in the best warehouse that still holds it, with
set-based conditional updates, a basket that cannot be served failing alone.

A round sends ONE statement for every stock row asked for: `reserved + asked` where `on_hand - reserved`
still covers it, re-checked by PostgreSQL on the newest row version (never read-then-write), so two
batches racing for the last units cannot oversell, and the table's CHECK constraints stop any caller
that tries. A row asked for by several lines of the batch is first asked for their sum; when that does
not fit, the row is "contended" and its lines are asked for one at a time in the batch's order, as
requests placed one by one would be served. A line refused by its warehouse moves to the next-best one;
a line no warehouse can serve fails its basket, whose other lines give their units back at once, before
the next round (so the baskets behind it can have them). With no collision, a batch is one round.

Lock order (PostgreSQL): before the first round, ONE statement locks every stock row the batch may take
(every line's every candidate warehouse) in id order. A later round's next-best warehouse may have a
lower id than a row taken in round 1, so without it two batches on two workers could each hold a row
the other wants next and deadlock (PostgreSQL aborts one; its requests would get a 500). With every row
held from the start and taken in one order, a batch that needs a row another holds waits for that whole
batch, and the rounds after it only touch rows it already holds. The conditional updates stay as the
guard against overselling; SQLite has one writer at a time and needs no lock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.orm import Session

from entrepot.inventory.domain import Candidate
from entrepot.inventory.models import Stock
from entrepot.platform.db import dialect_of

_STOCK = cast(Table, Stock.__table__)
_stock = _STOCK.c
# PostgreSQL: the rows and quantities travel as arrays, so the statements' text never changes. A locking
# SELECT with ORDER BY takes its row locks in that order (the sort runs before the locking).
_LOCK_ROWS = text("SELECT id FROM stock WHERE id = ANY(CAST(:ids AS BIGINT[])) ORDER BY id FOR UPDATE")
_RESERVE_ROWS = text(
    "UPDATE stock SET reserved = stock.reserved + asked.q"
    " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:qs AS INTEGER[])) AS asked(id, q)"
    " WHERE stock.id = asked.id AND stock.on_hand - stock.reserved >= asked.q"
    " RETURNING stock.id"
)
_RELEASE_ROWS = text(
    "UPDATE stock SET reserved = stock.reserved - given.q"
    " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:qs AS INTEGER[])) AS given(id, q)"
    " WHERE stock.id = given.id"
)
_SETTLE_ROWS = text(
    "UPDATE stock SET on_hand = stock.on_hand - settled.sold, reserved = stock.reserved - settled.q"
    " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:qs AS INTEGER[]), CAST(:sold AS INTEGER[]))"
    " AS settled(id, q, sold)"
    " WHERE stock.id = settled.id"
)
# SQLite (one writer at a time): a statement per row.
_RESERVE_ROW = (
    update(_STOCK)
    .where(_stock.id == bindparam("sid"), _stock.on_hand - _stock.reserved >= bindparam("q"))
    .values(reserved=_stock.reserved + bindparam("q"))
)
_RELEASE_ROW = (
    update(_STOCK).where(_stock.id == bindparam("sid")).values(reserved=_stock.reserved - bindparam("q"))
)
_SETTLE_ROW = (
    update(_STOCK)
    .where(_stock.id == bindparam("sid"))
    .values(on_hand=_stock.on_hand - bindparam("sold"), reserved=_stock.reserved - bindparam("q"))
)


@dataclass(frozen=True)
class LineAsk:
    ranked: list[Candidate]  # the warehouses able to serve the line, best first
    quantity: int


@dataclass
class Allocated:
    """A basket's allocation: where each line was reserved, or the first line that could not be."""

    taken: list[Candidate | None]
    failed_line: int | None = None

    @property
    def ok(self) -> bool:
        return self.failed_line is None


@dataclass
class _Line:
    basket: int
    line: int
    ask: LineAsk
    tried: int = 0  # index in ask.ranked of the warehouse asked now

    @property
    def candidate(self) -> Candidate:
        return self.ask.ranked[self.tried]


@dataclass
class _Round:
    """The stock rows asked for in one round, each with the lines asking."""

    lines: dict[int, list[_Line]] = field(default_factory=dict)

    def quantities(self) -> dict[int, int]:
        return {sid: sum(line.ask.quantity for line in lines) for sid, lines in self.lines.items()}


def reserve_baskets(session: Session, baskets: list[list[LineAsk]]) -> list[Allocated]:
    """Reserve every line of every basket (see the module's note); one outcome per basket, in order.
    A failed basket holds no stock when this returns."""
    done = [Allocated([None] * len(asks)) for asks in baskets]
    pending = [_Line(b, i, ask) for b, asks in enumerate(baskets) for i, ask in enumerate(asks)]
    for line in pending:
        if not line.ask.ranked:
            done[line.basket].failed_line = line.line
    contended: set[int] = set()
    pending = [line for line in pending if done[line.basket].ok]
    _lock_in_id_order(session, {c.stock_id for line in pending for c in line.ask.ranked})
    while pending:
        asked = _next_round(pending, contended)
        granted = _reserve_rows(session, asked.quantities())
        failed = _apply_round(asked, granted, contended, done)
        _give_back(session, [(done[b], baskets[b]) for b in failed])
        pending = [ln for ln in pending if done[ln.basket].ok and done[ln.basket].taken[ln.line] is None]
    return done


def _lock_in_id_order(session: Session, stock_ids: set[int]) -> None:
    """Hold every row the batch may take, locked in id order (the module's note says why)."""
    if stock_ids and dialect_of(session) == "postgresql":
        session.execute(_LOCK_ROWS, {"ids": sorted(stock_ids)})


def _next_round(pending: list[_Line], contended: set[int]) -> _Round:
    asked = _Round()
    for line in pending:
        sid = line.candidate.stock_id
        lines = asked.lines.setdefault(sid, [])
        if lines and sid in contended:
            continue  # one line at a time on a row whose lines did not all fit
        lines.append(line)
    return asked


def _apply_round(asked: _Round, granted: set[int], contended: set[int], done: list[Allocated]) -> list[int]:
    """Record what the round took; returns the baskets that failed in it."""
    failed = []
    for sid, lines in asked.lines.items():
        if sid in granted:
            for line in lines:
                done[line.basket].taken[line.line] = line.candidate
        elif len(lines) > 1:
            contended.add(sid)  # the same warehouse again, one line at a time
        else:
            [line] = lines
            line.tried += 1
            if line.tried == len(line.ask.ranked) and done[line.basket].ok:
                done[line.basket].failed_line = line.line
                failed.append(line.basket)
    return failed


def _give_back(session: Session, failed: list[tuple[Allocated, list[LineAsk]]]) -> None:
    """The units the lines of failed baskets hold go back to their rows."""
    held = []
    for allocated, asks in failed:
        held += [(c.stock_id, asks[i].quantity) for i, c in enumerate(allocated.taken) if c is not None]
        allocated.taken = [None] * len(asks)
    give_back(session, held)


def give_back(session: Session, held: list[tuple[int, int]]) -> None:
    """Units reserved in this transaction and not used after all, (stock id, quantity) each, go back to
    their rows in one statement (a batch's order refused after its lines were reserved)."""
    given: dict[int, int] = defaultdict(int)
    for stock_id, quantity in held:
        given[stock_id] += quantity
    if not given:
        return
    ids = sorted(given)
    if dialect_of(session) == "postgresql":
        session.execute(_RELEASE_ROWS, {"ids": ids, "qs": [given[sid] for sid in ids]})
        return
    session.execute(_RELEASE_ROW, [{"sid": sid, "q": given[sid]} for sid in ids])


def settle_units(session: Session, settled: dict[int, int], sold: bool) -> None:
    """Units of settled reservations, stock id -> quantity, leave their rows' reserved count and, when
    `sold`, their on-hand count too: one statement for a batch of payments (a statement per row was
    16,920 statements in 20 s of the checkout bench, pg_stat_statements). The rows are locked in id
    order first, as a placing batch locks them, so that a settling batch and a placing batch never each
    hold a row the other wants next (the UPDATE alone locks in whatever order its join runs)."""
    if not settled:
        return
    ids = sorted(settled)
    quantities = [settled[sid] for sid in ids]
    units_sold = [q if sold else 0 for q in quantities]
    if dialect_of(session) == "postgresql":
        _lock_in_id_order(session, set(ids))
        session.execute(_SETTLE_ROWS, {"ids": ids, "qs": quantities, "sold": units_sold})
        return
    rows = [{"sid": sid, "q": q, "sold": s} for sid, q, s in zip(ids, quantities, units_sold, strict=True)]
    session.execute(_SETTLE_ROW, rows)


def _reserve_rows(session: Session, quantities: dict[int, int]) -> set[int]:
    """Add each quantity to its row's reserved units where it is still available; the rows that took it."""
    ids = sorted(quantities)
    if dialect_of(session) == "postgresql":
        rows = session.execute(_RESERVE_ROWS, {"ids": ids, "qs": [quantities[sid] for sid in ids]})
        return set(rows.scalars())
    granted = set()
    for sid in ids:
        result = session.execute(_RESERVE_ROW, {"sid": sid, "q": quantities[sid]})
        if result.rowcount == 1:  # type: ignore[attr-defined]
            granted.add(sid)
    return granted
