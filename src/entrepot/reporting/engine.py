"""The report queries, written once in Ibis, run on DuckDB (embedded) or on Spark.

Every report follows one road: filter the facts to the period, compute each line's time bucket and the
key of the rate that translates it, apply each business unit's GMV definition, sum in the local currency
by (bucket, rate key, business unit, currency, asked dimensions), translate each such atom with its rate
(rounded half up to the target's minor unit), then roll the translated atoms up to the asked organisation
level under the chosen view. Translating before rolling up is what makes recast totals equal as-reported
totals to the cent: both views sum the same translated atoms, only grouped differently.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.reporting.domain import ORG_LEVELS, GmvDefinition

# Rates as decimal(28,10) and sums as decimal(28,0): DuckDB multiplies them exactly into decimal(38,10);
# Spark does too when told not to trade scale for precision (SPARK_CONF). Both then round half away from
# zero: identical results to the cent. (decimal(18,0) overflows DuckDB's 64-bit multiplication.)
RATE_TYPE = "decimal(28, 10)"
AMOUNT_TYPE = "decimal(28, 0)"
SPARK_CONF = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
}

# DuckDB would otherwise fetch extensions from the internet the first time a query needs one; Entrepot
# never downloads at run time, and Parquet, the only extension it uses, is built into the wheel.
NO_DOWNLOADS = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


PERFECT_HASH_BITS = 24


def duckdb_connect(
    threads: int | None = None,
    memory_limit: str | None = None,
    db_path: str = ":memory:",
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = dict(NO_DOWNLOADS)
    # Group keys are small integers (market ids, seller ids): let DuckDB aggregate them into an array
    # indexed by the keys' range (up to 2^24 slots) instead of hashing them.
    config["perfect_ht_threshold"] = PERFECT_HASH_BITS
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    return duckdb.connect(db_path, read_only=read_only, config=config)


def ibis_duckdb(
    threads: int | None = None, memory_limit: str | None = None, db_path: str = ":memory:"
) -> Any:
    read_only = db_path != ":memory:"
    return ibis.duckdb.from_connection(duckdb_connect(threads, memory_limit, db_path, read_only))


ENGINES = ("duckdb", "spark")
SPARK_MISSING = (
    "Spark reports need the optional spark extra, which is not installed: "
    "pip install 'entrepot[spark]' (Spark also needs Java 17 or 21), or ask for engine duckdb"
)


class SparkNotInstalled(DomainError):
    """A report asked of Spark where pyspark is not installed (it is an extra: `entrepot[spark]`)."""

    def __init__(self) -> None:
        super().__init__(SPARK_MISSING, [], {}, "spark-not-installed", 400, "Spark is not installed")


def ibis_spark(session: Any) -> Any:
    """Reports on Spark: a session configured with SPARK_CONF (see spark_session)."""
    return ibis.pyspark.connect(session)


def backend(name: str, session: Callable[[], Any] | None = None) -> Any | None:
    """The engine a report asks for by name: None for DuckDB (the snapshot opens its own), or Ibis on
    Spark (a local session unless `session` makes another). Spark is the optional extra: without it,
    SparkNotInstalled says how to install it, before anything is started."""
    if name == "duckdb":
        return None
    if name == "spark":
        return ibis_spark((session or spark_session)())
    raise ValidationFailed(
        f"unknown engine {name!r}", [FieldError("engine", f"one of {', '.join(ENGINES)}")], engine=name
    )


def spark_session(master: str = "local[2]") -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # the extra is not installed
        raise SparkNotInstalled() from None

    # Spark would otherwise leave a spark-warehouse folder wherever it is started.
    warehouse = tempfile.mkdtemp(prefix="entrepot-spark-")
    builder = SparkSession.builder.master(master).appName("entrepot-reports")
    builder = builder.config("spark.sql.warehouse.dir", warehouse)
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass(frozen=True)
class Lookups:
    """The small tables a report joins: each is computed in Python from the snapshot's dimensions and
    the kernel's FX rates, then handed to whichever backend runs the query."""

    rates: pa.Table  # currency, rate_key, factor (target minor units per source minor unit)
    markets: pa.Table  # market_id, business_unit, market, market_country, currency
    org_map: pa.Table | None  # business_unit, bucket, unit: the asked level under the view
    definitions: dict[str, GmvDefinition]  # business unit -> its GMV definition
    default_definition: GmvDefinition


@dataclass(frozen=True)
class QuerySpec:
    start: Any  # datetime.date
    end: Any
    grain: str  # day | month | quarter | year | total
    rate_grain: str  # day (transaction-date) or the bucket grain (period-average)
    fiscal_year_end_month: int
    dims: tuple[str, ...]  # asked dimensions; at most one organisation level


def bucket_expr(day: ir.DateValue, grain: str, year_end_month: int) -> ir.IntegerValue:
    """The integer key of a day's bucket; domain.bucket_key computes the same in Python."""
    year, month = day.year().cast("int64"), day.month().cast("int64")
    if grain == "day":
        return year * 10000 + month * 100 + day.day().cast("int64")
    if grain == "month":
        return year * 100 + month
    fiscal_year = year + (month > year_end_month).cast("int64")
    if grain == "quarter":
        return fiscal_year * 10 + ((month - year_end_month + 11) % 12) // 3 + 1
    if grain == "year":
        return fiscal_year
    return ibis.literal(0, "int64")


def gmv_value(t: ir.Table, definition: GmvDefinition) -> ir.IntegerValue:
    """One line's contribution to GMV under a definition (zero when its order does not count)."""
    if definition.include_tax and definition.include_shipping:
        value = t.gross_minor
    else:
        value = t.goods_minor + (t.goods_tax_minor if definition.include_tax else 0)
        if definition.include_shipping:
            value = value + t.shipping_minor + (t.shipping_tax_minor if definition.include_tax else 0)
    if definition.net_of_returns:
        value = value - t.returned_minor
    counted = counts(t, definition)
    return value if counted is None else ibis.ifelse(counted, value, 0)


def counts(t: ir.Table, definition: GmvDefinition) -> ir.BooleanValue | None:
    """Whether a line's order counts under a definition; None when every order does."""
    conditions = []
    if not definition.count_unpaid:
        conditions.append(t.paid)
    if not definition.count_cancelled:
        conditions.append(~t.cancelled)
    if not conditions:
        return None
    result = conditions[0]
    for condition in conditions[1:]:
        result = result & condition
    return result


def by_definition(t: ir.Table, lookups: Lookups, pick: Any) -> Any:
    """`pick(definition)` for each line, choosing its business unit's definition by the line's market
    (an integer test per line rather than a string one)."""
    unit_of = dict(
        zip(
            lookups.markets.column("market_id").to_pylist(),
            lookups.markets.column("business_unit").to_pylist(),
            strict=True,
        )
    )
    groups: dict[GmvDefinition, list[int]] = {}
    for market_id, unit in unit_of.items():
        definition = lookups.definitions.get(unit, lookups.default_definition)
        if definition != lookups.default_definition:
            groups.setdefault(definition, []).append(market_id)
    default = pick(lookups.default_definition)
    if not groups:
        return default
    cases = [(t.market_id.isin(ids), pick(d)) for d, ids in groups.items()]
    return ibis.cases(*cases, else_=default)


def definition_name(atoms: ir.Table, lookups: Lookups) -> ir.StringValue:
    groups: dict[GmvDefinition, list[str]] = {}
    for unit, definition in lookups.definitions.items():
        groups.setdefault(definition, []).append(unit)
    default = ibis.literal(lookups.default_definition.name)
    cases = [(atoms.business_unit.isin(units), ibis.literal(d.name)) for d, units in groups.items()]
    return ibis.cases(*cases, else_=default) if cases else default


def in_period(t: ir.Table, spec: QuerySpec) -> ir.Table:
    return t.filter(t.order_date >= spec.start, t.order_date <= spec.end)


def needs_day(spec: QuerySpec) -> bool:
    return spec.grain != "total" or spec.rate_grain != "total"


# Known from the market: never grouped line by line, joined onto the aggregate instead.
FROM_MARKET = ("market", "market_country")


def day_atoms(
    t: ir.Table,
    keys: list[str],
    measures: dict[str, Any],
    spec: QuerySpec,
    lookups: Lookups,
    own_currency: bool = False,
) -> ir.Table:
    """Sum the lines by day (only when buckets or rates need it), market and the asked dimensions, then
    name each sum's unit and currency from its market and key it by bucket and rate. The pass over every
    line is thereby a group-by on integers; strings and date arithmetic touch only the aggregate.
    `own_currency`: the rows carry their currency and business unit (fees: logistics bills in US dollars
    whatever the market; a local order's fee is the on-demand unit's, in the market's currency)."""
    day = ["order_date"] if needs_day(spec) else []
    own = ["currency", "business_unit"] if own_currency else []
    line_keys = [k for k in keys if k not in FROM_MARKET] + own
    atoms = t.group_by([*day, "market_id", *line_keys]).aggregate(**measures)
    markets = ibis.memtable(lookups.markets)
    if own_currency:
        markets = markets.drop(*own)
    atoms = atoms.join(markets, "market_id")
    if day:
        atoms = atoms.mutate(
            bucket=bucket_expr(atoms.order_date, spec.grain, spec.fiscal_year_end_month),
            rate_key=bucket_expr(atoms.order_date, spec.rate_grain, spec.fiscal_year_end_month),
        )
    else:
        zero = ibis.literal(0, "int64")
        atoms = atoms.mutate(bucket=zero, rate_key=zero)
    return atoms.select("bucket", "rate_key", "business_unit", "currency", *keys, *measures)


# Sellers are grouped by their internal id (an integer is cheap over 100 M rows) and named afterwards.
COLUMN = {"seller": "seller_id"}


def plain_dims(spec: QuerySpec) -> list[str]:
    return [COLUMN.get(d, d) for d in spec.dims if d not in ORG_LEVELS]


def org_level(spec: QuerySpec) -> str | None:
    return next((d for d in spec.dims if d in ORG_LEVELS), None)


def translate_and_roll(atoms: ir.Table, measures: list[str], spec: QuerySpec, lookups: Lookups) -> ir.Table:
    """Translate local-currency atoms with their rates, then roll up to the asked dimensions."""
    rates = ibis.memtable(lookups.rates)
    joined = atoms.join(rates, [atoms.currency == rates.currency, atoms.rate_key == rates.rate_key])
    factor = joined.factor.cast(RATE_TYPE)
    translated = joined.mutate(
        **{m: (joined[m].cast(AMOUNT_TYPE) * factor).round(0).cast("int64") for m in measures}
    )
    keys = ["bucket", *plain_dims(spec)]
    level = org_level(spec)
    if level is not None and lookups.org_map is not None:
        org = ibis.memtable(lookups.org_map)
        translated = translated.join(
            org,
            [translated.business_unit == org.business_unit, translated.bucket == org.bucket],
        ).mutate(**{level: org.unit})
        keys = ["bucket", level, *plain_dims(spec)]
    aggregates = {m: translated[m].sum() for m in measures}
    if "definition" in translated.columns:
        aggregates |= {"def_min": translated.definition.min(), "def_max": translated.definition.max()}
    return translated.group_by(keys).aggregate(**aggregates).order_by(keys)


def gmv(facts: ir.Table, spec: QuerySpec, lookups: Lookups) -> ir.Table:
    t = in_period(facts, spec)
    t = t.mutate(gmv_minor=by_definition(t, lookups, lambda d: gmv_value(t, d)))
    atoms = day_atoms(t, plain_dims(spec), {"gmv_minor": t.gmv_minor.sum()}, spec, lookups)
    atoms = atoms.mutate(definition=definition_name(atoms, lookups))
    return translate_and_roll(atoms, ["gmv_minor"], spec, lookups)


def revenue(facts: ir.Table, fees: ir.Table, spec: QuerySpec, lookups: Lookups) -> ir.Table:
    """Marketplace commission on paid orders that were not cancelled, the logistics fees billed for
    shipments (by the date of their order), and local services' delivery fees plus store commissions of
    on-demand orders delivered (by the day of delivery, in their market)."""
    dims = plain_dims(spec)
    lines = ["commission_minor", "logistics_minor", "local_services_minor"]
    f = in_period(facts, spec)
    f = f.filter(f.paid & ~f.cancelled)
    commission = day_atoms(f, dims, {"commission_minor": f.commission_minor.sum()}, spec, lookups)
    atoms = _with_zero(commission, lines)
    s = in_period(fees, spec)
    for line in ("logistics", "local_services"):
        of_line = s.filter(s.line == line)
        sums = {f"{line}_minor": of_line.fee_minor.sum()}
        fee_atoms = day_atoms(of_line, dims, sums, spec, lookups, own_currency=True)
        atoms = atoms.union(_with_zero(fee_atoms, lines).select(atoms.columns))
    return translate_and_roll(atoms, lines, spec, lookups)


def _with_zero(atoms: ir.Table, measures: list[str]) -> ir.Table:
    """The atoms with a 0 for each measure they do not sum (so lines' atoms union column for column)."""
    return atoms.mutate(**{m: ibis.literal(0, "int64") for m in measures if m not in atoms.columns})


def active_consumers(facts: ir.Table, spec: QuerySpec, lookups: Lookups, by_unit: bool) -> ir.Table:
    """Distinct buyers with at least one order that counts under its unit's definition, per business
    unit or for the whole group (de-duplicated across units)."""
    t = in_period(facts, spec)
    t = t.mutate(counted=by_definition(t, lookups, lambda d: _counted(t, d)))
    t = t.filter(t.counted)
    if by_unit:
        markets = ibis.memtable(lookups.markets).select("market_id", "business_unit")
        t = t.select("market_id", "buyer_id").join(markets, "market_id")
        return t.group_by("business_unit").aggregate(consumers=t.buyer_id.nunique()).order_by("business_unit")
    return t.aggregate(consumers=t.buyer_id.nunique())


def _counted(t: ir.Table, definition: GmvDefinition) -> ir.BooleanValue:
    condition = counts(t, definition)
    return ibis.literal(True) if condition is None else condition


def all_currencies(table: ir.Table) -> list[str]:
    return sorted(table.select("currency").distinct().to_pyarrow().column("currency").to_pylist())


def business_units(table: ir.Table) -> list[str]:
    return sorted(table.select("business_unit").distinct().to_pyarrow().column("business_unit").to_pylist())


def unit_days(*tables: ir.Table) -> dict[str, tuple[Any, Any]]:
    """Each business unit's first and last order day over the tables (facts, fees)."""
    spans: dict[str, tuple[Any, Any]] = {}
    for table in tables:
        grouped = table.group_by("business_unit").aggregate(
            first=table.order_date.min(), last=table.order_date.max()
        )
        for row in grouped.to_pyarrow().to_pylist():
            first, last = spans.get(row["business_unit"], (row["first"], row["last"]))
            spans[row["business_unit"]] = (min(first, row["first"]), max(last, row["last"]))
    return spans


def on_rates(table: ir.Table, spec: QuerySpec, rate_keys: pa.Table, id_column: str) -> dict[str, int]:
    """The rows of the period that one of these (currency, rate key) factors translates: how many, and
    how many distinct `id_column` (orders) they belong to."""
    t = in_period(table, spec)
    t = t.mutate(rate_key=bucket_expr(t.order_date, spec.rate_grain, spec.fiscal_year_end_month))
    keys = ibis.memtable(rate_keys)
    joined = t.join(keys, [t.currency == keys.currency, t.rate_key == keys.rate_key])
    counted = joined.aggregate(rows=joined.count(), ids=joined[id_column].nunique()).to_pyarrow()
    return {"rows": counted.column("rows")[0].as_py() or 0, "ids": counted.column("ids")[0].as_py() or 0}
