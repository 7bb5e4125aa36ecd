"""The group accounts page (operators only, as GET /api/v1/reports/segment-results, /investees/share,
/programmes and /cainiao-abroad): over the test world with a reporting snapshot and the built-in
group-facts scenario (POST /reports/scenarios/group-facts, what `entrepot report scenario` loads), the
page shows the API's figures with their sources: the Dec-2021 quarter's published segment revenue and
what the platform measures for this year, Ant Group at 33 % a quarter in arrears with no result sourced,
the social programmes, and the published 57 % of Cainiao's revenue abroad beside the platform's share.
Bad periods and views are shown beside their fields; sellers, buyers and carriers are refused as the API
refuses them; the platform's figures are computed once per snapshot, not per request."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from entrepot.reporting import service
from entrepot.web import accounts
from tests.api.helpers import API, pay, place_ok
from tests.statements import count_statements
from tests.web.conftest import console_as
from tests.world import World

PAGE = "/reporting/accounts"


def _scenario(world: World, tmp_path: Path, orders: int = 1) -> dict[str, Any]:
    """Paid orders, a snapshot of them and the group-facts scenario: the settings to read them with."""
    settings: dict[str, Any] = {"reporting_snapshot_dir": str(tmp_path / "snapshot"), "run_relay": False}
    api = world.client(**settings)
    for _ in range(orders):
        order = place_ok(api, world, ("seller_a_red", 2))
        assert pay(api, world, order["id"]).status_code == 202
    ops = world.auth("operator")
    assert api.post(f"{API}/reports/snapshot", headers=ops).status_code == 200
    assert api.post(f"{API}/reports/scenarios/group-facts", headers=ops).status_code == 201
    return settings


def _api(world: World, settings: dict[str, Any], path: str, **params: str) -> Any:
    answer = world.client(**settings).get(f"{API}{path}", params=params, headers=world.auth("operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _flat(page: str) -> str:
    """The page's markup without the whitespace between tags, to find a table row whole."""
    return re.sub(r">\s+<", "><", page)


def _grouped(text: str | None) -> str:
    return "-" if text is None else f"{Decimal(text):,f}"


def test_segment_results_in_both_views_with_their_sources(
    world: World, people: dict[str, str], tmp_path: Path
) -> None:
    settings = _scenario(world, tmp_path)
    page = console_as(world, "ops", **settings).get(PAGE, params={"period": "FY2022Q3"})
    assert page.status_code == 200, page.text
    flat = _flat(page.text)
    for view in ("as-reported", "recast"):
        report = _api(world, settings, "/reports/segment-results", period="FY2022Q3", view=view)
        assert f"Revenue and adjusted EBITA by segment, {view.replace('-', ' ')} (CNY)" in page.text
        for row in report["rows"]:
            cells = (
                f'<th scope="row">{row["name"]}</th><td class="num">{_grouped(row["revenue"])}</td>'
                f'<td class="prose">{row["revenue_source"]}</td>'
            )
            assert cells.replace("'", "&#39;") in flat, cells
    assert "172,226,000,000.00" in flat and "242,580,000,000.00" in flat  # China commerce; the group
    assert "external: Dec-2021 quarter results (group-facts.md)" in flat
    links = re.findall(r'<a href="/reporting/accounts\?period=(\w+)&amp;view=recast">', page.text)
    assert links == ["FY2021", "FY2022", "FY2022Q3"]  # the published revenue's fiscal periods


def test_the_platforms_own_revenue_is_labelled_and_drawn_by_quarter(
    world: World, people: dict[str, str], tmp_path: Path
) -> None:
    settings = _scenario(world, tmp_path)
    report = _api(world, settings, "/reports/segment-results", period="FY2026Q3")
    measured = [r for r in report["rows"] if r["revenue_source"].startswith("platform")]
    assert measured, report  # the world's orders: the platform's own figures this quarter
    page = console_as(world, "ops", **settings).get(PAGE, params={"period": "FY2026"}).text
    spec = _chart(page, "segment-revenue")
    assert spec["categories"] == ["FY2026Q1", "FY2026Q2", "FY2026Q3", "FY2026Q4"]
    drawn = {s["name"]: s["values"][2] for s in spec["series"]}  # type: ignore[attr-defined]
    for row in report["rows"]:
        if row["segment"] not in ("total", "equity-method-investees") and row["revenue"] is not None:
            assert drawn[row["name"]] == pytest.approx(float(row["revenue"]))  # a few yuan: unit CNY
    assert spec["unit"] == "CNY"
    assert "platform: commission and logistics fees (the revenue report)" in page


def _chart(page: str, chart_id: str) -> dict[str, object]:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, re.S)
    assert found, page
    spec: dict[str, object] = json.loads(found.group(1))
    return spec


def test_ant_at_33_percent_a_quarter_in_arrears_says_no_source(
    world: World, people: dict[str, str], tmp_path: Path
) -> None:
    settings = _scenario(world, tmp_path)
    share = _api(world, settings, "/reports/investees/share", period="FY2022")
    page = _flat(console_as(world, "ops", **settings).get(PAGE, params={"period": "FY2022"}).text)
    for row in share["rows"]:
        cells = (
            f'<th scope="row">Ant Group</th><td>{row["recorded_in"]}</td><td>{row["results_of"]}</td>'
            f'<td class="num">33 %</td>' + '<td class="num">no source</td>' * 2
        )
        assert cells in page, cells
        assert row["source"] in page
    assert "33 % from 2019-04-01" in page and "1 quarter" in page  # the register: FY2020's first day


def test_a_sourced_result_shows_the_groups_share_and_its_source(
    world: World, people: dict[str, str], tmp_path: Path
) -> None:
    settings = _scenario(world, tmp_path)
    result = {"period": "FY2022Q2", "currency": "CNY", "net_income": "1000.01", "source": "test figure"}
    api = world.client(**settings)
    path = f"{API}/reports/investees/ant-group/results"
    assert api.post(path, json=result, headers=world.auth("operator")).status_code == 201
    page = _flat(console_as(world, "ops", **settings).get(PAGE, params={"period": "FY2022Q3"}).text)
    assert '<td class="num">1,000.01 CNY</td><td class="num">330.00 CNY</td>' in page
    assert "external: test figure; stake: 33 %" in page


def test_programmes_and_cainiaos_published_share_beside_the_platforms(
    world: World, people: dict[str, str], tmp_path: Path
) -> None:
    settings = _scenario(world, tmp_path)
    page = _flat(console_as(world, "ops", **settings).get(PAGE, params={"period": "FY2026"}).text)
    for programme in _api(world, settings, "/reports/programmes", period="FY2026")["rows"]:
        assert f'<th scope="row">{programme["name"]}</th>'.replace("'", "&#39;") in page
        assert programme["social"] is True
    assert "<td>rural revitalisation</td><td>social</td>" in page
    published, platform = _api(world, settings, "/reports/cainiao-abroad", period="LTM2021-09")["rows"]
    assert published["abroad_pct"] == "57"
    assert '<th scope="row">LTM2021-09</th><td class="num">57 %</td>' in page
    assert platform["source"] in page
    asked = _api(world, settings, "/reports/cainiao-abroad", period="FY2026")["rows"][-1]
    assert f'<th scope="row">FY2026</th><td class="num">{asked["abroad_pct"] or "-"}' in page
    assert asked["source"] in page


def test_bad_input_is_shown_beside_its_field(world: World, people: dict[str, str], tmp_path: Path) -> None:
    settings = _scenario(world, tmp_path)
    api = world.client(**settings)
    asked = {"period": "FY20X", "view": "sideways"}
    problem = api.get(f"{API}/reports/segment-results", params=asked, headers=world.auth("operator"))
    assert problem.status_code == 422
    console = console_as(world, "ops", **settings)
    page = console.get(PAGE, params={**asked, "abroad": "2021-13"})
    assert page.status_code == 422
    for name, value in (("period", "FY20X"), ("view", None), ("abroad", "2021-13")):
        if value is None:
            assert 'id="f-view" name="view" aria-invalid="true"' in page.text
        else:
            assert f'id="f-{name}" name="{name}" type="text" value="{value}" aria-invalid="true"' in page.text
    assert 'data-chart="segment-revenue"' not in page.text
    # a refused section says why it is empty, not that there is nothing
    assert "No equity-method investee registered." not in page.text and "No programme." not in page.text
    assert page.text.count("refused above") == 4
    month = console.get(PAGE, params={"period": "2021-12"})  # investees are reported by quarter or year
    assert month.status_code == 422 and "not by month" in month.text


def test_only_operators_open_the_accounts(world: World, people: dict[str, str]) -> None:
    api = world.client()
    for name, key in (("seller-a", "seller_a"), ("buyer-a", "buyer_a")):
        answer = api.get(f"{API}/reports/segment-results?period=FY2022", headers=world.auth(key)).status_code
        assert console_as(world, name).get(PAGE).status_code == answer == 403
    assert console_as(world, "courier").get(PAGE).status_code == 403
    assert console_as(world, "ops").get(PAGE).status_code == 200  # no snapshot yet: the page says so
    assert 'href="/reporting/accounts"' in console_as(world, "ops").get("/reporting").text


def test_the_platforms_figures_are_computed_once_per_snapshot(
    world: World, people: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _scenario(world, tmp_path)
    console = console_as(world, "ops", **settings)
    asked: list[str] = []
    for name in ("revenue_report", "gmv_report"):
        monkeypatch.setattr(service, name, _counted(getattr(service, name), asked))
    assert console.get(PAGE, params={"period": "FY2026"}).status_code == 200
    assert asked  # the first request computes
    asked.clear()
    assert console.get(PAGE, params={"period": "FY2026"}).status_code == 200
    assert asked == []
    _scenario(world, tmp_path, orders=2)  # a refreshed snapshot: asked afresh, never a stale figure
    assert console.get(PAGE, params={"period": "FY2026"}).status_code == 200
    assert asked


def test_prepare_computes_the_first_page_ahead(
    world: World, people: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _scenario(world, tmp_path, orders=3)  # a snapshot of its own: nothing remembered yet
    console = console_as(world, "ops", **settings)
    app: Any = console.app
    accounts.prepare(app.state.ctx)
    asked: list[str] = []
    for name in ("revenue_report", "gmv_report"):
        monkeypatch.setattr(service, name, _counted(getattr(service, name), asked))
    assert console.get(PAGE).status_code == 200
    assert asked == []
    assert console.get(PAGE, params={"view": "as-reported"}).status_code == 200  # both views prepared
    assert asked == []


def _counted(report: Any, asked: list[str]) -> Any:
    """The report function, noting each time it is called."""

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(report.__name__)
        return report(*args, **kwargs)

    return counted


def test_the_page_costs_the_same_for_few_and_many_orders(
    world: World, people: dict[str, str], tmp_path: Path
) -> None:
    settings = _scenario(world, tmp_path)
    console = console_as(world, "ops", **settings)

    def statements() -> int:
        assert console.get(PAGE).status_code == 200
        with count_statements(world.db.engine) as seen:
            assert console.get(PAGE).status_code == 200
        return len(seen)

    few = statements()
    _scenario(world, tmp_path, orders=4)
    assert statements() == few
