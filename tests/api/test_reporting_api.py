"""Reporting over HTTP on real orders: the snapshot refreshed incrementally from the store, GMV and
revenue reports labelled with definition, view, FX method and freshness; errors as problem+json."""

from __future__ import annotations

import fcntl
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from entrepot.reporting import snapshot
from entrepot.reporting.snapshot import Manifest
from tests.api.helpers import API, assert_problem, pay, place_ok
from tests.world import World


def _client(world: World, tmp_path: Path) -> TestClient:
    return world.client(reporting_snapshot_dir=str(tmp_path / "snapshot"), run_relay=False)


def _minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _gmv(client: TestClient, world: World, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/reports/gmv", params=params, headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_snapshot_and_gmv_from_real_orders(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    first = place_ok(client, world, ("seller_a_red", 2))
    second = place_ok(client, world, ("seller_a_red", 1), who="buyer_b")
    assert pay(client, world, first["id"]).status_code == 202
    refreshed = client.post(f"{API}/reports/snapshot", headers=world.auth("operator"))
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["new_rows"]["order_lines"] == 2

    params = {"period": "2025-11", "by": "business_unit", "currency": "SGD"}
    body = _gmv(client, world, **params)
    totals = [o["total_minor"] for o in (first, second)]
    [row] = body["rows"]
    assert row["business_unit"] == "lazada" and row["definition"] == "confirmed-gross"
    assert _minor(row["gmv"]) == sum(totals)  # unpaid orders count under this definition
    meta = body["meta"]
    assert meta["fx_method"] == "transaction-date" and meta["view"] == "recast" and meta["currency"] == "SGD"
    assert meta["data_freshness"]["watermarks"]["order_lines"] >= 2
    assert "confirmed-gross" in meta["definitions"]["lazada"]

    put = client.put(
        f"{API}/reports/gmv-definitions/lazada",
        json={"definition": "paid-gross"},
        headers=world.auth("operator"),
    )
    assert put.status_code == 200, put.text
    [paid_only] = _gmv(client, world, **params)["rows"]
    assert _minor(paid_only["gmv"]) == totals[0]

    world.clock.advance(minutes=2)
    assert pay(client, world, second["id"], who="buyer_b").status_code == 202
    again = client.post(f"{API}/reports/snapshot", headers=world.auth("operator")).json()["new_rows"]
    assert again["order_lines"] == 0 and again["orders"] >= 1  # only what changed is read again
    [both] = _gmv(client, world, **params)["rows"]
    assert _minor(both["gmv"]) == sum(totals)


def test_revenue_has_three_lines(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    order = place_ok(client, world, ("seller_a_red", 1))
    pay(client, world, order["id"])
    client.post(f"{API}/reports/snapshot", headers=world.auth("operator"))
    response = client.get(
        f"{API}/reports/revenue",
        params={"period": "2025-11", "currency": "SGD"},
        headers=world.auth("operator"),
    )
    assert response.status_code == 200, response.text
    [row] = response.json()["rows"]
    assert float(row["commission"]) > 0 and row["local_services"] == "0.00"  # no on-demand order delivered


def test_bad_reports_are_problems_and_need_an_operator(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    headers = world.auth("operator")
    missing = client.get(f"{API}/reports/gmv", params={"period": "FY2026"}, headers=headers)
    assert_problem(missing, 404, "not-found")
    place_ok(client, world, ("seller_a_red", 1))
    client.post(f"{API}/reports/snapshot", headers=headers)
    for params, field in (
        ({"period": "FY26"}, "period"),
        ({"period": "FY2026", "by": "planet"}, "by"),
        ({"period": "FY2026", "currency": "XXX"}, "currency"),
        ({"period": "FY2026", "view": "restated"}, "view"),
    ):
        body = assert_problem(
            client.get(f"{API}/reports/gmv", params=params, headers=headers), 422, "validation-failed"
        )
        assert [e["field"] for e in body["errors"]] == [field]
    assert_problem(
        client.get(f"{API}/reports/gmv", params={"period": "FY2026"}, headers=world.auth("buyer_a")),
        403,
        "forbidden",
    )
    assert_problem(client.get(f"{API}/reports/gmv", params={"period": "FY2026"}), 401, "unauthenticated")


def test_scenario_targets_guidance_and_actuals_over_http(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    headers = world.auth("operator")
    assert client.post(f"{API}/reports/scenarios/group-facts", headers=headers).status_code == 201
    [target] = client.get(f"{API}/reports/targets", headers=headers).json()
    assert target["required_cagr_pct"].startswith("18.9") and target["latest_actual_external"] is True
    guidance = client.get(
        f"{API}/reports/guidance", params={"scope": "commerce-group", "period": "FY2022"}, headers=headers
    ).json()
    assert guidance["actual_growth_pct"] == "18.9" and guidance["current"]["actual_vs_band"] == "below"
    bad_csv = "metric,scope,period,currency,value,source\ngmv,lazada,LTM2021-09,QQQ,1,x\n"
    response = client.post(
        f"{API}/reports/external-actuals", content=bad_csv, headers={**headers, "Content-Type": "text/csv"}
    )
    body = assert_problem(response, 422, "validation-failed")
    assert "line 2" in body["detail"]
    actuals = client.get(
        f"{API}/reports/external-actuals", params={"metric": "revenue"}, headers=headers
    ).json()
    assert len(actuals) == 7 and all(a["external"] for a in actuals)


def test_a_second_refresh_waits_for_the_first(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    folder = tmp_path / "snapshot"
    folder.mkdir()
    with (folder / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        response = client.post(f"{API}/reports/snapshot", headers=world.auth("operator"))
    assert_problem(response, 409, "refresh-running")
    assert not (folder / "manifest.json").exists()


def _reports(client: TestClient, world: World) -> list[Any]:
    headers = world.auth("operator")
    out = []
    for path, params in (
        ("gmv", {"period": "2025-11", "by": "business_unit", "currency": "SGD"}),
        ("gmv", {"period": "2025-11", "by": "seller", "every": "day", "currency": "USD"}),
        ("revenue", {"period": "2025-11", "by": "seller", "currency": "SGD"}),
    ):
        response = client.get(f"{API}/reports/{path}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        out.append(response.json()["rows"])
    return out


def _refresh(client: TestClient, world: World) -> dict[str, int]:
    response = client.post(f"{API}/reports/snapshot", headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    new_rows: dict[str, int] = response.json()["new_rows"]
    return new_rows


def _facts(folder: Path) -> list[dict[str, Any]]:
    return sorted(pq.read_table(folder / "facts.parquet").to_pylist(), key=lambda r: r["line_id"])


def test_merging_the_parts_keeps_every_report_and_a_stop_half_way_keeps_the_old_ones(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(world, tmp_path)
    folder = tmp_path / "snapshot"
    first = place_ok(client, world, ("seller_a_red", 2))
    second = place_ok(client, world, ("seller_a_red", 1), who="buyer_b")
    _refresh(client, world)
    for order, who in ((first, "buyer_a"), (second, "buyer_b")):  # each change, then a refresh
        world.clock.advance(minutes=2)
        assert pay(client, world, order["id"], who=who).status_code == 202
        _refresh(client, world)
    world.clock.advance(minutes=2)
    place_ok(client, world, ("seller_a_blue", 1))
    _refresh(client, world)
    listed = Manifest.load(folder).parts
    assert len(listed["orders"]) >= 4 and len(listed["order_lines"]) == 2
    reports, facts = _reports(client, world), _facts(folder)

    real_write = snapshot._write_table

    def disk_full_on_the_second_merge(path: Path, table: Any) -> None:
        if path.name.startswith("merged-") and list(folder.glob("raw/*/merged-*")):
            raise OSError("disk full")
        real_write(path, table)

    monkeypatch.setattr(snapshot, "_write_table", disk_full_on_the_second_merge)
    with pytest.raises(OSError, match="disk full"):
        snapshot.compact_snapshot(folder)
    assert Manifest.load(folder).parts == listed  # nothing committed, every old part still there
    assert all((folder / name).exists() for names in listed.values() for name in names)
    assert _reports(client, world) == reports

    monkeypatch.setattr(snapshot, "_write_table", real_write)
    merged = snapshot.compact_snapshot(folder)
    assert merged == {table: len(names) for table, names in listed.items() if len(names) > 1}
    parts = Manifest.load(folder).parts
    assert all(len(names) == 1 for names in parts.values())
    on_disk = {p.relative_to(folder).as_posix() for p in folder.glob("raw/*/*")}
    assert on_disk == {name for names in parts.values() for name in names}  # old and stray files gone
    assert _refresh(client, world)["order_lines"] == 0  # the facts rebuilt from the merged parts
    assert _facts(folder) == facts
    assert _reports(client, world) == reports


def test_a_refresh_merges_the_parts_once_they_pile_up(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "COMPACT_AFTER", 3)
    client = _client(world, tmp_path)
    order = place_ok(client, world, ("seller_a_red", 1))
    counts = []
    for _ in range(5):  # every refresh reads the order again (the overlap): a part each time
        _refresh(client, world)
        counts.append(len(Manifest.load(tmp_path / "snapshot").parts["orders"]))
    assert counts == [1, 2, 3, 2, 3]  # the fourth refresh merged three parts into one, then added its own
    [row] = _reports(client, world)[0]
    assert _minor(row["gmv"]) == order["total_minor"]


def _refund(client: TestClient, world: World, order_id: str, amount_minor: int) -> None:
    response = client.post(
        f"{API}/orders/{order_id}/refunds",
        json={"amount_minor": amount_minor, "reason": "damaged"},
        headers=world.auth("seller_a"),
    )
    assert response.status_code == 201, response.text


def _renumber(world: World, table: str, order_id: str, new_id: int | None = None) -> int:
    """Give the order's only row in `table` another id (its old id when None is passed, plus 1,000)."""
    with world.db.transaction() as session:
        internal = session.execute(
            text("SELECT id FROM orders WHERE public_id = :p"), {"p": order_id}
        ).scalar()
        old = session.execute(text(f"SELECT id FROM {table} WHERE order_id = :o"), {"o": internal}).scalar()
        target = old + 1000 if new_id is None else new_id
        session.execute(text(f"UPDATE {table} SET id = :n WHERE id = :o"), {"n": target, "o": old})
    return int(old)


def test_a_line_or_refund_committed_late_under_a_lower_id_still_reaches_the_snapshot(
    world: World, tmp_path: Path
) -> None:
    # On PostgreSQL ids are handed out before commit: a transaction can make a line visible after a
    # refresh has read a higher id. The state that leaves is made here by renumbering rows.
    client = _client(world, tmp_path)
    first = place_ok(client, world, ("seller_a_red", 1))
    second = place_ok(client, world, ("seller_a_red", 1), who="buyer_b")
    assert pay(client, world, first["id"]).status_code == 202
    assert pay(client, world, second["id"], who="buyer_b").status_code == 202
    _refund(client, world, first["id"], 100)
    free_line = _renumber(world, "order_lines", second["id"])
    free_refund = _renumber(world, "refunds", first["id"])
    assert _refresh(client, world) == {
        "orders": 2,
        "shipments": 0,
        "order_lines": 2,
        "refunds": 1,
        "local_orders": 0,
    }

    world.clock.advance(seconds=5)
    late = place_ok(client, world, ("seller_a_blue", 1))
    _refund(client, world, second["id"], 200)
    _renumber(world, "order_lines", late["id"], free_line)  # below the line watermark
    _renumber(world, "refunds", second["id"], free_refund)  # below the refund watermark
    added = _refresh(client, world)
    assert (added["order_lines"], added["refunds"]) == (1, 1)  # the late ones, and nothing read twice
    folder = tmp_path / "snapshot"
    assert [f["line_id"] for f in _facts(folder)].count(free_line) == 1 and len(_facts(folder)) == 3
    refunds = [
        r for name in Manifest.load(folder).parts["refunds"] for r in pq.read_table(folder / name).to_pylist()
    ]
    assert sorted(r["amount_minor"] for r in refunds) == [100, 200]
    assert sorted(r["id"] for r in refunds) == [free_refund, free_refund + 1000]
    assert _refresh(client, world) == {
        "orders": 3,
        "shipments": 0,
        "order_lines": 0,
        "refunds": 0,
        "local_orders": 0,
    }


def test_history_over_http_labels_each_row(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    headers = world.auth("operator")
    order = place_ok(client, world, ("seller_a_red", 1))
    _refresh(client, world)
    csv_text = "metric,scope,period,currency,value,source\ngmv,lazada,FY2025,SGD,1234.5,annual report\n"
    response = client.post(
        f"{API}/reports/external-actuals", content=csv_text, headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    params = {"first": "FY2025", "last": "FY2026", "currency": "SGD"}
    response = client.get(f"{API}/reports/history", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {(r["period"], r["business_unit"]): r for r in body["rows"] if r["business_unit"] == "lazada"}
    assert (
        rows[("FY2025", "lazada")]["source"] == "external" and rows[("FY2025", "lazada")]["gmv"] == "1234.50"
    )
    this_year = rows[("FY2026", "lazada")]  # the platform started this year: it holds the year in part
    assert this_year["source"] == "platform-partial" and _minor(this_year["gmv"]) == order["total_minor"]
    assert "never added together" in body["meta"]["rule"]
    bad = client.get(f"{API}/reports/history", params={**params, "last": "2026-03"}, headers=headers)
    assert [e["field"] for e in assert_problem(bad, 422, "validation-failed")["errors"]] == ["last"]
    target = {"scope": "lazada", "value": "5000", "currency": "SGD", "due_on": "2030-03-31"}
    created = client.post(f"{API}/reports/targets", json=target, headers=headers)
    assert created.status_code == 201, created.text
    # The platform holds no whole twelve months yet, and nothing published is an LTM: no start to grow from.
    assert created.json()["status"].startswith("unknown: no LTM gmv actual in SGD for lazada")


def test_reporting_bodies_refuse_unknown_fields_metrics_scopes_and_huge_values(
    world: World, tmp_path: Path
) -> None:
    client = _client(world, tmp_path)
    headers = world.auth("operator")
    target = {"scope": "lazada", "value": "5000", "currency": "SGD", "due_on": "2030-03-31"}
    guidance = {
        "scope": "commerce-group",
        "period": "FY2022",
        "low_pct": "20",
        "high_pct": "23",
        "issued_on": "2021-11-18",
    }
    for path, body, field in (
        ("targets", {**target, "bogus": 1}, "bogus"),
        ("targets", {**target, "scope": "nowhere"}, "scope"),
        ("targets", {**target, "value": "1e30"}, "value"),
        ("targets", {**target, "value": "Infinity"}, "value"),
        ("guidance", {**guidance, "bogus": 1}, "bogus"),
        ("guidance", {**guidance, "metric": "bogus"}, "metric"),
        ("guidance", {**guidance, "scope": "nowhere"}, "scope"),
        ("guidance", {**guidance, "high_pct": "1e30"}, "high_pct"),
        ("guidance", {**guidance, "period": "FY0001"}, "period"),
    ):
        response = client.post(f"{API}/reports/{path}", json=body, headers=headers)
        errors = assert_problem(response, 422, "validation-failed")["errors"]
        assert [e["field"] for e in errors] == [field], (path, body)
    put = client.put(
        f"{API}/reports/gmv-definitions/lazada",
        json={"definition": "paid-gross", "bogus": 1},
        headers=headers,
    )
    assert [e["field"] for e in assert_problem(put, 422, "validation-failed")["errors"]] == ["bogus"]
    assert client.get(f"{API}/reports/targets", headers=headers).json() == []  # nothing written
    assert client.get(f"{API}/reports/gmv-definitions", headers=headers).json() == {}
    missing = client.get(
        f"{API}/reports/guidance", params={"scope": "commerce-group", "period": "FY2022"}, headers=headers
    )
    assert_problem(missing, 404, "not-found")
    assert client.post(f"{API}/reports/targets", json=target, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("gmv,lazada,FY2020", "line 3, column currency"),
        ("active_consumers,lazada,FY2021,,Infinity,x", "line 3, column value"),
        ("active_consumers,lazada,FY2021,,99999999999999999999999,x", "line 3, column value"),
        ("gmv,lazada,FY0001,USD,5,x", "line 3, column period"),
    ],
)
def test_bad_actuals_rows_are_422_naming_line_and_column(
    world: World, tmp_path: Path, row: str, where: str
) -> None:
    client = _client(world, tmp_path)
    headers = {**world.auth("operator"), "Content-Type": "text/csv"}
    text = f"metric,scope,period,currency,value,source\ngmv,lazada,FY2020,USD,5,x\n{row}\n"
    response = client.post(f"{API}/reports/external-actuals", content=text, headers=headers)
    assert assert_problem(response, 422, "validation-failed")["detail"].startswith(where)
    assert client.get(f"{API}/reports/external-actuals", headers=world.auth("operator")).json() == []


def test_periods_in_year_0_are_422(world: World, tmp_path: Path) -> None:
    client = _client(world, tmp_path)
    headers = world.auth("operator")
    place_ok(client, world, ("seller_a_red", 1))
    _refresh(client, world)
    for path, params, field in (
        ("gmv", {"period": "FY0001"}, "period"),
        ("gmv", {"period": "LTM0001-01"}, "period"),
        ("gmv-growth", {"period": "0001-03-01"}, "period"),
        ("gmv-growth", {"period": "FY0002"}, "period"),
        ("active-consumers", {"period": "FY0001"}, "period"),
        ("history", {"first": "FY0001", "last": "FY0002"}, "first"),
    ):
        response = client.get(f"{API}/reports/{path}", params=params, headers=headers)
        body = assert_problem(response, 422, "validation-failed")
        assert [e["field"] for e in body["errors"]] == [field] and "year 0" in body["detail"], body


def test_a_snapshot_folder_that_is_a_file_is_a_problem(world: World, tmp_path: Path) -> None:
    in_the_way = tmp_path / "snapshot"
    in_the_way.write_text("")
    client = _client(world, tmp_path)
    response = client.post(f"{API}/reports/snapshot", headers=world.auth("operator"))
    body = assert_problem(response, 500, "snapshot-folder-unusable")
    assert "is a file, not a folder" in body["detail"] and in_the_way.read_text() == ""
