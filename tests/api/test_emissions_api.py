"""Emissions accounting end to end: a paid order is planned by the relay, its shipment's chain and
emissions are stored on `shipment.planned`, a new factor table makes a new version and leaves the old one
intact, and reports, targets and scenarios answer through the API with sellers seeing only their own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entrepot.emissions import estimates
from entrepot.emissions import service as emissions
from entrepot.emissions.models import ElementResult, ShipmentActivity
from entrepot.logistics import service as logistics
from entrepot.logistics.domain import Lane, Network, Node
from entrepot.platform.outbox import relay_once
from tests.api.helpers import API, assert_problem, field_errors
from tests.world import World

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source"
HUBS = (
    f"{HEADER},unit\n"
    "hub,airport,grid,2.0,0.5,2.5,test airport handling,kg/t\n"
    "hub,sortation_hub,grid,1.2,0.3,1.5,test hub,kg/t\n"
)
# (code, origin, destination, mode, vehicle, km, rule)
LANES = [
    ("truck-hz-hgh", "cn-hangzhou", "air-HGH", "road", "truck", 40.0, "given"),
    ("flight-hgh-sin", "air-HGH", "air-SIN", "air", "short_haul", 3500.0, "great-circle + 95 km"),
    ("truck-sin-hub", "air-SIN", "hub-sg", "road", "truck", 20.0, "great-circle x 1.25"),
    ("truck-tuas-hub", "sg-tuas", "hub-sg", "road", "truck", 25.0, "given"),
    ("van-hub-central", "hub-sg", "ds-sg-central", "last_mile", "van_diesel", 12.0, "given"),
]


def network() -> Network:
    net = Network()
    for code, kind, country, lat, lon, tz in (
        ("cn-hangzhou", "fulfilment_warehouse", "CN", 30.27, 120.15, "Asia/Shanghai"),
        ("air-HGH", "airport", "CN", 30.23, 120.43, "Asia/Shanghai"),
        ("air-SIN", "airport", "SG", 1.36, 103.99, "Asia/Singapore"),
        ("sg-tuas", "fulfilment_warehouse", "SG", 1.32, 103.65, "Asia/Singapore"),
        ("hub-sg", "sortation_hub", "SG", 1.33, 103.85, "Asia/Singapore"),
        ("ds-sg-central", "delivery_station", "SG", 1.30, 103.84, "Asia/Singapore"),
    ):
        net.add_node(Node(code, kind, country, lat, lon, tz))
    for code, a, b, mode, vehicle, km, rule in LANES:
        net.add_lane(Lane(code, a, b, mode, vehicle, "test", km, 120, 100, 50, 30.0, 1000.0, None, rule))
    return net


@pytest.fixture
def client(world: World) -> TestClient:
    with world.db.transaction() as session:
        logistics.store_network(session, network())
    return world.client()


def ship(client: TestClient, world: World, sku: str, key: str) -> str:
    """Place and pay an order; the relay plans its shipment, then records its emissions."""
    body = {
        "market": "lazada-sg",
        "lines": [{"sku": world.ids[sku], "quantity": 1}],
        "payment_method": "card",
    }
    headers = {**world.auth("buyer_a"), "Idempotency-Key": key}
    placed = client.post(f"{API}/orders", json=body, headers=headers)
    assert placed.status_code == 201, placed.text
    while relay_once(world.db, world.relay_registry(), world.clock()):
        pass
    shipments = client.get(
        f"{API}/orders/{placed.json()['id']}/shipments", headers=world.auth("operator")
    ).json()
    [shipment] = shipments
    shipment_id: str = shipment["id"]
    return shipment_id


def get(client: TestClient, world: World, path: str, who: str = "operator", **params: Any) -> Any:
    response = client.get(f"{API}{path}", params=params, headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_planned_shipment_gets_its_chain_and_emissions_with_an_audit_trail(
    world: World, client: TestClient
) -> None:
    shipment = ship(client, world, "seller_a_blue", "emis-0001")  # 120 g from Hangzhou, flown to Singapore
    found = get(client, world, f"/emissions/shipments/{shipment}")
    assert (found["version"], found["marketplace"], found["division"]) == (
        1,
        "lazada",
        "international-commerce-division",
    )
    assert found["seller"] == world.ids["seller_a"] and found["market"] == "lazada-sg"
    kinds = [(e["kind"], e["origin"]) for e in found["elements"]]
    assert kinds == [  # a hub operation at every site the parcel is handled, from warehouse to station
        ("hub", "cn-hangzhou"),
        ("leg", "cn-hangzhou"),
        ("hub", "air-HGH"),
        ("leg", "air-HGH"),
        ("hub", "air-SIN"),
        ("leg", "air-SIN"),
        ("hub", "hub-sg"),
        ("leg", "hub-sg"),
        ("hub", "ds-sg-central"),
    ]
    legs = [e for e in found["elements"] if e["kind"] == "leg"]
    # 0.00012 t x 40 km x (102 + 23); x 3,500 km x (755 + 206), short haul;
    # x 20 km x (102 + 23); x 12 km x (631 + 151)
    assert [round(e["wtw_g"], 3) for e in legs] == [0.6, 403.62, 0.3, 1.126]
    assert [e["ttw_g"] for e in legs] == [0.49, 317.1, 0.245, 0.909]
    flight = legs[1]
    assert (
        flight["distance_rule"] == "great-circle + 95 km"
        and flight["category"] == "air/freighter_short_haul/kerosene"
    )
    assert flight["factor"] == {
        "table": "desnz-2025@1", "row": 9, "ttw": 755.0, "wtt": 206.0, "wtw": 961.0, "unit": "g/tkm",
        "source": "UK DESNZ GHG conversion factors 2025 (freighting goods)",
    }  # fmt: skip
    hubs = {e["origin"]: e for e in found["elements"] if e["kind"] == "hub"}
    # GLEC v3.0 defaults, kg CO2e per tonne handled, x 0.00012 t: warehouse 17.5, transhipment 0.6
    assert {code: h["wtw_g"] for code, h in hubs.items()} == {
        "cn-hangzhou": 2.1, "air-HGH": 0.0, "air-SIN": 0.0, "hub-sg": 0.072, "ds-sg-central": 0.072,
    }  # fmt: skip
    assert (
        hubs["hub-sg"]["factor"]["table"] == "glec-v3-hubs@1" and hubs["hub-sg"]["factor"]["unit"] == "kg/t"
    )
    assert "GLEC Framework v3.0" in hubs["cn-hangzhou"]["factor"]["source"]
    airport = hubs["air-HGH"]  # no published default: counted as zero, flagged, and the reason given
    assert airport["missing_factor"] and airport["factor"] is None
    assert "no air cargo terminal" in airport["missing_reason"]
    assert hubs["hub-sg"]["missing_reason"] is None
    assert found["legs_wtw_g"] == pytest.approx(405.646) and found["hubs_wtw_g"] == pytest.approx(2.244)
    assert found["wtw_g"] == pytest.approx(407.89) and found["wtw_g"] == pytest.approx(
        found["ttw_g"] + found["wtt_g"]
    )
    with world.db.transaction() as session:  # a second delivery of the event records nothing twice
        emissions.record_shipment(session, shipment, world.clock())
        assert session.scalar(select(func.count()).select_from(ShipmentActivity)) == 1


def test_a_new_factor_table_makes_a_new_version_and_leaves_the_old_intact(
    world: World, client: TestClient
) -> None:
    shipment = ship(client, world, "seller_a_blue", "emis-0002")
    before = get(client, world, f"/emissions/shipments/{shipment}")
    ops = {**world.auth("operator"), "Content-Type": "text/csv"}
    loaded = client.post(
        f"{API}/emissions/factor-tables",
        params={"name": "hubs", "kind": "regional", "countries": "CN,SG"},
        content=HUBS,
        headers=ops,
    )
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["calculation_version"] == 2 and loaded.json()["table"]["version"] == 1
    after = get(client, world, f"/emissions/shipments/{shipment}")
    assert after["version"] == 2
    assert get(client, world, f"/emissions/shipments/{shipment}", version=1) == before  # untouched
    hubs = {e["origin"]: e for e in after["elements"] if e["kind"] == "hub"}
    assert hubs["air-HGH"]["wtw_g"] == pytest.approx(0.3) and hubs["hub-sg"]["wtw_g"] == pytest.approx(0.18)
    assert hubs["air-HGH"]["factor"]["table"] == "hubs@1"
    # the regional table's hub figure beats the default's (0.18 g instead of 0.072 g at hub-sg)
    assert after["wtw_g"] == pytest.approx(before["wtw_g"] + 0.3 + 0.3 + 0.18 - 0.072)
    # the recompute (vectorised) gives the legs the figures recording (row by row) gave, to the milligram
    figures = [(e["ttw_g"], e["wtt_g"], e["factor"]) for e in before["elements"] if e["kind"] == "leg"]
    assert [(e["ttw_g"], e["wtt_g"], e["factor"]) for e in after["elements"] if e["kind"] == "leg"] == figures
    versions = get(client, world, "/emissions/versions")
    assert [v["tables"] for v in versions] == [
        ["glec-v3-hubs@1", "desnz-2025@1"],
        ["hubs@1", "glec-v3-hubs@1", "desnz-2025@1"],
    ]
    again = client.post(
        f"{API}/emissions/factor-tables",
        params={"name": "hubs", "kind": "regional", "countries": "CN,SG"},
        content=HUBS,
        headers=ops,
    )
    assert_problem(again, 409, "factor-table-unchanged")
    with world.db.transaction() as session:
        assert (
            session.scalar(select(func.count()).select_from(ElementResult)) == 18
        )  # 9 elements x 2 versions


def test_a_malformed_factor_file_is_rejected_with_rows_and_reasons_and_changes_nothing(
    world: World, client: TestClient
) -> None:
    ship(client, world, "seller_a_blue", "emis-0003")
    ops = {**world.auth("operator"), "Content-Type": "text/csv"}
    rows = [
        "road,hgv_all,diesel,102,23,125,ok",
        "road,van,diesel,631,151,700,x",
        "rail,train,mixed,lots,1,2,x",
    ]
    bad = "\n".join([HEADER, *rows, ""])
    response = client.post(
        f"{API}/emissions/factor-tables",
        params={"name": "asia", "kind": "regional", "countries": "CN SG MY"},
        content=bad,
        headers=ops,
    )
    body = assert_problem(response, 422, "validation-failed")
    assert field_errors(body) == {
        "row 3": "wtw 700 is not ttw 631 + wtt 151 = 782",
        "row 4": "ttw_g_co2e_per_tkm 'lots' is not a number",
    }
    wrong_kind = client.post(
        f"{API}/emissions/factor-tables",
        params={"name": "asia", "kind": "default"},
        content=HUBS,
        headers=ops,
    )
    assert field_errors(assert_problem(wrong_kind, 422, "validation-failed")) == {
        "kind": "one of regional, carrier"
    }
    assert [t["name"] for t in get(client, world, "/emissions/factor-tables")] == [
        "desnz-2025",
        "glec-v3-hubs",
    ]
    assert len(get(client, world, "/emissions/versions")) == 1
    seller = {**world.auth("seller_a"), "Content-Type": "text/csv"}
    forbidden = client.post(
        f"{API}/emissions/factor-tables",
        params={"name": "x", "kind": "regional"},
        content=HUBS,
        headers=seller,
    )
    assert_problem(forbidden, 403, "forbidden")


def test_reports_by_dimension_and_period_and_a_seller_sees_only_its_own(
    world: World, client: TestClient
) -> None:
    ship(client, world, "seller_a_blue", "emis-0004")
    ship(client, world, "seller_a_red", "emis-0005")  # from sg-tuas: road and van only
    by_division = get(client, world, "/emissions/report", period="FY2026", by="division")
    [row] = by_division["rows"]
    assert row["key"] == "international-commerce-division" and row["parcels"] == 2
    total = by_division["total"]
    assert total["wtw_kg"] == pytest.approx(total["ttw_kg"] + total["wtt_kg"])
    assert total["g_per_parcel"] == pytest.approx(total["wtw_kg"] * 1000 / 2)
    assert total["g_per_tkm"] == pytest.approx(total["wtw_kg"] * 1000 / total["tkm"])
    by_shipment = get(client, world, "/emissions/report", period="2025-11", by="shipment")
    assert sum(r["wtw_kg"] for r in by_shipment["rows"]) == pytest.approx(total["wtw_kg"])
    by_mode = {
        r["key"]: r for r in get(client, world, "/emissions/report", period="FY2026", by="mode")["rows"]
    }
    assert set(by_mode) == {"air", "road", "last_mile", "hub"}
    assert get(client, world, "/emissions/report", period="FY2025", by="division")["rows"] == []
    mine = get(client, world, "/emissions/report", who="seller_a", period="FY2026", by="seller")
    assert [r["key"] for r in mine["rows"]] == [world.ids["seller_a"]] and mine["total"] == total
    theirs = get(client, world, "/emissions/report", who="seller_b", period="FY2026", by="seller")
    assert theirs["rows"] == [] and theirs["total"]["parcels"] == 0
    series = get(client, world, "/emissions/series", period="FY2026-Q3", by="division")
    assert series["period"] == "FY2026Q3"  # labelled as reporting labels it, however it was written
    assert [(p["month"], p["parcels"]) for p in series["points"]] == [("2025-11", 2)]
    shipment = by_shipment["rows"][0]["key"]
    assert_problem(
        client.get(f"{API}/emissions/shipments/{shipment}", headers=world.auth("seller_b")), 404, "not-found"
    )
    assert get(client, world, f"/emissions/shipments/{shipment}", who="seller_a")["shipment"] == shipment
    assert_problem(
        client.get(f"{API}/emissions/report?period=FY2026", headers=world.auth("buyer_a")), 403, "forbidden"
    )
    assert_problem(client.get(f"{API}/emissions/report?period=FY2026"), 401, "unauthenticated")


def test_periods_follow_the_fiscal_year_end_of_the_settings(world: World, client: TestClient) -> None:
    ship(client, world, "seller_a_blue", "emis-0011")  # planned in November 2025
    march = get(client, world, "/emissions/report", period="FY2026-Q3")  # the default: years end in March
    assert (march["period"], march["start"], march["end"]) == ("FY2026Q3", "2025-10-01", "2026-01-01")
    assert march["total"]["parcels"] == 1
    december = world.client(fiscal_year_end_month=12)  # ENTREPOT_FISCAL_YEAR_END_MONTH=12
    fy2025 = get(december, world, "/emissions/report", period="FY2025")
    assert (fy2025["start"], fy2025["end"], fy2025["total"]["parcels"]) == ("2025-01-01", "2026-01-01", 1)
    q4 = get(december, world, "/emissions/report", period="FY2025Q4")
    assert (q4["period"], q4["start"], q4["total"]["parcels"]) == ("FY2025Q4", "2025-10-01", 1)
    assert get(december, world, "/emissions/report", period="FY2026")["total"]["parcels"] == 0
    scenario = december.post(
        f"{API}/emissions/scenarios", json={"period": "FY2025-Q4"}, headers=world.auth("operator")
    )
    assert scenario.status_code == 200 and scenario.json()["period"] == "FY2025Q4"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "FY26"}, "period", "period 'FY26' is not understood"),
        ({"period": "2025-13"}, "period", "month 13 is not 01-12"),
        ({"period": "2025-12-01..2025-11-01"}, "period", "is not after its start"),
        ({"period": "FY2026", "by": "colour"}, "by", "one of leg, shipment, order, seller, marketplace"),
        ({"period": "FY2026", "version": 9}, "version", "versions are 1 to 1"),
    ],
)
def test_bad_periods_and_dimensions_are_precise_errors(
    world: World, client: TestClient, params: dict[str, Any], field: str, message: str
) -> None:
    ship(client, world, "seller_a_red", "emis-0006")
    body = assert_problem(
        client.get(f"{API}/emissions/report", params=params, headers=world.auth("operator")),
        422,
        "validation-failed",
    )
    assert message in field_errors(body)[field]


def test_targets_pathway_and_scenarios(world: World, client: TestClient) -> None:
    ship(client, world, "seller_a_blue", "emis-0007")
    ops = world.auth("operator")
    total = get(client, world, "/emissions/report", period="FY2026")["total"]
    created = client.post(
        f"{API}/emissions/targets",
        json={"name": "halve intensity", "metric": "g_per_tkm", "baseline_value": 1000.0},
        headers=ops,
    )
    assert created.status_code == 201, created.text
    target = created.json()
    assert (target["baseline_year"], target["target_year"], target["reduction"]) == (2022, 2030, 0.5)
    progress = get(client, world, f"/emissions/targets/{target['id']}/progress")
    years = {y["fiscal_year"]: y for y in progress["years"]}
    assert progress["target_value"] == 500.0 and years["FY2026"]["pathway"] == pytest.approx(750.0)
    assert years["FY2026"]["actual"] == pytest.approx(total["g_per_tkm"], rel=1e-3)
    assert years["FY2026"]["on_track"] is (total["g_per_tkm"] <= 750.0)
    assert years["FY2022"]["actual"] is None and years["FY2030"]["actual"] is None
    assert (progress["baseline_kind"], progress["baseline_basis"]) == (
        "imported",
        "imported figure for FY2022 (no source stated)",
    )
    sourced = {
        "name": "group",
        "baseline_value": 12.5,
        "baseline_source": "Group annual report FY2022, p. 41",
    }
    imported = client.post(f"{API}/emissions/targets", json=sourced, headers=ops).json()
    assert imported["baseline_source"] == "Group annual report FY2022, p. 41"
    assert get(client, world, f"/emissions/targets/{imported['id']}/progress")["baseline_basis"] == (
        "imported figure for FY2022 (Group annual report FY2022, p. 41)"
    )
    # FY2022 has no recorded shipments: the first later year with data stands in, and progress says so
    built = client.post(f"{API}/emissions/targets", json={"name": "abs"}, headers=ops).json()
    shown = get(client, world, f"/emissions/targets/{built['id']}/progress")
    assert shown["baseline_kind"] == "built" and shown["baseline_basis"] == (
        "built from the platform's data: FY2022 has no recorded shipments, "
        "so FY2026's (version 1) stand in for it"
    )
    fy2026 = {y["fiscal_year"]: y for y in shown["years"]}["FY2026"]
    assert shown["baseline_value"] == pytest.approx(total["wtw_kg"] / 1000 * 365 / 365)
    assert fy2026["actual"] == pytest.approx(shown["baseline_value"]) and fy2026["on_track"] is False
    lone = client.post(f"{API}/emissions/targets", json={"name": "s", "baseline_source": "x"}, headers=ops)
    assert field_errors(assert_problem(lone, 422, "validation-failed")) == {
        "baseline_source": "give baseline_value too, or leave the source out"
    }
    none_yet = client.post(
        f"{API}/emissions/targets", json={"name": "later", "baseline_year": 2027}, headers=ops
    ).json()
    no_baseline = client.get(f"{API}/emissions/targets/{none_yet['id']}/progress", headers=ops)
    assert "FY2027" in assert_problem(no_baseline, 422, "validation-failed")["detail"]
    bad = client.post(f"{API}/emissions/targets", json={"name": "x", "baseline_year": 2030}, headers=ops)
    assert field_errors(assert_problem(bad, 422, "validation-failed")) == {
        "target": "the target year must come after the baseline year"
    }

    body = {
        "period": "FY2026",
        "shift_air_share": 1.0,
        "shift_air_to": "sea",
        "lanes": ["cn-sg"],
        "target": target["id"],
    }
    shifted = client.post(f"{API}/emissions/scenarios", json=body, headers=ops)
    assert shifted.status_code == 200, shifted.text
    outcome = shifted.json()
    assert outcome["baseline"]["wtw_kg"] == pytest.approx(total["wtw_kg"])
    assert (
        outcome["scenario_wtw_kg"] < 0.05 * outcome["baseline"]["wtw_kg"]
    )  # the flight was nearly all of it
    assert outcome["shifted_tkm"] == pytest.approx(0.00012 * 3500)
    assert outcome["projection"]["target_value"] == 500.0
    elsewhere = client.post(
        f"{API}/emissions/scenarios", json={**body, "lanes": ["CN-MY"]}, headers=ops
    ).json()
    assert (
        elsewhere["scenario_wtw_kg"] == pytest.approx(outcome["baseline"]["wtw_kg"])
        and elsewhere["change_pct"] == 0
    )
    # renewable electricity at the warehouse kind and at the named hub-sg: the 2.1 g and 0.072 g go
    hubs = [{"hub": "fulfilment_warehouse", "share": 1.0}, {"hub": "hub-sg", "share": 1.0}]
    greener = {"period": "FY2026", "renewable_hubs": hubs}
    green = client.post(f"{API}/emissions/scenarios", json=greener, headers=ops).json()
    assert green["baseline_hubs_wtw_kg"] == pytest.approx(0.002244)
    assert green["scenario_hubs_wtw_kg"] == pytest.approx(0.000072)  # the station's share stays
    assert green["scenario_wtw_kg"] == pytest.approx(total["wtw_kg"] - 0.002172)
    too_much = client.post(
        f"{API}/emissions/scenarios",
        json={"period": "FY2026", "renewable_hubs": [{"hub": "hub-sg", "share": 2}]},
        headers=ops,
    )
    assert "renewable_hubs[0].share" in field_errors(assert_problem(too_much, 422, "validation-failed"))
    wrong = client.post(
        f"{API}/emissions/scenarios", json={"period": "FY2026", "shift_air_share": 2}, headers=ops
    )
    assert "shift_air_share" in field_errors(assert_problem(wrong, 422, "validation-failed"))
    lane = client.post(
        f"{API}/emissions/scenarios", json={"period": "FY2026", "lanes": ["CHN-SGP"]}, headers=ops
    )
    assert "lanes[0]" in field_errors(assert_problem(lane, 422, "validation-failed"))
    sellers = client.post(
        f"{API}/emissions/scenarios", json={"period": "FY2026"}, headers=world.auth("seller_a")
    )
    assert_problem(sellers, 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "t", "baseline_value": 1e400}', "baseline_value"),  # JSON's 1e400 reads as infinity
        ('{"name": " "}', "name"),
        ('{"name": "t", "baseline_year": 1, "target_year": 99999}', "baseline_year"),
        ('{"name": "' + "x" * 121 + '"}', "name"),
    ],
)
def test_a_target_with_a_blank_name_or_a_number_out_of_reach_is_refused(
    world: World, client: TestClient, body: str, field: str
) -> None:
    ops = {**world.auth("operator"), "Content-Type": "application/json"}
    refused = client.post(f"{API}/emissions/targets", content=body, headers=ops)
    assert field in field_errors(assert_problem(refused, 422, "validation-failed"))
    assert get(client, world, "/emissions/targets") == []


def test_a_factor_file_that_repeats_a_column_is_refused(world: World, client: TestClient) -> None:
    ops = {**world.auth("operator"), "Content-Type": "text/csv"}
    repeated = f"{HEADER},mode\nroad,van,diesel,1,1,2,me,rail\n"
    response = client.post(
        f"{API}/emissions/factor-tables",
        params={"name": "t", "kind": "regional", "countries": "SG"},
        content=repeated,
        headers=ops,
    )
    assert field_errors(assert_problem(response, 422, "validation-failed")) == {
        "row 1": "duplicate column mode"
    }
    assert [t["name"] for t in get(client, world, "/emissions/factor-tables")] == [
        "desnz-2025",
        "glec-v3-hubs",
    ]


def test_a_regional_table_prices_only_legs_and_hubs_inside_its_countries(
    world: World, client: TestClient
) -> None:
    shipment = ship(client, world, "seller_a_blue", "emis-0101")  # CN warehouse, flown to SG
    before = get(client, world, f"/emissions/shipments/{shipment}")
    ops = {**world.auth("operator"), "Content-Type": "text/csv"}
    cheap = (
        f"{HEADER},unit\n"
        "road,hgv_all,diesel,1,1,2,test trucks,g/tkm\n"
        "hub,sortation_hub,x,0.1,0,0.1,test hub,kg/t\n"
    )
    for countries, problem in (
        (None, {"countries": "must name the ISO 3166 alpha-2 codes it applies in (CN, SG)"}),
        ("Europe", {"countries": "must be 1-250 ISO 3166 alpha-2 country codes such as CN, SG: EUROPE"}),
    ):
        params = {"name": "eu", "kind": "regional"} | ({"countries": countries} if countries else {})
        refused = client.post(f"{API}/emissions/factor-tables", params=params, content=cheap, headers=ops)
        assert field_errors(assert_problem(refused, 422, "validation-failed")) == problem
    params = {"name": "eu", "kind": "regional", "countries": "DE,FR,NL"}
    loaded = client.post(f"{API}/emissions/factor-tables", params=params, content=cheap, headers=ops)
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["table"]["countries"] == ["DE", "FR", "NL"]
    outside = get(client, world, f"/emissions/shipments/{shipment}")
    assert outside["version"] == 2 and outside["wtw_g"] == before["wtw_g"]  # nothing here is in Europe
    params = {"name": "asia", "kind": "regional", "countries": "cn sg"}
    loaded = client.post(f"{API}/emissions/factor-tables", params=params, content=cheap, headers=ops)
    assert loaded.status_code == 201, loaded.text
    inside = get(client, world, f"/emissions/shipments/{shipment}")
    trucks = [e for e in inside["elements"] if e["category"].startswith("road/hgv_all")]
    assert len(trucks) == 2 and all(e["factor"]["table"] == "asia@1" for e in trucks)
    sorting = next(e for e in inside["elements"] if e["origin"] == "hub-sg" and e["kind"] == "hub")
    assert sorting["factor"]["table"] == "asia@1" and sorting["wtw_g"] == pytest.approx(0.012)
    with world.db.transaction() as session:  # what the planner and checkout read: the same version
        now = world.clock()
        assert estimates.current(session, now).version == inside["version"] == 3
        assert estimates.current(session, now).tables == ["asia@1", "eu@1", "glec-v3-hubs@1", "desnz-2025@1"]
