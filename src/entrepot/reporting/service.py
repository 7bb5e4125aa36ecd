"""Use cases of reporting: run a GMV, revenue, growth or active-consumer report over the snapshot, on
DuckDB or Spark, labelled with its definition, view, FX method and freshness."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from entrepot.kernel import periods
from entrepot.kernel.clock import Clock, system_clock, today
from entrepot.kernel.errors import NotFound
from entrepot.kernel.fx import FxRates, ManualRate
from entrepot.kernel.money import Money
from entrepot.kernel.periods import Period
from entrepot.organization import rates as stored_rates
from entrepot.organization import service as organization
from entrepot.platform.db import Database
from entrepot.reporting import coverage as report_coverage
from entrepot.reporting import engine
from entrepot.reporting.columns import MARKET_KEYS, looked_up
from entrepot.reporting.domain import (
    DEFAULT_DEFINITION,
    FX_METHODS,
    NO_COVERAGE,
    ORG_LEVELS,
    VIEWS,
    Bucket,
    Coverage,
    Edge,
    FiscalCalendar,
    GmvDefinition,
    ancestor_at,
    bad,
    buckets,
    check_choice,
    check_dimensions,
    check_grain,
    definition_named,
    growth_bridge,
    jointly,
    parse_period,
    prior_year,
    structure_date,
    year_earlier,
)
from entrepot.reporting.rates import (
    check_target,
    meets,
    period_average_factors,
    transaction_date_factors,
)
from entrepot.reporting.snapshot import MANIFEST, Manifest, duckdb_cache

ORG_MAP_SCHEMA = pa.schema([("business_unit", pa.string()), ("bucket", pa.int64()), ("unit", pa.string())])


@dataclass(frozen=True)
class ReportRequest:
    period: str
    by: tuple[str, ...] = ()
    grain: str = "total"
    view: str = "recast"
    recast_on: dt.date | None = None  # default: the day the snapshot was refreshed
    currency: str = "USD"
    fx_method: str = "transaction-date"
    engine: str = "duckdb"  # or spark (the optional extra): engine.backend


@dataclass
class Report:
    """`table` holds amounts as integer minor units (`*_minor`); `rows()` prints them in major units."""

    metric: str
    columns: list[str]
    table: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        currency = self.meta.get("currency", "USD")
        out = []
        for raw in self.table.to_pylist():
            out.append(
                {
                    c: _money(raw[f"{c}_minor"], currency) if f"{c}_minor" in raw else raw.get(c)
                    for c in self.columns
                }
            )
        return out


class Snapshot:
    """The snapshot folder opened for reading, with the engine that queries it."""

    def __init__(
        self,
        root: Path,
        backend: Any | None = None,
        threads: int | None = None,
        memory_limit: str | None = None,
        cache_name: str | None = None,
        clock: Clock = system_clock,
    ) -> None:
        """`cache_name`: read another of DuckDB's copies in the folder (the benchmark's baseline).
        `clock`: today's date for what depends on it (the default recast date of a snapshot without a
        refresh stamp, and the last day its data can cover)."""
        self.root = root
        self.clock = clock
        if not (root / "facts.parquet").exists():
            raise NotFound(f"no reporting snapshot in {root}: run `entrepot report snapshot` first")
        self.manifest = Manifest.load(root)
        # Which files these are, for remembering reports over them (reporting.sources): the manifest is
        # replaced whole by every refresh and compaction. None for another engine than our DuckDB.
        self.version = _version(root) if backend is None and cache_name is None else None
        cache = duckdb_cache(root) if backend is None else None
        if cache_name is not None:
            cache = root / cache_name
        if cache is not None:  # DuckDB on its own copy of the facts
            self.con = engine.ibis_duckdb(threads, memory_limit, str(cache))
            self.facts, self.fees = self.con.table("facts"), self.con.table("fees")
        else:
            self.con = backend if backend is not None else engine.ibis_duckdb(threads, memory_limit)
            self.facts = self.con.read_parquet(str(root / "facts.parquet"))
            self.fees = self.con.read_parquet(str(root / "fees.parquet"))
        markets = pq.read_table(root / "dims" / "markets.parquet")
        self.markets = pa.table(
            [markets.column(c) for c in ("market_id", "business_unit", "market", "country", "currency")],
            schema=MARKET_KEYS,
        )
        self.edges = [_edge(r) for r in _rows(root / "dims" / "memberships.parquet")]
        self.units = {r["code"]: r["kind"] for r in _rows(root / "dims" / "units.parquet")}
        self.sellers = {r["seller_id"]: r["seller"] for r in _rows(root / "dims" / "sellers.parquet")}

    @property
    def currency_days(self) -> dict[str, tuple[dt.date, dt.date]]:
        """Each currency's first and last day with an amount (empty for a snapshot written before)."""
        return {
            c: (dt.date.fromisoformat(first), dt.date.fromisoformat(last))
            for c, (first, last) in self.manifest.currency_days.items()
        }

    @property
    def currencies(self) -> list[str]:
        """The currencies of the facts, listed in the manifest when the snapshot was written."""
        return self.manifest.currencies or engine.all_currencies(self.facts)

    @property
    def refreshed_at(self) -> dt.datetime | None:
        stamp = self.manifest.refreshed_at
        return dt.datetime.fromisoformat(stamp) if stamp else None

    @cached_property
    def coverage(self) -> dict[str, Coverage]:
        """Each business unit's days with data: from its first order day to its last; the day of the
        refresh (today, for a snapshot without a refresh stamp) was still running."""
        spans = self.manifest.unit_days
        if spans is None:  # written before the manifest kept them
            days = engine.unit_days(self.facts, self.fees)
        else:
            days = {u: (dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for u, (a, b) in spans.items()}
        refreshed = self.refreshed_at
        before = refreshed.date() if refreshed else today(self.clock)
        return {unit: Coverage(first, last, before) for unit, (first, last) in days.items()}

    def coverage_of(self, units: Iterable[str]) -> Coverage:
        """The days every one of these business units covers (see domain.jointly)."""
        return jointly([self.coverage.get(u, NO_COVERAGE) for u in units])

    def units_under(self, scope: str) -> list[str]:
        """The business units that were ever under `scope` (itself, for a business unit)."""
        kind = self.units.get(scope)
        if kind in (None, "business_unit"):
            return [scope] if kind else []
        changes = {edge.valid_from for edge in self.edges}  # the tree only changes on these days
        return sorted(
            unit
            for unit, unit_kind in self.units.items()
            if unit_kind == "business_unit"
            and any(ancestor_at(self.edges, unit, kind, day) == scope for day in changes)
        )

    def freshness(self) -> dict[str, Any]:
        return {
            "refreshed_at": self.manifest.refreshed_at,
            "watermarks": self.manifest.watermarks,
            "source": self.manifest.source,
        }


def with_operator_rates(db: Database, fx: FxRates, snap: Snapshot) -> FxRates:
    """The kernel's rates plus the operator's for the snapshot's currencies the ECB does not publish."""
    with db.transaction() as session:
        stored_rates.sync_book(session, fx.book)  # ECB rates loaded since (entrepot fx load, the API)
        missing = [c for c in snap.currencies if c != "EUR" and c not in fx.ecb_currencies()]
        if not missing:
            return fx
        return fx.with_manual(_OPERATOR_RATES.read(session, db, missing))


class _RememberedOperatorRates:
    """The operator's rates of a few currencies, read again only when they changed: a demo holds two
    years of daily VND and SAR rates (thousands of rows), and every report page would read them all."""

    def __init__(self, size: int = 8) -> None:
        self._read: OrderedDict[Hashable, dict[str, list[ManualRate]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def read(self, session: Session, db: Database, currencies: list[str]) -> dict[str, list[ManualRate]]:
        key = (str(db.engine.url), tuple(currencies), organization.manual_rates_version(session, currencies))
        with self._lock:
            if key in self._read:
                self._read.move_to_end(key)
                return self._read[key]
        rates = {c: organization.manual_rates(session, c, dt.date.max, limit=100_000) for c in currencies}
        with self._lock:
            self._read[key] = rates
            while len(self._read) > self._size:
                self._read.popitem(last=False)
        return rates


_OPERATOR_RATES = _RememberedOperatorRates()


def _version(root: Path) -> tuple[Any, ...]:
    facts, manifest = (
        (root / "facts.parquet").stat(),
        (root / MANIFEST).stat() if (root / MANIFEST).exists() else None,
    )
    stamp = None if manifest is None else (manifest.st_ino, manifest.st_mtime_ns, manifest.st_size)
    return (str(root.resolve()), facts.st_ino, facts.st_mtime_ns, facts.st_size, stamp)


def _rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist() if path.exists() else []


def _edge(row: dict[str, Any]) -> Edge:
    return Edge(row["child"], row["parent"], row["parent_kind"], row["valid_from"], row["valid_to"])


@dataclass(frozen=True)
class Plan:
    """A request checked and resolved against the snapshot: dates, buckets and the engine's spec."""

    request: ReportRequest
    period: Period
    buckets: list[Bucket]
    spec: engine.QuerySpec
    recast_on: dt.date


def plan(snap: Snapshot, request: ReportRequest, fiscal: FiscalCalendar, fx: FxRates) -> Plan:
    period = parse_period(request.period, fiscal)
    check_grain(request.grain)
    check_choice("view", request.view, VIEWS)
    check_choice("fx_method", request.fx_method, FX_METHODS)
    check_dimensions(list(request.by))
    check_target(fx, request.currency)
    if sum(1 for d in request.by if d in ORG_LEVELS) > 1:
        raise bad("by", "cut by one organisation level at a time (group, segment, division or business unit)")
    refreshed = snap.refreshed_at
    recast_on = request.recast_on or (refreshed.date() if refreshed else today(snap.clock))
    rate_grain = "day" if request.fx_method == "transaction-date" else request.grain
    spec = engine.QuerySpec(
        period.start, period.last, request.grain, rate_grain, fiscal.year_end_month, request.by
    )
    return Plan(request, period, buckets(period, request.grain, fiscal), spec, recast_on)


def lookups(
    snap: Snapshot,
    p: Plan,
    fx: FxRates,
    definitions: dict[str, GmvDefinition],
    currencies: list[str],
    prior: Plan | None = None,
) -> engine.Lookups:
    """Rates for the currencies present, the organisation map of the view, the definitions by unit.
    `prior`: translate at the prior period's rates instead (constant currency)."""
    rates = _rates(fx, p, currencies, prior, snap.currency_days)
    default = definition_named(DEFAULT_DEFINITION)
    return engine.Lookups(rates, snap.markets, org_map(snap, p), definitions, default)


def _rates(
    fx: FxRates,
    p: Plan,
    currencies: list[str],
    prior: Plan | None,
    held: Mapping[str, tuple[dt.date, dt.date]] | None = None,
) -> pa.Table:
    """The factors of the plan's FX method. At the prior period's rates, the transaction-date method
    translates each day at the rate of the same day a year earlier (29 February at the 28th's), and the
    period-average method each bucket at the mean rate of the matching bucket of the prior period."""
    target = p.request.currency
    if p.request.fx_method == "transaction-date":
        rate_day = year_earlier if prior is not None else None
        return transaction_date_factors(fx, currencies, target, p.period.start, p.period.last, rate_day, held)
    if prior is None:
        return period_average_factors(fx, currencies, target, p.buckets, held)
    # only the currencies with amounts in this period need the prior period's rates
    needed = [c for c in currencies if meets(p.period.start, p.period.last, (held or {}).get(c))]
    rates = period_average_factors(fx, needed, target, prior.buckets)
    keys = {old.key: new.key for old, new in zip(prior.buckets, p.buckets, strict=True)}
    current_keys = pa.array([keys[k] for k in rates.column("rate_key").to_pylist()], pa.int64())
    return rates.set_column(1, "rate_key", current_keys)


def org_map(snap: Snapshot, p: Plan) -> pa.Table | None:
    level = engine.org_level(p.spec)
    if level is None:
        return None
    units = sorted(code for code, kind in snap.units.items() if kind == "business_unit")
    rows = [
        {
            "business_unit": unit,
            "bucket": bucket.key,
            "unit": unit
            if level == "business_unit"
            else ancestor_at(snap.edges, unit, level, structure_date(p.request.view, bucket, p.recast_on)),
        }
        for unit in units
        for bucket in p.buckets
    ]
    return pa.Table.from_pylist(rows, schema=ORG_MAP_SCHEMA)


def gmv_report(
    snap: Snapshot,
    request: ReportRequest,
    fiscal: FiscalCalendar,
    fx: FxRates,
    definitions: dict[str, GmvDefinition],
) -> Report:
    p = plan(snap, request, fiscal, fx)
    look = lookups(snap, p, fx, definitions, snap.currencies)
    table = engine.gmv(snap.facts, p.spec, look).to_pyarrow()
    same = pc.equal(table.column("def_min"), table.column("def_max"))
    label = pc.if_else(same, table.column("def_min"), pa.scalar("mixed"))
    table = _named(snap, p, table.append_column("definition", label), ["gmv_minor", "definition"])
    columns = _columns(p, ["gmv", "definition", "coverage"])
    meta = _meta(snap, p, definitions, "gmv") | {
        "provisional_fx": report_coverage.provisional_fx(snap, p, look.rates, fx)
    }
    return Report("gmv", columns, table, meta)


def revenue_report(snap: Snapshot, request: ReportRequest, fiscal: FiscalCalendar, fx: FxRates) -> Report:
    if any(d in ("category", "buyer_country") for d in request.by):
        raise bad("by", "revenue is cut by organisation, market or seller; fees have no category or buyer")
    p = plan(snap, request, fiscal, fx)
    currencies = sorted(set(snap.currencies) | {"USD"})
    look = lookups(snap, p, fx, {}, currencies)
    table = engine.revenue(snap.facts, snap.fees, p.spec, look).to_pyarrow()
    total = pc.add(
        pc.add(table.column("commission_minor"), table.column("logistics_minor")),
        table.column("local_services_minor"),
    )
    table = table.append_column("total_minor", total)
    table = _named(
        snap, p, table, ["commission_minor", "logistics_minor", "local_services_minor", "total_minor"]
    )
    meta = _meta(snap, p, {}, "revenue")
    meta["provisional_fx"] = report_coverage.provisional_fx(snap, p, look.rates, fx, with_fees=True)
    columns = _columns(p, ["commission", "logistics", "local_services", "total", "coverage"])
    return Report("revenue", columns, table, meta)


def growth_report(
    snap: Snapshot,
    request: ReportRequest,
    fiscal: FiscalCalendar,
    fx: FxRates,
    definitions: dict[str, GmvDefinition],
) -> Report:
    """Year-on-year GMV growth with its bridge: reported = constant currency + FX effect. Both periods are
    translated by the request's FX method; constant currency restates the current period at the prior
    period's rates (period-average: the prior period's mean; transaction-date: the same day a year
    earlier). Current and prior equal the GMV reports of those periods under the same method."""
    request = replace(request, grain="total")
    current = plan(snap, request, fiscal, fx)
    prior_period = prior_year(current.period, fiscal)
    prior = plan(snap, replace(request, period=prior_period.label), fiscal, fx)
    currencies = snap.currencies
    totals, coverage, provisional = {}, {}, {}
    for name, p, at_rates_of in (
        ("current", current, None),
        ("prior", prior, None),
        ("constant", current, prior),
    ):
        look = lookups(snap, p, fx, definitions, currencies, at_rates_of)
        table = engine.gmv(snap.facts, p.spec, look).to_pyarrow()
        provisional[name] = report_coverage.provisional_fx(snap, p, look.rates, fx)
        keys = [engine.COLUMN.get(d, d) for d in request.by]
        row_keys = [tuple(r[k] for k in keys) for r in table.to_pylist()]
        totals[name] = dict(zip(row_keys, table.column("gmv_minor").to_pylist(), strict=True))
        if at_rates_of is None:
            labels = report_coverage.row_labels(snap, p, table, org_map(snap, p)).to_pylist()
            coverage[name] = dict(zip(row_keys, labels, strict=True))
    # a key without sales in a period is labelled with the coverage of every unit together
    everywhere = {
        name: report_coverage.coverage_meta(snap, p.period)["label"]
        for name, p in (("current", current), ("prior", prior))
    }
    rows = [
        _growth_row(snap, request, key, totals, coverage, everywhere)
        for key in sorted(set(totals["current"]) | set(totals["prior"]), key=str)
    ]
    meta = _meta(snap, current, definitions, "gmv")
    meta |= {
        "prior_period": prior_period.label,
        "prior_coverage": report_coverage.coverage_meta(snap, prior.period),
        "provisional_fx": provisional["current"],
        "prior_provisional_fx": provisional["prior"],
        "constant_currency_provisional_fx": provisional["constant"],
        "fx_method": f"{request.fx_method} ({CONSTANT[request.fx_method]})",
    }
    columns = [
        *request.by,
        "prior",
        "current",
        "current_at_prior_rates",
        "reported_growth_pct",
        "constant_currency_growth_pct",
        "fx_effect_pct",
        "coverage",
        "prior_coverage",
    ]
    return Report("gmv-growth", columns, pa.Table.from_pylist(rows), meta)


CONSTANT = {
    "transaction-date": "constant currency: each day at the rate of the same day a year earlier",
    "period-average": "constant currency: at the prior period's average rates",
}


def _growth_row(
    snap: Snapshot,
    request: ReportRequest,
    key: tuple[Any, ...],
    totals: dict[str, dict[tuple[Any, ...], int]],
    coverage: dict[str, dict[tuple[Any, ...], str]],
    everywhere: dict[str, str],
) -> dict[str, Any]:
    now, before, constant = (totals[n].get(key, 0) for n in ("current", "prior", "constant"))
    current_label, prior_label = (coverage[n].get(key, everywhere[n]) for n in ("current", "prior"))
    bridge = growth_bridge(before, now, constant)
    printed = [str(v) for v in bridge.printed] if bridge else [None, None, None]
    named = {d: snap.sellers.get(v, v) if d == "seller" else v for d, v in zip(request.by, key, strict=True)}
    return {
        **named,
        "prior_minor": before,
        "current_minor": now,
        "current_at_prior_rates_minor": constant,
        "reported_growth_pct": printed[0],
        "constant_currency_growth_pct": printed[1],
        "fx_effect_pct": printed[2],
        "coverage": current_label,
        "prior_coverage": prior_label,
    }


def active_consumers_report(
    snap: Snapshot, period: str, fiscal: FiscalCalendar, definitions: dict[str, GmvDefinition]
) -> Report:
    window = parse_period(period, fiscal)
    if window.kind not in (periods.LTM, periods.FISCAL_YEAR):
        raise bad("period", "annual active consumers need a twelve-month window: LTM2021-09 or FY2022")
    spec = engine.QuerySpec(window.start, window.last, "total", "total", fiscal.year_end_month, ())
    look = engine.Lookups(pa.table({}), snap.markets, None, definitions, definition_named(DEFAULT_DEFINITION))
    by_unit = engine.active_consumers(snap.facts, spec, look, by_unit=True).to_pyarrow().to_pylist()
    group = engine.active_consumers(snap.facts, spec, look, by_unit=False).to_pyarrow().to_pylist()
    covered = report_coverage.coverage_meta(snap, window)
    rows = [
        {
            "unit": r["business_unit"],
            "consumers": r["consumers"],
            "coverage": covered["units"].get(r["business_unit"], covered["label"]),
        }
        for r in by_unit
    ]
    rows.append(
        {
            "unit": "group (de-duplicated)",
            "consumers": group[0]["consumers"] if group else 0,
            "coverage": covered["label"],
        }
    )
    meta = {
        "period": window.label,
        "from": window.start.isoformat(),
        "to": window.last.isoformat(),
        "definition": "accounts with at least one order counted by its unit's GMV definition",
        "coverage": covered,
        "data_freshness": snap.freshness(),
    }
    columns = ["unit", "consumers", "coverage"]
    return Report("active-consumers", columns, pa.Table.from_pylist(rows), meta)


def _columns(p: Plan, measures: list[str]) -> list[str]:
    return ["period", *p.request.by, *measures]


def _named(snap: Snapshot, p: Plan, table: pa.Table, measures: list[str]) -> pa.Table:
    """The engine's result with bucket keys as period labels and sellers by their public id (looked up
    column-wise: a report per seller has a row for each of 100,000 sellers)."""
    labels = {b.key: b.label for b in p.buckets}
    columns = {"period": looked_up(table.column("bucket"), labels)}
    for dim in p.request.by:
        values = table.column(engine.COLUMN.get(dim, dim))
        columns[dim] = looked_up(values, snap.sellers) if dim == "seller" else values
    coverage = report_coverage.row_labels(snap, p, table, org_map(snap, p))
    return pa.table({**columns, **{m: table.column(m) for m in measures}, "coverage": coverage})


def _money(minor: int, currency: str) -> str:
    return f"{Money(int(minor), currency).to_decimal():f}"


def _meta(snap: Snapshot, p: Plan, definitions: dict[str, GmvDefinition], metric: str) -> dict[str, Any]:
    request = p.request
    meta: dict[str, Any] = {
        "period": p.period.label,
        "from": p.period.start.isoformat(),
        "to": p.period.last.isoformat(),
        "grain": request.grain,
        "currency": request.currency,
        "fx_method": request.fx_method,
        "view": request.view if engine.org_level(p.spec) else f"{request.view} (no organisation level asked)",
        "coverage": report_coverage.coverage_meta(snap, p.period),
        "data_freshness": snap.freshness(),
    }
    if request.view == "recast":
        meta["recast_structure_on"] = p.recast_on.isoformat()
    if metric == "gmv":
        default = definition_named(DEFAULT_DEFINITION)
        units = sorted(c for c, k in snap.units.items() if k == "business_unit")
        meta["definitions"] = {u: definitions.get(u, default).describe() for u in units}
    return meta
