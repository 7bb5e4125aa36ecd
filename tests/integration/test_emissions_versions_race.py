"""Factor tables loaded while shipments are being recorded, on PostgreSQL with real parallel sessions:
the newest calculation version still covers every recorded element, and no element skips a version."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from entrepot.emissions import service
from entrepot.emissions.models import ElementActivity, ElementResult
from entrepot.emissions.versions import current_version
from entrepot.logistics import events as logistics_events
from entrepot.logistics import service as logistics
from entrepot.platform.db import Database, OutboxEvent
from entrepot.platform.outbox import HandlerRegistry, relay_once
from tests.api.helpers import API
from tests.api.test_emissions_api import HEADER, network
from tests.world import T0, build_world

pytestmark = pytest.mark.postgres
ORDERS = 12
TABLES = 3


def planned_shipments(db: Database) -> list[str]:
    """Paid orders planned by logistics alone (emissions not listening yet); their shipment ids."""
    world = build_world(db)
    with db.transaction() as session:
        logistics.store_network(session, network())
    client = world.client()
    for n in range(ORDERS):
        sku = "seller_a_red" if n % 2 else "seller_a_blue"
        body = {
            "market": "lazada-sg",
            "lines": [{"sku": world.ids[sku], "quantity": 1}],
            "payment_method": "card",
        }
        headers = {**world.auth("buyer_a"), "Idempotency-Key": f"race-{n:04d}"}
        placed = client.post(f"{API}/orders", json=body, headers=headers)
        assert placed.status_code == 201 or "stock" in placed.text, placed.text
    only_logistics = HandlerRegistry()
    logistics_events.register(only_logistics, world.context().fx)
    while relay_once(db, only_logistics, world.clock()):
        pass
    with db.transaction() as session:
        current_version(session, world.clock())  # the default table in place before the race
        query = select(OutboxEvent.aggregate_id).where(OutboxEvent.type == "shipment.planned")
        return list(session.scalars(query))


def test_loading_tables_while_recording_leaves_no_element_behind(pg_database: Database) -> None:
    refs = planned_shipments(pg_database)
    assert len(refs) >= 6
    now = T0
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def record() -> None:
        start.wait()
        for ref in refs:
            with pg_database.transaction() as session:
                service.record_shipment(session, ref, now)

    def load() -> None:
        start.wait()
        for n in range(TABLES):
            csv = f"{HEADER}\nroad,hgv_all,diesel,{90 + n},20,{110 + n},race table {n}\n"
            with pg_database.transaction() as session:
                service.load_table(session, f"race-{n}", "regional", csv, now, "SG")

    def guarded(work: object) -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in (record, load)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with pg_database.transaction() as session:
        elements = session.scalar(select(func.count()).select_from(ElementActivity))
        newest = session.scalar(select(func.count()).where(ElementResult.version == 1 + TABLES))
        spans = session.execute(
            select(
                ElementResult.element_id,
                func.min(ElementResult.version),
                func.max(ElementResult.version),
                func.count(),
            ).group_by(ElementResult.element_id)
        ).all()
    assert elements and newest == elements  # every element is in the newest version
    assert all(high == 1 + TABLES and count == high - low + 1 for _, low, high, count in spans)  # no gaps
