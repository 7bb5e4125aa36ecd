"""The console's charts in a real browser (as test_console.py: Chromium, axe-core, screenshots under
test-artifacts/console/): the reporting page draws GMV by segment and fiscal quarter with the seed's
targets and guidance, the emissions page the pathway to -50 % by FY2030 and the months by mode. Each
chart is drawn by the vendored ECharts under the page's Content-Security-Policy (a refused script or an
error fails Visit.done), from nothing but this server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrepot.api.app import create_app
from entrepot.identity import users
from entrepot.logistics import service as logistics
from entrepot.platform.db import Database
from tests.api.helpers import API
from tests.api.test_emissions_api import network, ship
from tests.e2e.conftest import served
from tests.e2e.test_console import PASSWORD, Visit, axe  # noqa: F401 (the module's fixture)
from tests.e2e.test_console_pages import follow, signed_in_at
from tests.world import build_world

pytestmark = pytest.mark.slow  # a server and a browser: seconds


@pytest.fixture(scope="module")
def charted(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """The test world with shipped orders, a reporting snapshot, the seed's published figures, an
    emissions target, an operator and a seller; served on a free port."""
    folder = tmp_path_factory.mktemp("charts")
    shutil.copy(sqlite_template, folder / "entrepot.db")
    db = Database(f"sqlite:///{folder / 'entrepot.db'}")
    world = build_world(db)
    settings: dict[str, Any] = {"reporting_snapshot_dir": str(folder / "snapshot"), "run_relay": False}
    api = world.client(**settings)
    ops = world.auth("operator")
    with world.db.transaction() as session:
        logistics.store_network(session, network())
        users.create_user(session, "ops", PASSWORD, "operator", world.clock())
        seller = world.ids["seller_a"]
        users.create_user(session, "seller-a", PASSWORD, "seller", world.clock(), seller_public_id=seller)
    for n, sku in enumerate(("seller_a_blue", "seller_a_red", "seller_a_blue")):
        ship(api, world, sku, f"charts-{n}")
    assert api.post(f"{API}/reports/snapshot", headers=ops).status_code == 200
    assert api.post(f"{API}/reports/scenarios/group-facts", headers=ops).status_code == 201
    target = {"name": "Halve CO2e per tkm", "metric": "g_per_tkm", "baseline_value": 2000.0}
    assert api.post(f"{API}/emissions/targets", json=target, headers=ops).status_code == 201
    app = create_app(world.settings(**settings), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield url
    db.dispose()


def _drawn(visit: Visit, chart_id: str) -> None:
    """The chart's drawing is there (ECharts' SVG) and its table of figures is readable."""
    chart = visit.page.locator(f'[data-chart="{chart_id}"] svg')
    chart.first.wait_for(state="attached")
    assert chart.locator("path").count() > 0


def test_an_operator_reads_gmv_targets_and_guidance(
    charted: str,
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, charted, "ops", "Reporting")
    page = visit.page
    assert page.get_by_label("Period", exact=True).input_value() == "FY2026"
    _drawn(visit, "gmv-quarters")
    assert page.get_by_role("table", name="GMV by segment and fiscal quarter, recast (USD)").is_visible()
    targets = page.get_by_role("table", name="Targets with the growth they require")
    assert targets.get_by_role("row").filter(has_text="100 bn USD").get_by_text("21 bn USD").is_visible()
    visit.check("reporting", axe)
    page.get_by_label("Period", exact=True).fill("FY2022")
    page.get_by_label("View", exact=True).select_option("as-reported")
    follow(page.get_by_role("button", name="Show"))
    assert page.get_by_text("+18.9 %").is_visible()
    revisions = page.get_by_role("table", name="Every issue of the guidance against the actual growth")
    assert revisions.get_by_role("row").filter(has_text="2021-11-18").get_by_text("+23.0 %").is_visible()
    visit.check("reporting-fy2022", axe)
    page.get_by_label("Period", exact=True).fill("FY20X")
    follow(page.get_by_role("button", name="Show"))
    assert page.get_by_label("Period", exact=True).get_attribute("aria-invalid") == "true"
    visit.check("reporting-refused", axe)
    visit.done()


def test_an_operator_reads_the_emissions_pathway_and_breakdowns(
    charted: str,
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, charted, "ops", "Emissions")
    page = visit.page
    _drawn(visit, "emissions-pathway")
    _drawn(visit, "emissions-monthly")
    pathway = page.get_by_role("region", name="Halve CO2e per tkm", exact=False)
    assert pathway.first.get_by_role("row").filter(has_text="FY2030").get_by_text("1,000.00").is_visible()
    by_mode = page.get_by_role("table", name="CO2e by transport mode, FY2026, largest first")
    assert by_mode.get_by_role("row").filter(has_text="air").is_visible()
    visit.check("emissions", axe)
    visit.done()


def test_a_seller_reads_its_own_emissions_without_targets(charted: str, browser: Any) -> None:
    visit = signed_in_at(browser, charted, "seller-a", "Emissions")
    page = visit.page
    _drawn(visit, "emissions-monthly")
    assert page.get_by_role("heading", name="Pathway to the target").count() == 0  # targets are operators'
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Reporting").count() == 0
    assert visit.goto("/reporting").status == 403
    visit.done()
