"""A seeded synthetic snapshot for benchmarks: order lines over FY2022 (April 2021 to March 2022, across
the Dec-2021 reorganisation) in the demo group's marketplaces and currencies, with the demo's organisation
history, written in the snapshot's own layout so that the reports read it unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from entrepot.reporting.columns import FACTS, FEES, MEMBERSHIPS, SELLERS, UNITS
from entrepot.reporting.columns import MARKETS as MARKETS_SCHEMA
from entrepot.reporting.snapshot import CACHE, Manifest, build_duckdb_cache, days_by
from entrepot.simulation import scenario

START = dt.date(2021, 4, 1)
DAYS = 365
CHUNK = 4_000_000
VERSION = "generator 2"
# (business unit, market, country, currency): the currencies the ECB publishes, so no operator rates needed
MARKETS = [
    ("taobao", "taobao-cn", "CN", "CNY"),
    ("tmall", "tmall-cn", "CN", "CNY"),
    ("lazada", "lazada-sg", "SG", "SGD"),
    ("lazada", "lazada-my", "MY", "MYR"),
    ("lazada", "lazada-th", "TH", "THB"),
    ("lazada", "lazada-id", "ID", "IDR"),
    ("lazada", "lazada-ph", "PH", "PHP"),
    ("aliexpress", "aliexpress-us", "US", "USD"),
    ("aliexpress", "aliexpress-es", "ES", "EUR"),
]
MARKET_WEIGHTS = np.array([30, 30, 5, 5, 5, 5, 5, 8, 7], dtype=float)
CATEGORIES = ["electronics", "fashion", "home", "beauty", "toys", "sports", "grocery", "books"]
SELLERS_N, BUYERS_N = 100_000, 5_000_000
SELLER_MARKET = np.random.default_rng(3).choice(
    len(MARKETS), SELLERS_N + 1, p=MARKET_WEIGHTS / MARKET_WEIGHTS.sum()
)


def ensure(root: Path, rows: int, seed: int = 7) -> bool:
    """Write the snapshot unless one with this many rows is there already; True when it was written."""
    facts = root / "facts.parquet"
    if facts.exists() and pq.ParquetFile(facts).metadata.num_rows == rows and _current(root):
        if not (root / CACHE).exists():
            build_duckdb_cache(root)
        return False
    root.mkdir(parents=True, exist_ok=True)
    _write_dimensions(root)
    _write_facts(root, rows, np.random.default_rng(seed))
    pq.write_table(FEES.empty_table(), root / "fees.parquet")
    build_duckdb_cache(root)
    Manifest(
        watermarks={},
        parts={},
        refreshed_at=f"{START + dt.timedelta(days=DAYS)}T00:00:00+00:00",
        source=f"synthetic (seed {seed}, {rows} rows, {VERSION})",
        currencies=sorted({m[3] for m in MARKETS}),
        # each unit's first and last day, so reports need not scan the facts for their coverage
        unit_days=days_by("business_unit", pq.read_table(facts, columns=["business_unit", "order_date"])),
    ).save(root)
    return True


def _current(root: Path) -> bool:
    """Written by this version of the generator (the manifest names it)."""
    return VERSION in Manifest.load(root).source


def _write_dimensions(root: Path) -> None:
    units = [scenario.GROUP, *scenario.BEFORE, *scenario.AFTER_UNITS]
    kinds = {code: kind for kind, code, _, _ in units}
    edges = [
        {
            "child": code,
            "child_kind": kind,
            "parent": parent,
            "parent_kind": kinds[parent] if parent else None,
            "valid_from": scenario.HISTORY_START
            if (kind, code, name, parent) in scenario.BEFORE
            else scenario.REORGANISATION,
            "valid_to": None,
        }
        for kind, code, name, parent in units[1:]
    ]
    moved = dict(scenario.MOVES)
    for edge in edges:
        if edge["child"] in moved and edge["valid_from"] == scenario.HISTORY_START:
            edge["valid_to"] = scenario.REORGANISATION
    edges += [
        {
            "child": c,
            "child_kind": "business_unit",
            "parent": p,
            "parent_kind": "division",
            "valid_from": scenario.REORGANISATION,
            "valid_to": None,
        }
        for c, p in scenario.MOVES
    ]
    dims = root / "dims"
    dims.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(edges, schema=MEMBERSHIPS), dims / "memberships.parquet")
    unit_rows = [{"code": code, "kind": kind, "name": name} for kind, code, name, _ in units]
    pq.write_table(pa.Table.from_pylist(unit_rows, schema=UNITS), dims / "units.parquet")
    pq.write_table(SELLERS.empty_table(), dims / "sellers.parquet")
    markets = [
        {
            "market_id": i + 1,
            "market": m[1],
            "business_unit": m[0],
            "country": m[2],
            "currency": m[3],
            "prices_include_tax": True,
        }
        for i, m in enumerate(MARKETS)
    ]
    pq.write_table(pa.Table.from_pylist(markets, schema=MARKETS_SCHEMA), dims / "markets.parquet")


def _dictionary(indices: np.ndarray, values: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values)).cast(pa.string())


def _write_facts(root: Path, rows: int, rng: np.random.Generator) -> None:
    temp = root / "facts.parquet.tmp"
    with pq.ParquetWriter(temp, FACTS) as writer:
        written = 0
        while written < rows:
            n = min(CHUNK, rows - written)
            writer.write_table(_chunk(rng, written, n, rows), row_group_size=1_000_000)
            written += n
    temp.replace(root / "facts.parquet")


def _chunk(rng: np.random.Generator, offset: int, n: int, total: int) -> pa.Table:
    # Days rise with the row number, so the file is ordered by date as a compacted snapshot is.
    day = ((np.arange(offset, offset + n, dtype=np.int64) * DAYS) // total).astype(np.int32)
    dates = pa.array(day + (START - dt.date(1970, 1, 1)).days, pa.int32()).cast(pa.date32())
    # A seller sells in its home market, as in the demo: a report per seller has one row per seller.
    seller = rng.integers(1, SELLERS_N + 1, n, dtype=np.int64)
    market = SELLER_MARKET[seller]
    goods = rng.integers(100, 50_000, n, dtype=np.int64)
    first = rng.random(n) < 0.4
    shipping = np.where(first, rng.integers(0, 1_000, n), 0).astype(np.int64)
    tax, ship_tax = goods // 11, shipping // 11
    cancelled = rng.random(n) < 0.03
    columns = {
        "order_id": np.arange(offset, offset + n, dtype=np.int64) // 3,
        "line_id": np.arange(offset, offset + n, dtype=np.int64),
        "order_date": dates,
        "business_unit": _dictionary(market, [m[0] for m in MARKETS]),
        "market": _dictionary(market, [m[1] for m in MARKETS]),
        "market_id": market.astype(np.int64) + 1,
        "market_country": _dictionary(market, [m[2] for m in MARKETS]),
        "buyer_country": _dictionary(market, [m[2] for m in MARKETS]),
        "seller_id": seller,
        "buyer_id": rng.integers(1, BUYERS_N + 1, n, dtype=np.int64),
        "category": _dictionary(rng.integers(0, len(CATEGORIES), n), CATEGORIES),
        "currency": _dictionary(market, [m[3] for m in MARKETS]),
        "paid": rng.random(n) < 0.97,
        "cancelled": cancelled,
        "goods_minor": goods - tax,
        "goods_tax_minor": tax,
        "shipping_minor": shipping - ship_tax,
        "shipping_tax_minor": ship_tax,
        "returned_minor": np.where(~cancelled & (rng.random(n) < 0.02), goods // 2, 0).astype(np.int64),
        "commission_minor": goods // 20,
        "gross_minor": goods + shipping,
    }
    return pa.table(columns, schema=FACTS)
