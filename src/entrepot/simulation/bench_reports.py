"""`entrepot bench reports`: the two heavy reports over a synthetic snapshot, against pandas.

GMV by segment x fiscal quarter, recast, translated to USD at transaction-date rates, over FY2022; and LTM
GMV per seller (LTM2022-03) at period-average rates. Each is timed end to end through the service (rates,
organisation map, the DuckDB query, the Arrow result), best of three. pandas runs the first report at the
same number of rows when that is at most 10 M, else on a 10 M-row snapshot against DuckDB on the same
10 M rows; its totals must equal ours to the cent or the benchmark fails. Peak memory is the process's
maximum resident set.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from entrepot.kernel.fx import FxRates, load_ecb
from entrepot.reporting import service
from entrepot.reporting.domain import FiscalCalendar, ancestor_at, bucket_key, buckets, parse_period
from entrepot.reporting.rates import transaction_date_factors
from entrepot.reporting.snapshot import BY_DATE_CACHE, build_duckdb_cache
from entrepot.simulation import synthetic_snapshot as synthetic

PANDAS_MAX_ROWS = 10_000_000
SEGMENT_FQ = service.ReportRequest(
    "FY2022", ("segment",), "quarter", "recast", None, "USD", "transaction-date"
)
LTM_SELLER = service.ReportRequest(
    "LTM2022-03", ("seller",), "total", "recast", None, "USD", "period-average"
)


def best_of(times: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(times):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(
    console: Console, rows: int, folder: Path, memory_limit: str, threads: int, by_date_baseline: bool = False
) -> None:
    fx, fiscal = FxRates(load_ecb(None), 45), FiscalCalendar(3)
    root = folder / f"rows-{rows}"
    started = time.perf_counter()
    made = synthetic.ensure(root, rows)
    console.print(
        f"snapshot {root}: {'written' if made else 'reused'} in {time.perf_counter() - started:.1f} s"
    )
    snap = service.Snapshot(root, threads=threads, memory_limit=memory_limit)
    fq_s, fq = best_of(3, lambda: service.gmv_report(snap, SEGMENT_FQ, fiscal, fx, {}))
    console.print(f"GMV segment x fiscal quarter, recast: {fq_s:.3f} s, {fq.table.num_rows} rows")
    ltm_s, ltm = best_of(3, lambda: service.gmv_report(snap, LTM_SELLER, fiscal, fx, {}))
    console.print(f"LTM GMV per seller: {ltm_s:.3f} s, {ltm.table.num_rows} sellers")

    small_rows = min(rows, PANDAS_MAX_ROWS)
    small = root if small_rows == rows else folder / f"rows-{small_rows}"
    synthetic.ensure(small, small_rows)
    small_snap = (
        snap if small == root else service.Snapshot(small, threads=threads, memory_limit=memory_limit)
    )
    ours_s, ours = best_of(3, lambda: service.gmv_report(small_snap, SEGMENT_FQ, fiscal, fx, {}))
    pandas_s, theirs = best_of(1, lambda: pandas_segment_fq(small, fx, fiscal, small_snap))
    mine = {(r["period"], r["segment"]): r["gmv_minor"] for r in ours.table.to_pylist()}
    if mine != theirs:
        raise SystemExit(f"pandas and DuckDB disagree at {small_rows} rows: {mine} != {theirs}")
    console.print(f"at {small_rows} rows: ours {ours_s:.3f} s, pandas {pandas_s:.3f} s (same totals)")
    layout = compare_layouts(console, root, fiscal, fx, threads, memory_limit) if by_date_baseline else ""
    # Other work on a shared machine slows every figure: say how busy it was.
    console.print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(
        f"reports rows={rows} gmv_fq_recast_s={fq_s:.3f} ltm_seller_s={ltm_s:.3f} peak_gb={peak_gb:.2f}"
        f" pandas_ratio={pandas_s / ours_s:.1f}{layout}"
    )


def compare_layouts(
    console: Console, root: Path, fiscal: FiscalCalendar, fx: FxRates, threads: int, memory_limit: str
) -> str:
    """Both reports on DuckDB's sorted copy and on a copy in the Parquet's day order, taking turns in the
    same run (best of three each); the results must be equal. Returns the summary line's extra keys."""
    if not (root / BY_DATE_CACHE).exists():
        console.print(f"writing the day-ordered baseline copy {root / BY_DATE_CACHE} ...")
        build_duckdb_cache(root, BY_DATE_CACHE, order=None)
    snaps = {
        "by_date": service.Snapshot(
            root, threads=threads, memory_limit=memory_limit, cache_name=BY_DATE_CACHE
        ),
        "sorted": service.Snapshot(root, threads=threads, memory_limit=memory_limit),
    }
    best: dict[tuple[str, str], float] = {}
    by_date: dict[str, pa.Table] = {}
    for _ in range(3):
        for layout, snap in snaps.items():
            for name, request in (("fq", SEGMENT_FQ), ("ltm", LTM_SELLER)):
                started = time.perf_counter()
                table = service.gmv_report(snap, request, fiscal, fx, {}).table
                seconds = time.perf_counter() - started
                best[(layout, name)] = min(best.get((layout, name), seconds), seconds)
                if layout == "by_date":
                    by_date[name] = table
                elif not table.equals(by_date[name]):
                    raise SystemExit(f"the two layouts disagree on {name}")
    for name in ("fq", "ltm"):
        console.print(
            f"{name}: day order {best[('by_date', name)]:.3f} s, sorted {best[('sorted', name)]:.3f} s"
        )
    return "".join(
        f" {name}_by_date_s={best[('by_date', name)]:.3f} {name}_sorted_s={best[('sorted', name)]:.3f}"
        for name in ("fq", "ltm")
    )


def pandas_segment_fq(
    root: Path, fx: FxRates, fiscal: FiscalCalendar, snap: service.Snapshot
) -> dict[tuple[str, str], int]:
    """The same report written directly in pandas: filter, bucket, sum per atom, translate, recast."""
    period = parse_period("FY2022", fiscal)
    columns = ["order_date", "business_unit", "currency", "gross_minor"]
    table = pq.read_table(root / "facts.parquet", columns=columns)
    # Dates as datetime64 and strings as categories: pandas at its best, not on Python objects.
    table = table.set_column(0, "order_date", table.column("order_date").cast(pa.timestamp("s")))
    frame = table.to_pandas(strings_to_categorical=True)
    dates = frame["order_date"]
    frame = frame[(dates >= pd.Timestamp(period.start)) & (dates <= pd.Timestamp(period.last))]
    dates = frame["order_date"]
    year, month = dates.dt.year, dates.dt.month
    fiscal_year = year + (month > fiscal.year_end_month)
    quarter = (month - fiscal.year_end_month + 11) % 12 // 3 + 1
    frame = frame.assign(
        bucket=fiscal_year * 10 + quarter, rate_key=year * 10000 + month * 100 + dates.dt.day
    )
    atoms = frame.groupby(["bucket", "rate_key", "business_unit", "currency"], observed=True)[
        "gross_minor"
    ].sum()
    atoms = atoms.reset_index()
    rates = transaction_date_factors(fx, snap.currencies, "USD", period.start, period.last).to_pandas()
    atoms = atoms.merge(rates, on=["currency", "rate_key"])
    # Decimal arithmetic per atom, rounded half up, as the engine does.
    atoms["usd"] = [
        int((int(a) * f).quantize(1, rounding="ROUND_HALF_UP"))
        for a, f in zip(atoms["gross_minor"], atoms["factor"], strict=True)
    ]
    recast_on = dt.date.fromisoformat(snap.manifest.refreshed_at[:10]) if snap.manifest.refreshed_at else None
    assert recast_on is not None
    segments = {u: ancestor_at(snap.edges, u, "segment", recast_on) for u in atoms["business_unit"].unique()}
    atoms["segment"] = atoms["business_unit"].map(segments)
    labels = {b.key: b.label for b in buckets(period, "quarter", fiscal)}
    result = atoms.groupby(["bucket", "segment"])["usd"].sum()
    assert bucket_key(period.start, "quarter", fiscal) in labels
    return {(labels[b], s): int(v) for (b, s), v in result.items()}
