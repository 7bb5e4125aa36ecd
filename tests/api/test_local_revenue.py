"""Local services' revenue in group reporting (issue 22): a delivered on-demand order's delivery fee and
store commission are its revenue line `local_services`, in the period and market of its delivery and
under the Local consumer services division; a cancelled or undelivered order counts nothing; the
snapshot picks up a delivery made after a first refresh. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import API
from tests.api.local_on_demand import Town, shipped_city, town

__all__ = ["shipped_city", "town"]  # fixtures


def delivered(town: Town, rider: str = "rider 1") -> dict[str, Any]:
    """An order placed, dispatched to the only courier who said where it is, carried and handed over."""
    placed = town.ok(town.order(), 201)
    trip = town.dispatched(placed["id"])["trip"]
    town.ok(town.post(f"/local/trips/{trip}/accept", rider))
    town.ok(town.post(f"/local/orders/{placed['id']}/pickup", rider))
    proof = {"kind": "code", "reference": "1"}
    return town.ok(town.post(f"/local/orders/{placed['id']}/delivery", rider, proof))


def earned(town: Town, order: dict[str, Any]) -> int:
    sold = town.event_payload(order["id"], "local.order_delivered")
    return int(sold["delivery_fee_minor"]) + int(sold["commission_minor"])


def revenue(client: TestClient, town: Town, **params: str) -> list[dict[str, Any]]:
    query = {"period": town.world.clock().strftime("%Y-%m"), "currency": "SGD", **params}
    response = client.get(f"{API}/reports/revenue", params=query, headers=town.keys["operator"])
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def refresh(client: TestClient, town: Town) -> dict[str, int]:
    response = client.post(f"{API}/reports/snapshot", headers=town.keys["operator"])
    assert response.status_code == 200, response.text
    new_rows: dict[str, int] = response.json()["new_rows"]
    return new_rows


def minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


def test_delivered_orders_fees_and_commissions_are_local_services_revenue(town: Town, tmp_path: Path) -> None:
    reports = town.world.client(reporting_snapshot_dir=str(tmp_path / "snapshot"), run_relay=False)
    town.ping(0)
    first = delivered(town)
    cancelled = town.ok(town.order(), 201)
    town.ok(town.post(f"/local/orders/{cancelled['id']}/cancel", "buyer_a"))
    town.ok(town.order(), 201)  # placed, never delivered

    assert refresh(reports, town)["local_orders"] == 1
    [row] = revenue(reports, town, by="market")
    assert row["market"] == "lazada-sg" and minor(row["local_services"]) == earned(town, first)
    assert minor(row["total"]) == minor(row["commission"]) + minor(row["logistics"]) + earned(town, first)
    by_division = {r["division"]: minor(r["local_services"]) for r in revenue(reports, town, by="division")}
    assert by_division["local-consumer-services-division"] == earned(town, first)
    assert sum(by_division.values()) == earned(town, first)

    town.ping(1)  # the second rider: a delivery after the first refresh
    second = delivered(town, "rider 2")
    assert refresh(reports, town)["local_orders"] >= 1  # the overlap may read the first again
    [row] = revenue(reports, town)
    assert minor(row["local_services"]) == earned(town, first) + earned(town, second)
    last_month = (town.world.clock().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert all(minor(r["local_services"]) == 0 for r in revenue(reports, town, period=last_month))
