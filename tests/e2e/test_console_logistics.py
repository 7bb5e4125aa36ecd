"""The console's logistics pages in a real browser (as test_console.py: Chromium, axe-core, screenshots
under test-artifacts/console/), on the demo's network: an operator plans a route and sees the options
plotted (time against cost, CO2e as colour) and listed; the network map is drawn from this server alone
(every request to another host is blocked and none is attempted: the basemap ships with the product);
a shipment's page draws its route; a carrier sees only the shipments it carries a leg of."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from entrepot.api.app import create_app
from entrepot.identity import users
from entrepot.logistics import service as logistics
from entrepot.logistics.network_data import demo_network
from entrepot.platform.db import Database
from tests.api.helpers import API
from tests.api.test_emissions_api import ship
from tests.e2e.conftest import served
from tests.e2e.test_console import PASSWORD, Visit, axe  # noqa: F401 (the module's fixture)
from tests.e2e.test_console_pages import follow, signed_in_at
from tests.world import build_world

pytestmark = pytest.mark.slow  # a server and a browser: seconds


@dataclass(frozen=True)
class Shipped:
    url: str
    from_hangzhou: str  # from Hangzhou: a leg the carrier user's carrier runs
    from_tuas: str  # from Tuas: none of that carrier's legs
    carrier: str


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Shipped]:
    """The test world on the demo's network with two shipments of seller_a's, an operator and a carrier
    user whose carrier runs a leg of one of them only; served on a free port."""
    folder = tmp_path_factory.mktemp("logistics")
    shutil.copy(sqlite_template, folder / "entrepot.db")
    db = Database(f"sqlite:///{folder / 'entrepot.db'}")
    world = build_world(db)
    settings: dict[str, Any] = {"run_relay": False}
    api = world.client(**settings)
    with world.db.transaction() as session:
        logistics.store_network(session, demo_network())
    logistics.forget_network()
    from_hangzhou = ship(api, world, "seller_a_blue", "e2e-logistics-hangzhou")
    from_tuas = ship(api, world, "seller_a_red", "e2e-logistics-tuas")
    carrier = _carrier_of_only(api, world, from_hangzhou, from_tuas)
    world.clock.advance(days=1)
    _scanned_on_its_way(api, world, from_hangzhou)
    with world.db.transaction() as session:
        users.create_user(session, "ops", PASSWORD, "operator", world.clock())
        users.create_user(
            session,
            "carrier",
            PASSWORD,
            "carrier",
            world.clock(),
            carrier=carrier,
            carriers=lambda _: {carrier},
        )
    app = create_app(world.settings(**settings), world.db)
    app.state.ctx.clock = world.clock
    with served(app) as url:
        yield Shipped(url, from_hangzhou, from_tuas, carrier)
    logistics.forget_network()
    db.dispose()


def _carrier_of_only(api: Any, world: Any, from_hangzhou: str, from_tuas: str) -> str:
    def carriers(shipment: str) -> set[str]:
        found = api.get(f"{API}/shipments/{shipment}", headers=world.auth("operator")).json()
        return {leg["carrier"] for leg in found["legs"]}

    only = sorted(carriers(from_hangzhou) - carriers(from_tuas))
    assert only, "the two shipments share every carrier"
    return only[0]


def _scanned_on_its_way(api: Any, world: Any, shipment: str) -> None:
    """Picked up, at the first hub, departed from it: as its first two legs were planned."""
    legs = api.get(f"{API}/shipments/{shipment}", headers=world.auth("operator")).json()["legs"]
    scans = [
        ("picked_up", legs[0]["origin"], legs[0]["departs_at"]),
        ("at_hub", legs[0]["destination"], legs[0]["arrives_at"]),
        ("departed", legs[1]["origin"], legs[1]["departs_at"]),
    ]
    for n, (kind, node, at) in enumerate(scans):
        body = {"event_id": f"e2e-{n}", "type": kind, "occurred_at": at, "node": node}
        posted = api.post(f"{API}/shipments/{shipment}/scans", json=body, headers=world.auth("operator"))
        assert posted.status_code == 200, posted.text


def _blocking_other_hosts(visit: Visit) -> list[str]:
    """Every request to a host other than this server is aborted and recorded."""
    host = urlsplit(visit.base_url).netloc
    attempted: list[str] = []

    def handle(route: Any) -> None:
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    visit.page.route("**/*", handle)
    return attempted


def _map_drawn(visit: Visit, map_id: str, at_least: int) -> None:
    """The map has its country outlines (from this server) and at least `at_least` drawn shapes."""
    visit.page.locator(f'[data-map="{map_id}"][data-drawn="true"]').wait_for()
    drawn = visit.page.locator(f'[data-map="{map_id}"] .leaflet-overlay-pane path').count()
    assert drawn >= at_least, drawn


def test_an_operator_plans_a_route_and_sees_the_options_plotted(
    shipped: Shipped,
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, shipped.url, "ops", "Logistics")
    attempted = _blocking_other_hosts(visit)
    page = visit.page
    follow(page.get_by_role("navigation", name="Logistics").get_by_role("link", name="Route planner"))
    page.get_by_label("Origin", exact=True).fill("HGH")
    page.get_by_label("Destination", exact=True).fill("ds-sg-tampines")
    page.get_by_label("Weight (kg)", exact=True).fill("2")
    page.get_by_label("Ready at (UTC)", exact=True).fill("2025-11-11T09:00")
    follow(page.get_by_role("button", name="Plan"))
    options = page.get_by_role("table", name="Route options", exact=True)
    listed = options.get_by_role("row").count() - 1  # its heading row
    assert listed >= 2, options.inner_text()
    scatter = page.locator('[data-chart="route-options"] svg')
    scatter.first.wait_for(state="attached")
    # a symbol per option (ECharts draws each as a path) and the CO2e scale's legend
    assert scatter.locator("path").count() >= listed
    plotted = page.get_by_role("table", name="Route options from air-HGH to ds-sg-tampines", exact=False)
    assert plotted.get_by_role("row").count() - 1 == listed
    _map_drawn(visit, "route-paths", listed)
    visit.check("logistics-planner", axe)
    page.get_by_label("Weight (kg)", exact=True).fill("0")
    follow(page.get_by_role("button", name="Plan"))
    assert page.get_by_label("Weight (kg)", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_role("table", name="Route options", exact=True).count() == 0
    visit.check("logistics-planner-refused", axe)
    assert attempted == []
    visit.done()


def test_the_network_map_is_drawn_from_this_server_alone(
    shipped: Shipped,
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    visit = Visit(browser, shipped.url)
    attempted = _blocking_other_hosts(visit)
    visit.sign_in("ops")
    page = visit.page
    follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Logistics"))
    _map_drawn(visit, "network", 400)  # some 2,000 lanes and 437 nodes on 3 x 177 country outlines
    assert page.get_by_role("table", name="Lanes by transport mode").get_by_role("row").count() == 6
    assert "Natural Earth" in page.locator('[data-map="network"] .leaflet-control-attribution').inner_text()
    visit.check("logistics-network", axe)
    page.get_by_label("Country", exact=True).select_option("SG")
    follow(page.get_by_role("button", name="Apply"))
    _map_drawn(visit, "network", 20)
    connections = page.get_by_role("table", name="The logistics network in and out of SG: connections")
    assert connections.get_by_role("row").count() > 10
    follow(page.get_by_role("navigation", name="Logistics").get_by_role("link", name="Shipments"))
    follow(page.get_by_role("link", name=shipped.from_hangzhou))
    _map_drawn(visit, f"route-{shipped.from_hangzhou}", 3)
    timeline = page.locator("ol.timeline").inner_text()
    assert timeline.index("picked up") < timeline.index("at hub") < timeline.index("departed")
    assert page.get_by_role("table", name="Legs").get_by_role("row").count() >= 3
    visit.check("logistics-shipment", axe)
    follow(page.get_by_role("navigation", name="Logistics").get_by_role("link", name="Customs holds"))
    assert page.get_by_text("No shipment is held at customs.").is_visible()
    visit.check("logistics-customs", axe)
    assert attempted == [], attempted
    visit.done()


def test_a_carrier_sees_only_its_shipments(
    shipped: Shipped,
    browser: Any,
    axe: Any,  # noqa: F811
) -> None:
    visit = signed_in_at(browser, shipped.url, "carrier", "Logistics")
    page = visit.page
    follow(page.get_by_role("navigation", name="Logistics").get_by_role("link", name="Shipments"))
    table = page.get_by_role("table", name="Shipments, newest first")
    assert table.get_by_role("link", name=shipped.from_hangzhou).is_visible()
    assert table.get_by_role("link", name=shipped.from_tuas).count() == 0
    assert table.get_by_role("row").count() == 2  # the heading and its one shipment
    visit.check("logistics-shipments-carrier", axe)
    assert visit.goto(f"/logistics/shipments/{shipped.from_tuas}").status == 404
    assert visit.goto(f"/logistics/shipments/{shipped.from_hangzhou}").status == 200
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").count() == 0
    visit.done()
