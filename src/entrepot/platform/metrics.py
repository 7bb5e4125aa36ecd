"""Prometheus metrics (prometheus-client): what the API serves and how fast, the events the contexts
record (`entrepot_events_recorded_total{type="order.placed"}` counts orders placed, `order.paid` orders
paid, `shipment.*` parcels, whatever path made them: checkout, a flash sale, a group buy), and, read from
the store at each scrape, the outbox's backlog and the database pool's use.

Events are counted when the transaction that recorded them commits (`count_on_commit`), never before:
an order rolled back is not an order placed. Under several worker
processes (`entrepot serve --workers N`) each process writes its samples to PROMETHEUS_MULTIPROC_DIR
and a scrape of any worker adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # platform.db counts the events it records here
    from entrepot.platform.db import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_REQUESTS = Counter(
    "entrepot_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "entrepot_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS = Counter(
    "entrepot_events_recorded", "Domain events recorded, counted as their transaction commits", ["type"]
)

_PENDING_COUNTS = "entrepot_metrics_pending"  # in Session.info: counts waiting for the commit


def count_on_commit(session: Session, counter: Counter, label: str, amount: int = 1) -> None:
    """Add `amount` to `counter{label}` once `session`'s transaction commits; nothing if it rolls back."""
    pending: dict[tuple[Counter, str], int] = session.info.setdefault(_PENDING_COUNTS, {})
    pending[(counter, label)] = pending.get((counter, label), 0) + amount


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for (counter, label), amount in session.info.pop(_PENDING_COUNTS, {}).items():
        counter.labels(label).inc(amount)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING_COUNTS, None)


class StoreCollector(Collector):
    """Gauges read from the store at scrape time: the outbox's backlog and the pool's connections."""

    def __init__(self, db: Database, now: dt.datetime) -> None:
        self.db = db
        self.now = now

    def collect(self) -> Iterator[Metric]:
        from entrepot.platform.outbox import backlog  # the outbox imports the db module, as this one does

        with self.db.transaction() as session:
            waiting = backlog(session)
        age = (self.now - waiting.oldest_pending_at).total_seconds() if waiting.oldest_pending_at else 0.0
        yield GaugeMetricFamily(
            "entrepot_outbox_pending", "Events not yet handed to their handlers", waiting.pending
        )
        yield GaugeMetricFamily(
            "entrepot_outbox_lag_seconds", "Age of the oldest pending event", max(age, 0.0)
        )
        yield GaugeMetricFamily("entrepot_outbox_dead", "Events whose handlers gave up", waiting.dead)
        pool = self.db.engine.pool
        checked_out = getattr(pool, "checkedout", lambda: 0)()
        size = getattr(pool, "size", lambda: 0)()
        yield GaugeMetricFamily(
            "entrepot_db_pool_in_use", "Database connections this process has in use", checked_out
        )
        yield GaugeMetricFamily("entrepot_db_pool_size", "Connections this process keeps open", size)


def exposition(db: Database, now: dt.datetime) -> bytes:
    """The text a Prometheus scrape reads: the processes' counters and histograms, then the store's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        counted = generate_latest(processes)
    else:
        counted = generate_latest(REGISTRY)
    store = CollectorRegistry()
    store.register(StoreCollector(db, now))
    return counted + generate_latest(store)
