"""The group accounts page in a real browser (as test_console_charts.py: Chromium, axe-core, screenshots
under test-artifacts/console/): an operator follows the reporting page's link, reads this year's segment
revenue drawn by quarter from the platform's own figures, Ant Group's share with "no source", the
programmes and Cainiao's published 57 %; asks for the Dec-2021 quarter's published segments; and a bad
period is marked on its field. No serious or critical accessibility violation on any of them; the chart
is drawn by the vendored ECharts under the page's Content-Security-Policy, from nothing but this server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrepot.api.app import create_app
from entrepot.identity import users
from entrepot.platform.db import Database
from tests.api.helpers import API, pay, place_ok
from tests.e2e.conftest import served
from tests.e2e.test_console import PASSWORD, Visit, axe  # noqa: F401 (the module's fixture)
from tests.e2e.test_console_pages import follow
from tests.world import build_world

pytestmark = pytest.mark.slow  # a server and a browser: seconds
PAGE = "/reporting/accounts"


@pytest.fixture(scope="module")
def accounted(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """The test world with paid orders, a reporting snapshot, the group-facts scenario and an operator;
    served on a free port."""
    folder = tmp_path_factory.mktemp("accounts")
    shutil.copy(sqlite_template, folder / "entrepot.db")
    db = Database(f"sqlite:///{folder / 'entrepot.db'}")
    world = build_world(db)
    settings: dict[str, Any] = {"reporting_snapshot_dir": str(folder / "snapshot"), "run_relay": False}
    api = world.client(**settings)
    ops = world.auth("operator")
    with world.db.transaction() as session:
        users.create_user(session, "ops", PASSWORD, "operator", world.clock())
    for sku in ("seller_a_red", "seller_a_blue"):
        order = place_ok(api, world, (sku, 2))
        assert pay(api, world, order["id"]).status_code == 202
    assert api.post(f"{API}/reports/snapshot", headers=ops).status_code == 200
    assert api.post(f"{API}/reports/scenarios/group-facts", headers=ops).status_code == 201
    app = create_app(world.settings(**settings), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield url
    db.dispose()


def test_an_operator_reads_the_group_accounts(
    accounted: str,
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    visit = Visit(browser, accounted)
    visit.sign_in("ops")
    page = visit.page
    visit.goto("/reporting")
    follow(page.get_by_role("link", name="Group accounts", exact=False))
    assert page.get_by_role("heading", name="Group accounts", exact=True).is_visible()
    assert page.get_by_label("Fiscal period", exact=True).input_value() == "FY2026"
    drawing = page.locator('[data-chart="segment-revenue"] svg')
    drawing.first.wait_for(state="attached")
    assert drawing.locator("path").count() > 0
    recast = page.get_by_role("table", name="Revenue and adjusted EBITA by segment, recast (CNY)")
    assert recast.get_by_text("platform: commission and logistics fees", exact=False).first.is_visible()
    shares = page.get_by_role("table", name="The group's share of its investees' results, FY2026")
    assert shares.get_by_role("row").filter(has_text="FY2026Q4").get_by_text("33 %").is_visible()
    assert shares.get_by_role("row").filter(has_text="FY2026Q4").get_by_text("no source").first.is_visible()
    cainiao = page.get_by_role("region", name="Share of Cainiao's revenue earned outside China", exact=False)
    assert cainiao.get_by_role("row").filter(has_text="LTM2021-09").get_by_text("57 %").first.is_visible()
    assert page.get_by_role("row").filter(has_text="Rural revitalisation").first.is_visible()
    visit.check("accounts", axe)
    page.get_by_label("Fiscal period", exact=True).fill("FY2022Q3")
    page.get_by_label("View", exact=True).select_option("as-reported")
    follow(page.get_by_role("button", name="Show"))
    reported = page.get_by_role("table", name="Revenue and adjusted EBITA by segment, as reported (CNY)")
    assert (
        reported.get_by_role("row")
        .filter(has_text="Group total")
        .get_by_text("242,580,000,000.00")
        .is_visible()
    )
    visit.check("accounts-fy2022q3", axe)
    page.get_by_label("Fiscal period", exact=True).fill("FY20X")
    follow(page.get_by_role("button", name="Show"))
    assert page.get_by_label("Fiscal period", exact=True).get_attribute("aria-invalid") == "true"
    visit.check("accounts-refused", axe)
    visit.done()
