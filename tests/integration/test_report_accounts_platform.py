"""The accounts from the platform's own data: segment revenue from the snapshot where nothing is
published, reconciled to the platform's group total to the cent, as reported and recast; programme
outcomes measured from buyers in the programme's countries; Cainiao's share from shipments' fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from entrepot.logistics import service as logistics
from entrepot.platform.db import Database
from entrepot.reporting import service
from entrepot.reporting.accounts import programmes, scenario, segments
from entrepot.reporting.accounts.platform import PlatformAccounts
from entrepot.reporting.domain import FiscalCalendar
from entrepot.simulation.demo import seed_organisation
from tests.api.helpers import API
from tests.integration.test_shipping import _paid, _ship, small_network
from tests.reporting_data import fx, line, write_snapshot
from tests.world import World

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
FISCAL = FiscalCalendar(3)


@pytest.fixture
def platform(tmp_path: Path) -> PlatformAccounts:
    """Two orders in CNY in the Sep-2021 quarter (before the reorganisation) and two in the Mar-2022
    quarter: Taobao's buyers in China, Lazada's in Singapore."""
    facts = [
        line(
            order_id=1,
            line_id=1,
            business_unit="taobao",
            currency="CNY",
            market_country="CN",
            buyer_country="CN",
            order_date=dt.date(2021, 8, 1),
            goods_minor=10_000,
            commission_minor=501,
        ),
        line(
            order_id=2,
            line_id=2,
            business_unit="lazada",
            currency="CNY",
            order_date=dt.date(2021, 8, 2),
            goods_minor=20_000,
            commission_minor=333,
        ),
        line(
            order_id=3,
            line_id=3,
            business_unit="taobao",
            currency="CNY",
            market_country="CN",
            buyer_country="CN",
            order_date=dt.date(2022, 2, 1),
            goods_minor=30_000,
            commission_minor=777,
        ),
        line(
            order_id=4,
            line_id=4,
            business_unit="lazada",
            currency="CNY",
            order_date=dt.date(2022, 2, 2),
            goods_minor=40_000,
            commission_minor=1_001,
        ),
    ]
    root = write_snapshot(tmp_path / "snap", facts)
    return PlatformAccounts(service.Snapshot(root), FISCAL, fx(), {})


@pytest.fixture
def scenario_db(database: Database) -> Database:
    with database.transaction() as session:
        seed_organisation(session, NOW)
        scenario.load(session, FISCAL, NOW)
    return database


def _revenue(report: dict[str, object]) -> dict[str, object]:
    return {
        r["segment"]: (r["revenue"], r["revenue_source"].split(":")[0])
        for r in segments.public_rows(report)["rows"]
    }  # type: ignore[index, union-attr]


def test_segment_revenue_from_the_platform_reconciles_recast_and_as_reported(
    scenario_db: Database, platform: PlatformAccounts
) -> None:
    with scenario_db.transaction() as session:
        recast = _revenue(segments.segment_results(session, "FY2022Q2", "recast", FISCAL, platform))
        reported = _revenue(segments.segment_results(session, "FY2022Q2", "as-reported", FISCAL, platform))
    assert recast["china-commerce"] == ("5.01", "platform")
    assert recast["international-commerce"] == ("3.33", "platform")
    assert recast["total"] == ("8.34", "platform") and recast["other"] == ("0.00", "platform")
    assert reported["core-commerce"] == ("8.34", "platform")
    assert reported["total"] == recast["total"] and reported["other"] == ("0.00", "platform")
    assert "china-commerce" not in reported


def test_a_published_total_is_not_reconciled_with_platform_segments(
    scenario_db: Database, platform: PlatformAccounts
) -> None:
    """FY2022Q3 has published segments and total: those stand, the platform's are not mixed in."""
    with scenario_db.transaction() as session:
        rows = _revenue(segments.segment_results(session, "FY2022Q3", "recast", FISCAL, platform))
    assert rows["total"] == ("242580000000.00", "external")
    assert rows["china-commerce"][1] == "external"


def test_programme_outcome_is_gmv_from_buyers_in_its_countries(
    scenario_db: Database, platform: PlatformAccounts
) -> None:
    with scenario_db.transaction() as session:
        programmes.add_target(
            session, "rural-revitalisation-cn", "gmv", Decimal(800), "CNY", dt.date(2025, 3, 31), "test"
        )
        programmes.add_target(
            session,
            "rural-revitalisation-cn",
            "active_buyers",
            Decimal(4),
            None,
            dt.date(2025, 3, 31),
            "test",
        )
        report = programmes.programmes_report(session, "FY2022", FISCAL, platform.measure)
    rows = {(r["programme"], r["outcome"]): r for r in report}
    gmv, buyers = rows[("rural-revitalisation-cn", "gmv")], rows[("rural-revitalisation-cn", "active_buyers")]
    assert (gmv["measured"], gmv["outcome_currency"], gmv["target"]) == ("400.00", "CNY", "800.00")
    assert gmv["progress_pct"] == "50.0" and gmv["measured_source"].startswith("platform")
    # one buyer in China ordered twice: one active buyer of the four aimed at
    assert (buyers["measured"], buyers["outcome_currency"], buyers["target"]) == ("1", None, "4")
    assert buyers["progress_pct"] == "25.0"
    assert rows[("ageing-population-cn", "gmv")]["target"] is None


def test_cainiao_share_without_shipments_says_so(scenario_db: Database) -> None:
    with scenario_db.transaction() as session:
        rows = segments.cainiao_abroad(session, "FY2022", FISCAL)["rows"]
    assert rows[0]["source"] == "no published share for FY2022 imported"
    assert rows[1]["abroad_pct"] is None and "no shipment fee" in rows[1]["source"]


@pytest.fixture
def shipping(world: World) -> TestClient:
    """The world with test_shipping's small network, so that a paid order is shipped."""
    with world.db.transaction() as session:
        logistics.store_network(session, small_network())
    return world.client()


def test_cainiao_share_from_the_platform_s_shipment_fees(world: World, shipping: TestClient) -> None:
    """A parcel from a warehouse abroad to Singapore: all of November's fees are earned outside China."""
    _ship(shipping, world, _paid(shipping, world, "seller_a_blue", "cainiao-0001"))
    response = shipping.get(
        f"{API}/reports/cainiao-abroad", params={"period": "2025-11"}, headers=world.auth("operator")
    )
    assert response.status_code == 200, response.text
    published, measured = response.json()["rows"]
    assert published["source"] == "no published share for 2025-11 imported"
    assert measured["abroad_pct"] == "100.0" and measured["abroad_fees"] == measured["all_fees"]
    assert measured["source"] == "platform: fees of 1 shipments by revenue origin"
