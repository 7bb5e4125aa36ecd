"""What every report reads, opened one way for the API, the console and the CLI, and the reports
remembered between requests.

A report over the snapshot is a pure function of the snapshot's files, the request, the fiscal calendar,
the rates, the GMV definitions and (for a snapshot without a refresh stamp) today's date. Building one
costs DuckDB little but Ibis a lot (about a tenth of a second to compile each query on this machine's
two cores), and the console's reporting page asks for seven. So the entry points ask `REPORTS`, which
keeps the last reports asked for under all of those inputs: a refresh, a rate loaded or a definition
changed gives a new key, never a stale answer. The benchmarks call the service directly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entrepot.kernel.clock import Clock
from entrepot.kernel.errors import NotFound
from entrepot.kernel.fx import FxRates
from entrepot.kernel.periods import FiscalCalendar
from entrepot.platform.db import Database
from entrepot.platform.deps import AppContext
from entrepot.reporting import engine, history, plans, service
from entrepot.reporting.domain import GmvDefinition, definition_named
from entrepot.reporting.service import Report, ReportRequest, Snapshot

REMEMBERED_REPORTS = 256  # a few pages' worth for each of a handful of periods and currencies


@dataclass(frozen=True)
class Sources:
    """The snapshot with the rates it needs (the ECB's and the operator's), the units' GMV
    definitions and the group's fiscal calendar."""

    snap: Snapshot
    rates: FxRates
    definitions: dict[str, GmvDefinition]
    fiscal: FiscalCalendar


def definitions(db: Database) -> dict[str, GmvDefinition]:
    with db.transaction() as session:
        return {unit: definition_named(name) for unit, name in plans.definitions(session).items()}


def open_sources(
    db: Database,
    fx: FxRates,
    root: Path,
    fiscal: FiscalCalendar,
    clock: Clock,
    backend: Any | None = None,
) -> Sources:
    """Raises NotFound when no snapshot has been written yet (`entrepot report snapshot`)."""
    snap = Snapshot(root, backend, clock=clock)
    return Sources(snap, service.with_operator_rates(db, fx, snap), definitions(db), fiscal)


def of_app(ctx: AppContext, engine_name: str = "duckdb") -> Sources:
    """What the application's reports read, queried by the engine asked for (Spark only with the spark
    extra: a 400 without); NotFound without a snapshot."""
    root, fiscal = (
        Path(ctx.settings.reporting_snapshot_dir),
        FiscalCalendar(ctx.settings.fiscal_year_end_month),
    )
    return open_sources(ctx.db, ctx.fx, root, fiscal, ctx.clock, engine.backend(engine_name))


def platform_figures(ctx: AppContext) -> history.PlatformFigures | None:
    """The platform's own figures, when there is a snapshot to take them from."""
    try:
        s = of_app(ctx)
    except NotFound:
        return None
    return history.PlatformFigures(s.snap, s.fiscal, s.rates, s.definitions)


class RememberedReports:
    """The last reports asked for, by everything they were computed from (least recently used out)."""

    def __init__(self, size: int = REMEMBERED_REPORTS) -> None:
        self._size = size
        self._reports: OrderedDict[Hashable, Report] = OrderedDict()
        self._lock = threading.Lock()

    def gmv(self, sources: Sources, request: ReportRequest) -> Report:
        s = sources
        return self._remembered(
            "gmv", s, request, lambda: service.gmv_report(s.snap, request, s.fiscal, s.rates, s.definitions)
        )

    def growth(self, sources: Sources, request: ReportRequest) -> Report:
        s = sources
        return self._remembered(
            "growth",
            s,
            request,
            lambda: service.growth_report(s.snap, request, s.fiscal, s.rates, s.definitions),
        )

    def revenue(self, sources: Sources, request: ReportRequest) -> Report:
        s = sources
        return self._remembered(
            "revenue", s, request, lambda: service.revenue_report(s.snap, request, s.fiscal, s.rates)
        )

    def _remembered(
        self, kind: str, sources: Sources, request: ReportRequest, compute: Callable[[], Report]
    ) -> Report:
        key = _key(kind, sources, request)
        if key is None:  # another engine than the snapshot's own DuckDB: asked afresh each time
            return compute()
        with self._lock:
            if key in self._reports:
                self._reports.move_to_end(key)
                return self._reports[key]
        # computed outside the lock: two callers asking the same at once both compute, neither waits
        report = compute()
        with self._lock:
            self._reports[key] = report
            while len(self._reports) > self._size:
                self._reports.popitem(last=False)
        return report


def _key(kind: str, sources: Sources, request: ReportRequest) -> Hashable | None:
    snap = sources.snap
    if snap.version is None:
        return None
    return (
        kind,
        snap.version,
        snap.clock().date(),
        request,
        sources.fiscal,
        sources.rates.fingerprint(),
        tuple(sorted(sources.definitions.items())),
    )


REPORTS = RememberedReports()
