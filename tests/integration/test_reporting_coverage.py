"""Periods that know their coverage, on any date: the scenario shows the published figures on an empty
store, on a small fresh demo and on a demo years old (the clock at several dates up to 2030); a report
over a period the data holds in part says so; amounts at provisional FX rates are counted.

The demo's data covers November and half of December 2025. A snapshot refreshed on a later date used to
claim everything up to the day before its refresh, so the platform's GMV of the twelve months before it
(zero, or fifteen days' worth) replaced the published US$21 bn and Lazada's target needed 7,566 % a year,
or failed outright ("growth needs positive start and end values")."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from currency_converter.currency_converter import CURRENCY_FILE
from rich.console import Console
from typer.testing import CliRunner

from entrepot.cli import reports as report_cli
from entrepot.cli.main import app
from entrepot.kernel.ecb import read_ecb_file
from entrepot.kernel.fx import FxRates, RateBook
from entrepot.platform.db import Database
from entrepot.platform.settings import Settings, get_settings
from entrepot.reporting import plans, service
from entrepot.reporting.domain import FiscalCalendar
from entrepot.reporting.history import PlatformFigures, history
from entrepot.schema import upgrade
from entrepot.simulation.demo import seed_organisation
from entrepot.simulation.runner import run_demo
from tests.api.helpers import API, place_ok
from tests.reporting_data import fx, sale_lines, write_snapshot
from tests.world import World

FISCAL = FiscalCalendar(3)
# Today (the day the issue was found), half a year on, and the year of Lazada's target.
CLOCKS = ["2026-12-05T16:00:00+00:00", "2027-06-01T09:00:00+00:00", "2030-01-01T00:00:00+00:00"]
DEMO_NOW = dt.datetime(2025, 11, 11, 9, 0, tzinfo=dt.UTC)
LAZADA = "target lazada gmv 100,000,000,000 USD by 2030-09-30: from LTM2021-09 (external"


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # Rich wraps lines at the terminal's width


@pytest.fixture
def settings_cleared() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo at a small size (its data: 1 to 10 November 2025), with its snapshot. Its clock is
    pinned to the morning after: the peak day is laid out around the demo's now, and on the system clock
    its orders would land on whatever day the test runs (relayed by the demo, they are the store's)."""
    folder = tmp_path_factory.mktemp("demo")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'demo.db'}",
        run_sweeper=False,
        reporting_snapshot_dir=str(folder / "snapshot"),
        clock=DEMO_NOW,
    )
    console = Console(file=io.StringIO(), width=200)
    # What the demo reads through get_settings() must be this store too, whatever an earlier test in
    # this process left cached (under xdist the snapshot went elsewhere and the scenario saw none).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ENTREPOT_DATABASE_URL", settings.database_url)
        env.setenv("ENTREPOT_REPORTING_SNAPSHOT_DIR", settings.reporting_snapshot_dir)
        env.setenv("ENTREPOT_CLOCK", DEMO_NOW.isoformat())
        get_settings.cache_clear()
        run_demo(
            settings, console, False, sellers=24, buyers=60, orders_per_day=6, days=10, keys_file=folder / "k"
        )
    get_settings.cache_clear()
    assert (folder / "snapshot").exists(), "the demo wrote no snapshot where it was told"
    return folder


def _store(folder: Path, tmp_path: Path, clock: str) -> dict[str, str]:
    """A copy of the store in `folder` (its database and snapshot), the clock pinned at `clock`."""
    shutil.copy(folder / "demo.db", tmp_path / "demo.db")
    if (folder / "snapshot").exists():
        shutil.copytree(folder / "snapshot", tmp_path / "snapshot")
    return {
        "ENTREPOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "ENTREPOT_REPORTING_SNAPSHOT_DIR": str(tmp_path / "snapshot"),
        "ENTREPOT_CLOCK": clock,
    }


@pytest.mark.parametrize("clock", CLOCKS)
def test_the_scenario_on_a_fresh_demo_shows_lazadas_published_start(
    small_demo: Path, tmp_path: Path, clock: str, settings_cleared: None
) -> None:
    env = _store(small_demo, tmp_path, clock)
    shown = _cli(env, "report", "scenario")
    assert re.search(f"{re.escape(LAZADA)}; the platform's data covers 2025-11-.. to 2025-11-..\\)", shown)
    assert "needs 18.93 % a year over 9.00 years" in shown


@pytest.mark.parametrize("clock", CLOCKS)
def test_the_scenario_on_a_demo_refreshed_years_later(
    small_demo: Path, tmp_path: Path, clock: str, settings_cleared: None
) -> None:
    """The snapshot refreshed on the pinned day: the twelve months before it hold no data, and the
    published figure still stands; the LTM reports say how little of their window the data holds."""
    env = _store(small_demo, tmp_path, clock)
    assert f"refreshed at {clock[:10]}" in _cli(env, "report", "snapshot")
    shown = _cli(env, "report", "scenario")
    assert LAZADA in shown and "needs 18.93 % a year over 9.00 years" in shown
    day = dt.date.fromisoformat(clock[:10])
    last_month = day.replace(day=1) - dt.timedelta(days=1)
    latest = f"LTM{last_month:%Y-%m}"
    assert f"period {latest}: NO DATA in it" in _cli(env, "report", "gmv", "--period", latest)
    report = _cli(env, "report", "gmv", "--period", "LTM2025-11", "--by", "business_unit", "--format", "csv")
    assert re.search(
        r"period LTM2025-11 is PARTIAL: data from 2025-11-.. to 2025-11-.., \d+ of 365 days", report
    )
    assert re.search(r"LTM2025-11,lazada,[0-9.]+,confirmed-gross,partial: 2025-11-.. to 2025-11-..", report)


@pytest.mark.parametrize("clock", CLOCKS)
@pytest.mark.parametrize("refreshed", [False, True])
def test_the_scenario_on_an_empty_store(
    tmp_path: Path, clock: str, refreshed: bool, settings_cleared: None
) -> None:
    upgrade(f"sqlite:///{tmp_path / 'demo.db'}")
    env = {
        "ENTREPOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "ENTREPOT_REPORTING_SNAPSHOT_DIR": str(tmp_path / "snapshot"),
        "ENTREPOT_CLOCK": clock,
    }
    if refreshed:
        assert f"refreshed at {clock[:10]}" in _cli(env, "report", "snapshot")
    shown = _cli(env, "report", "scenario")
    assert LAZADA in shown and "needs 18.93 % a year over 9.00 years" in shown


@pytest.mark.parametrize("clock", CLOCKS)
def test_the_scenario_over_http_on_any_date(world: World, tmp_path: Path, clock: str) -> None:
    """Orders on the world's day (11 November 2025), the snapshot refreshed and the scenario loaded on
    the pinned day: Lazada's target starts from the published US$21 bn."""
    client = world.client(reporting_snapshot_dir=str(tmp_path / "snapshot"), run_relay=False)
    headers = world.auth("operator")
    place_ok(client, world, ("seller_a_red", 2))
    world.clock.now = dt.datetime.fromisoformat(clock)
    assert client.post(f"{API}/reports/snapshot", headers=headers).status_code == 200
    loaded = client.post(f"{API}/reports/scenarios/group-facts", headers=headers)
    assert loaded.status_code == 201, loaded.text
    [target] = loaded.json()["targets"]
    assert target["latest_actual_period"] == "LTM2021-09" and target["latest_actual_external"] is True
    assert target["required_cagr_pct"] == "18.93" and target["platform_covers"] == "2025-11-11 to 2025-11-11"
    assert client.get(f"{API}/reports/targets", headers=headers).json() == [target]
    gmv = client.get(f"{API}/reports/gmv", params={"period": "FY2026"}, headers=headers).json()
    assert gmv["meta"]["coverage"]["status"] == "partial"
    assert [r["coverage"] for r in gmv["rows"]] == ["partial: 2025-11-11 to 2025-11-11 (1 of 365 days)"]


# --- coverage of a period in the reports -----------------------------------------------------------------


@pytest.fixture
def from_april_2021(tmp_path: Path) -> Path:
    """Lazada's data from 1 April 2021 (a sale every month to September 2021), Taobao's from 1 October
    2020; refreshed on 15 October 2021."""
    sales = [("lazada", dt.date(2021, m, 1), "USD", 100_00) for m in range(4, 10)]
    sales += [("lazada", dt.date(2021, 9, 30), "USD", 100_00), ("taobao", dt.date(2020, 10, 1), "USD", 50_00)]
    sales += [("taobao", dt.date(2021, 10, 2), "USD", 50_00)]
    return write_snapshot(tmp_path, sale_lines(sales), refreshed_at="2021-10-15T08:00:00+00:00")


def _gmv(root: Path, period: str, by: tuple[str, ...] = (), **kw: Any) -> service.Report:
    request = service.ReportRequest(period, by, **kw)
    return service.gmv_report(service.Snapshot(root), request, FISCAL, fx(), {})


def test_an_ltm_from_a_snapshot_starting_in_april_is_labelled_partial(from_april_2021: Path) -> None:
    report = _gmv(from_april_2021, "LTM2021-09", ("business_unit",))
    coverage = report.meta["coverage"]
    # every unit together: from Lazada's first day (the later start) to the window's end
    assert (coverage["status"], coverage["first_day"], coverage["last_day"]) == (
        "partial",
        "2021-04-01",
        "2021-09-30",
    )
    assert (coverage["days"], coverage["period_days"]) == (183, 365)
    assert coverage["units"] == {
        "lazada": "partial: 2021-04-01 to 2021-09-30 (183 of 365 days)",
        "taobao": "full",
    }
    assert {r["business_unit"]: r["coverage"] for r in report.rows()} == coverage["units"]


def test_each_month_is_labelled_and_the_refresh_day_is_never_whole(from_april_2021: Path) -> None:
    report = _gmv(from_april_2021, "FY2022", ("business_unit",), grain="month")
    labels = {(r["period"], r["business_unit"]): r["coverage"] for r in report.rows()}
    assert labels[("2021-04", "lazada")] == "full"
    assert labels[("2021-09", "lazada")] == "full"
    assert labels[("2021-10", "taobao")] == "partial: 2021-10-01 to 2021-10-02 (2 of 31 days)"
    assert report.meta["coverage"]["status"] == "partial"


def test_a_period_without_data_says_so(from_april_2021: Path) -> None:
    report = _gmv(from_april_2021, "LTM2026-11")
    assert report.meta["coverage"]["status"] == "no data"
    assert [r["coverage"] for r in report.rows()] in ([], ["no data"])


def test_the_header_of_every_export_says_a_period_is_partial(
    from_april_2021: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_cli.emit(_gmv(from_april_2021, "LTM2021-09", ("business_unit",)), "csv", None)
    printed = capsys.readouterr().out.splitlines()
    assert (
        "# period LTM2021-09 is PARTIAL: data from 2021-04-01 to 2021-09-30, 183 of 365 days "
        "(units not covering it whole: lazada)" in printed
    )
    partial = "partial: 2021-04-01 to 2021-09-30 (183 of 365 days)"
    assert f"LTM2021-09,lazada,700.00,confirmed-gross,{partial}" in printed


def test_a_published_ltm_is_not_replaced_by_a_platform_figure_covering_less(
    database: Database, from_april_2021: Path
) -> None:
    with database.transaction() as session:
        seed_organisation(session, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        plans.load_group_facts(session, FISCAL, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        [target] = plans.targets(session)
        platform = PlatformFigures(service.Snapshot(from_april_2021), FISCAL, fx(), {})
        status = plans.target_status(session, target, platform)
        series = history(session, platform, "gmv", "business_unit", "FY2022", "FY2022", "USD")
    assert (status.latest_period, status.latest_minor, status.latest_external) == (
        "LTM2021-09",
        21_000_000_000_00,
        True,
    )
    assert status.required_cagr_pct.quantize(Decimal("0.1")) == Decimal("18.9")
    assert status.platform_covers == "2021-04-01 to 2021-09-30"
    assert {r["business_unit"]: (r["source"], r["coverage"]) for r in series.rows()} == {
        "lazada": ("platform-partial", "partial: 2021-04-01 to 2021-09-30 (183 of 365 days)"),
        "taobao": ("platform-partial", "partial: 2021-04-01 to 2021-10-02 (185 of 365 days)"),
    }


# --- provisional FX ---------------------------------------------------------------------------------------


def _rates_until(last: dt.date) -> FxRates:
    """The ECB's history cut at `last`, as if no newer file had been loaded (45 days' staleness)."""
    return FxRates(RateBook(r for r in read_ecb_file(CURRENCY_FILE) if r.on <= last), 45)


@pytest.mark.parametrize("method", ["transaction-date", "period-average"])
def test_amounts_at_provisional_rates_are_counted(tmp_path: Path, method: str) -> None:
    """Rates end on 30 June 2021: yuan sales after 14 August take a rate older than 45 days."""
    sales = [
        ("lazada", dt.date(2021, 6, 1), "CNY", 100_00),
        ("lazada", dt.date(2021, 8, 20), "CNY", 100_00),
        ("lazada", dt.date(2021, 9, 2), "CNY", 100_00),
        ("lazada", dt.date(2021, 9, 3), "USD", 100_00),  # in the report's own currency: no rate needed
    ]
    root = write_snapshot(tmp_path, sale_lines(sales), refreshed_at="2021-10-15T08:00:00+00:00")
    request = service.ReportRequest("FY2022", (), grain="month", fx_method=method)
    report = service.gmv_report(
        service.Snapshot(root), request, FISCAL, _rates_until(dt.date(2021, 6, 30)), {}
    )
    counted = report.meta["provisional_fx"]
    # period-average: August's and September's means take stale days; June's does not
    assert (counted["orders"], counted["lines"]) == (2, 2)
    assert "older than 45 days" in counted["rule"]
    header = report_cli._header(report)
    assert "PROVISIONAL FX: 2 lines of 2 orders translated at provisional rates" in header
    fresh = service.gmv_report(service.Snapshot(root), request, FISCAL, fx(), {})
    assert (fresh.meta["provisional_fx"]["orders"], fresh.meta["provisional_fx"]["lines"]) == (0, 0)
    assert "PROVISIONAL" not in report_cli._header(fresh)
