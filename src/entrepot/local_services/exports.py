"""Delivered on-demand orders and what the platform earned on each (the delivery fee the buyer paid, the
commission the store pays), for the reporting snapshot, in batches since a watermark. Reporting reads
local services through this function only, never its tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.local_services.models import LocalStore, OnDemandOrder
from entrepot.organization.domain import ON_DEMAND_UNIT

Row = dict[str, Any]

# The business unit whose revenue on-demand delivery is (the organisation's)
BUSINESS_UNIT = ON_DEMAND_UNIT


def delivered_since(session: Session, since: dt.datetime | None, batch: int = 50_000) -> Iterator[list[Row]]:
    """Orders delivered at or after `since` (all when None), each with its store's seller and market, the
    day of its delivery in the market's time zone, its currency, delivery fee and commission (minor
    units). A delivered order never changes again, so its delivery time is its `updated_at`."""
    query = (
        select(
            OnDemandOrder.id,
            OnDemandOrder.public_id,
            LocalStore.seller_id,
            LocalStore.market,
            LocalStore.time_zone,
            OnDemandOrder.currency,
            OnDemandOrder.delivery_fee_minor,
            OnDemandOrder.commission_minor,
            OnDemandOrder.delivered_at,
        )
        .join(LocalStore, LocalStore.id == OnDemandOrder.store_id)
        .where(OnDemandOrder.state == "delivered")
        .order_by(OnDemandOrder.id)
    )
    if since is not None:
        query = query.where(OnDemandOrder.delivered_at >= since)
    result = session.execute(query.execution_options(yield_per=batch))
    for part in result.mappings().partitions(batch):
        yield [_row(dict(row)) for row in part]


def _row(row: Row) -> Row:
    delivered: dt.datetime = row.pop("delivered_at")
    zone = row.pop("time_zone")
    return row | {"delivered_on": delivered.astimezone(ZoneInfo(zone)).date(), "updated_at": delivered}
