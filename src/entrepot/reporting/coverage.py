"""What a report says about its own figures: how much of each period the data covers (every business
unit together, each unit, each row), and how many amounts took a provisional FX rate. A period the data
covers in part is labelled so wherever the report goes (CLI, API, exports); see domain.Coverage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from entrepot.kernel.fx import FxRates
from entrepot.kernel.periods import Period
from entrepot.reporting import engine
from entrepot.reporting.columns import looked_up

if TYPE_CHECKING:  # the service imports this module
    from entrepot.reporting.service import Plan, Snapshot


def row_labels(snap: Snapshot, p: Plan, table: pa.Table, org: pa.Table | None) -> pa.Array:
    """Each row's coverage label: how much of its bucket the data of the business units summed in it
    covers (those under its organisation unit in `org`, the report's organisation map, or its market's
    unit; else every unit)."""
    periods = {b.key: b.period for b in p.buckets}
    column = engine.org_level(p.spec) or ("market" if "market" in p.request.by else None)
    if column is None:  # one label per bucket (a report per seller has 100,000 rows a bucket)
        every = snap.coverage_of(snap.coverage)
        labels = {key: every.of(period).label() for key, period in periods.items()}
        return looked_up(table.column("bucket"), labels)
    units_of = _units_by_key(snap, p, org)
    found: dict[tuple[int, Any], str] = {}
    out = []
    for bucket, key in zip(table.column("bucket").to_pylist(), table.column(column).to_pylist(), strict=True):
        if (bucket, key) not in found:
            units = units_of.get((bucket, key), list(snap.coverage))
            found[(bucket, key)] = snap.coverage_of(units).of(periods[bucket]).label()
        out.append(found[(bucket, key)])
    return pa.array(out, pa.string())


def _units_by_key(snap: Snapshot, p: Plan, org: pa.Table | None) -> dict[tuple[int, Any], list[str]]:
    """(bucket, organisation unit or market) -> the business units summed under it."""
    found: dict[tuple[int, Any], list[str]] = {}
    if org is not None:
        for row in org.to_pylist():
            found.setdefault((row["bucket"], row["unit"]), []).append(row["business_unit"])
        return found
    markets = snap.markets.to_pylist()
    return {(b.key, m["market"]): [m["business_unit"]] for b in p.buckets for m in markets}


def provisional_fx(
    snap: Snapshot, p: Plan, rates: pa.Table, fx: FxRates, with_fees: bool = False
) -> dict[str, Any]:
    """How many of the report's amounts were translated at a provisional rate: older than the staleness
    limit on their day (the newest rate held then), to be re-stated when a rate for the day is loaded.
    Counted as order lines and their orders (and, with fees, shipments); no query when none is."""
    flagged = rates.filter(pc.field("provisional")).select(["currency", "rate_key"])
    counts: dict[str, Any] = {"orders": 0, "lines": 0}
    if with_fees:
        counts["shipments"] = 0
    if flagged.num_rows:
        lines = engine.on_rates(snap.facts, p.spec, flagged, "order_id")
        counts |= {"orders": lines["ids"], "lines": lines["rows"]}
        if with_fees:
            counts["shipments"] = engine.on_rates(snap.fees, p.spec, flagged, "shipment_id")["rows"]
    counts["rule"] = (
        f"a rate older than {fx.max_staleness_days} days on an amount's day (the newest held) is "
        "provisional; the report changes when a rate for that day is loaded"
    )
    return counts


def coverage_meta(snap: Snapshot, period: Period) -> dict[str, Any]:
    """How much of the period the data covers, for every business unit together and for each."""
    together = snap.coverage_of(snap.coverage).of(period)
    return {
        **together.as_dict(),
        "label": together.label(),
        "units": {unit: c.of(period).label() for unit, c in sorted(snap.coverage.items())},
    }
