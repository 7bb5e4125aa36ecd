"""Small hand-made snapshots for the reporting tests: fact rows with defaults, the demo's organisation
history (Lazada and Taobao move out of core commerce on 1 October 2021)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from entrepot.kernel.fx import FxRates, load_ecb
from entrepot.reporting.columns import FACTS, FEES, MARKETS, MEMBERSHIPS, SELLERS, UNITS
from entrepot.reporting.snapshot import Manifest, build_duckdb_cache

REORG = dt.date(2021, 10, 1)
START = dt.date(2019, 4, 1)
UNIT_ROWS = [
    ("commerce-group", "group"),
    ("core-commerce", "segment"),
    ("commerce", "division"),
    ("china-commerce", "segment"),
    ("china-commerce-division", "division"),
    ("international-commerce", "segment"),
    ("international-commerce-division", "division"),
    ("taobao", "business_unit"),
    ("lazada", "business_unit"),
]
EDGES = [
    ("core-commerce", "commerce-group", "group", START, None),
    ("commerce", "core-commerce", "segment", START, None),
    ("china-commerce", "commerce-group", "group", REORG, None),
    ("china-commerce-division", "china-commerce", "segment", REORG, None),
    ("international-commerce", "commerce-group", "group", REORG, None),
    ("international-commerce-division", "international-commerce", "segment", REORG, None),
    ("taobao", "commerce", "division", START, REORG),
    ("taobao", "china-commerce-division", "division", REORG, None),
    ("lazada", "commerce", "division", START, REORG),
    ("lazada", "international-commerce-division", "division", REORG, None),
]


def fx() -> FxRates:
    return FxRates(load_ecb(None), 45)


def line(**values: Any) -> dict[str, Any]:
    """A fact row: a paid USD line of Lazada in Singapore; amounts default to zero."""
    row: dict[str, Any] = {
        "order_id": 1,
        "line_id": 1,
        "order_date": dt.date(2021, 6, 1),
        "business_unit": "lazada",
        "market": "lazada-sg",
        "market_country": "SG",
        "buyer_country": "SG",
        "seller_id": 1,
        "buyer_id": 1,
        "category": "toys",
        "currency": "USD",
        "paid": True,
        "cancelled": False,
        "goods_minor": 0,
        "goods_tax_minor": 0,
        "shipping_minor": 0,
        "shipping_tax_minor": 0,
        "returned_minor": 0,
        "commission_minor": 0,
    }
    row.update(values)
    row["gross_minor"] = (
        row["goods_minor"] + row["goods_tax_minor"] + row["shipping_minor"] + row["shipping_tax_minor"]
    )
    return row


# A sale: the business unit, the order's day, its currency and its goods in minor units.
Sale = tuple[str, dt.date, str, int]


def sale_lines(sales: list[Sale]) -> list[dict[str, Any]]:
    """A one-line order for each sale, numbered from 0."""
    return [
        line(order_id=i, line_id=i, business_unit=u, order_date=d, currency=c, goods_minor=a)
        for i, (u, d, c, a) in enumerate(sales)
    ]


def sales_strategy(
    first: dt.date, last: dt.date, currencies: list[str], smallest: int, max_size: int
) -> st.SearchStrategy[list[Sale]]:
    """Lists of Lazada and Taobao sales between two days (Hypothesis)."""
    sale = st.tuples(
        st.sampled_from(["lazada", "taobao"]),
        st.dates(first, last),
        st.sampled_from(currencies),
        st.integers(smallest, 10**9),
    )
    return st.lists(sale, min_size=1, max_size=max_size)


def write_snapshot(
    root: Path,
    facts: list[dict[str, Any]],
    fees: list[dict[str, Any]] | None = None,
    cache: bool = True,
    refreshed_at: str = "2026-11-25T12:00:00+00:00",
) -> Path:
    """The snapshot's files for these rows; a market per (unit, currency) as checkout makes them.
    `cache`: also DuckDB's native copy (else reports read the Parquet)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dims").mkdir(exist_ok=True)
    markets: dict[tuple[str, str], dict[str, Any]] = {}
    for row in facts:
        key = (row["business_unit"], row["currency"])
        if key not in markets:
            markets[key] = {
                "market_id": len(markets) + 1,
                "market": f"{key[0]}-{key[1].lower()}",
                "business_unit": key[0],
                "country": row["market_country"],
                "currency": key[1],
                "prices_include_tax": True,
            }
        row["market_id"], row["market"] = markets[key]["market_id"], markets[key]["market"]
    for fee in fees or []:
        match = next(m for m in markets.values() if m["business_unit"] == fee["business_unit"])
        fee["market_id"], fee["market"] = match["market_id"], match["market"]
    pq.write_table(
        pa.Table.from_pylist(list(markets.values()), schema=MARKETS), root / "dims" / "markets.parquet"
    )
    pq.write_table(pa.Table.from_pylist(facts, schema=FACTS), root / "facts.parquet")
    pq.write_table(pa.Table.from_pylist(fees or [], schema=FEES), root / "fees.parquet")
    edges = [
        {
            "child": c,
            "child_kind": dict(UNIT_ROWS)[c],
            "parent": p,
            "parent_kind": k,
            "valid_from": f,
            "valid_to": t,
        }
        for c, p, k, f, t in EDGES
    ]
    pq.write_table(pa.Table.from_pylist(edges, schema=MEMBERSHIPS), root / "dims" / "memberships.parquet")
    units = [{"code": c, "kind": k, "name": c} for c, k in UNIT_ROWS]
    pq.write_table(pa.Table.from_pylist(units, schema=UNITS), root / "dims" / "units.parquet")
    sellers = [
        {"seller_id": 1, "seller": "sel_one", "country": "SG"},
        {"seller_id": 2, "seller": "sel_two", "country": "CN"},
    ]
    pq.write_table(pa.Table.from_pylist(sellers, schema=SELLERS), root / "dims" / "sellers.parquet")
    currencies = sorted({r["currency"] for r in facts} | {"USD"})
    Manifest({}, {}, refreshed_at, "test", currencies).save(root)
    if cache:
        build_duckdb_cache(root)
    return root
