"""Shipments and the fees billed for them, for the reporting snapshot, in batches since a watermark.
Reporting reads logistics through this function only, never its tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entrepot.logistics.models import Shipment

Row = dict[str, Any]


def shipments_changed_since(
    session: Session, since: dt.datetime | None, batch: int = 50_000
) -> Iterator[list[Row]]:
    """Shipments updated at or after `since` (all when None). `fee_cents` is what the seller is billed,
    in US cents: the logistics revenue line."""
    query = select(
        Shipment.id,
        Shipment.public_id,
        Shipment.order_ref,
        Shipment.seller_id,
        Shipment.status,
        Shipment.fee_cents,
        Shipment.revenue_origin,
        Shipment.created_at,
        Shipment.updated_at,
    ).order_by(Shipment.id)
    if since is not None:
        query = query.where(Shipment.updated_at >= since)
    result = session.execute(query.execution_options(yield_per=batch))
    for part in result.mappings().partitions(batch):
        yield [dict(row) for row in part]
