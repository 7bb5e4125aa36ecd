"""Arrow schemas of the snapshot's files: the raw parts, the dimensions, and the compacted facts; and a
lookup over Arrow columns."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

TS = pa.timestamp("us", tz="UTC")
i64, s, b, d = pa.int64(), pa.string(), pa.bool_(), pa.date32()

ORDERS = pa.schema(
    [
        ("id", i64),
        ("public_id", s),
        ("buyer_id", i64),
        ("seller_id", i64),
        ("market_id", i64),
        ("status", s),
        ("currency", s),
        ("subtotal_minor", i64),
        ("tax_minor", i64),
        ("shipping_minor", i64),
        ("total_minor", i64),
        ("refunded_minor", i64),
        ("commission_minor", i64),
        ("order_date", d),
        ("updated_at", TS),
        ("paid", b),
    ]
)
LINES = pa.schema(
    [
        ("id", i64),
        ("order_id", i64),
        ("sku_id", i64),
        ("quantity", i64),
        ("line_total_minor", i64),
        ("tax_minor", i64),
        ("commission_minor", i64),
    ]
)
REFUNDS = pa.schema([("id", i64), ("order_id", i64), ("amount_minor", i64), ("created_at", TS)])
SHIPMENTS = pa.schema(
    [
        ("id", i64),
        ("public_id", s),
        ("order_ref", s),
        ("seller_id", i64),
        ("status", s),
        ("fee_cents", i64),
        ("revenue_origin", s),
        ("created_at", TS),
        ("updated_at", TS),
    ]
)
MEMBERSHIPS = pa.schema(
    [("child", s), ("child_kind", s), ("parent", s), ("parent_kind", s), ("valid_from", d), ("valid_to", d)]
)
# Delivered on-demand orders (local services): the day they were delivered in their market, and what the
# platform earned on each in its currency's minor units.
LOCAL_ORDERS = pa.schema(
    [
        ("id", i64),
        ("public_id", s),
        ("seller_id", i64),
        ("market", s),
        ("currency", s),
        ("delivery_fee_minor", i64),
        ("commission_minor", i64),
        ("delivered_on", d),
        ("updated_at", TS),
    ]
)
UNITS = pa.schema([("code", s), ("kind", s), ("name", s)])
MARKETS = pa.schema(
    [
        ("market_id", i64),
        ("market", s),
        ("business_unit", s),
        ("country", s),
        ("currency", s),
        ("prices_include_tax", b),
    ]
)
SELLERS = pa.schema([("seller_id", i64), ("seller", s), ("country", s)])
SKUS = pa.schema([("sku_id", i64), ("category", s)])
BUYERS = pa.schema([("buyer_id", i64), ("buyer", s), ("country", s)])

# One row per order line. Amounts in minor units of `currency`; the order's shipping and refunds sit on
# its first line so that every order-level amount is counted once.
FACTS = pa.schema(
    [
        ("order_id", i64),
        ("line_id", i64),
        ("order_date", d),
        ("business_unit", s),
        ("market", s),
        ("market_id", i64),
        ("market_country", s),
        ("buyer_country", s),
        ("seller_id", i64),
        ("buyer_id", i64),
        ("category", s),
        ("currency", s),
        ("paid", b),
        ("cancelled", b),
        ("goods_minor", i64),
        ("goods_tax_minor", i64),
        ("shipping_minor", i64),
        ("shipping_tax_minor", i64),
        ("returned_minor", i64),
        ("commission_minor", i64),
        ("gross_minor", i64),
    ]
)
# Fees the group earns besides marketplace commission, one row per source: `line` says which revenue line
# (logistics: a shipment's fee, billed in US dollars; local_services: a delivered on-demand order's
# delivery fee plus its store's commission, in the order's currency). `shipment_id` is the source's id
# (the shipment's, or the local order's), `business_unit` the unit whose revenue it is.
FEES = pa.schema(
    [
        ("shipment_id", i64),
        ("order_date", d),
        ("business_unit", s),
        ("market", s),
        ("market_id", i64),
        ("market_country", s),
        ("seller_id", i64),
        ("currency", s),
        ("fee_minor", i64),
        ("line", s),
    ]
)

# The market of every line, small: what reports join onto their aggregates.
MARKET_KEYS = pa.schema(
    [("market_id", i64), ("business_unit", s), ("market", s), ("market_country", s), ("currency", s)]
)


def looked_up(keys: pa.ChunkedArray | pa.Array, names: dict[int, str]) -> pa.Array:
    """Each integer key's name, column-wise; a key without one is written as the number."""
    known = pa.array(list(names), pa.int64())
    found = pc.take(pa.array(list(names.values()), pa.string()), pc.index_in(keys, value_set=known))
    return pc.coalesce(found, pc.cast(keys, pa.string()))
