"""The emissions commands as a user types them, on a small world with one flown parcel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from entrepot.cli import emissions as emissions_cli
from entrepot.cli.main import app
from entrepot.emissions import defaults
from entrepot.emissions.factors import parse_factor_csv
from entrepot.emissions.models import ElementActivity, ElementResult, TargetRow
from entrepot.logistics import events as logistics_events
from entrepot.logistics import service as logistics
from entrepot.platform.audit import AuditEntry
from entrepot.platform.db import Database
from entrepot.platform.outbox import HandlerRegistry, relay_once
from entrepot.platform.settings import get_settings
from entrepot.schema import upgrade
from tests.api.helpers import API
from tests.api.test_emissions_api import HEADER, HUBS, network
from tests.world import build_world


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A database where one order was shipped while emissions accounting was not yet listening."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    db = Database(url)
    world = build_world(db)
    with db.transaction() as session:
        logistics.store_network(session, network())
    client = world.client()
    body = {"market": "lazada-sg", "lines": [{"sku": world.ids["seller_a_blue"], "quantity": 1}]}
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "cli-00001"}
    placed = client.post(f"{API}/orders", json={**body, "payment_method": "card"}, headers=headers)
    assert placed.status_code == 201, placed.text
    only_logistics = HandlerRegistry()
    logistics_events.register(only_logistics, world.context().fx)
    while relay_once(db, only_logistics, world.clock()):
        pass
    db.dispose()
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", url)
    monkeypatch.setattr(emissions_cli.console, "width", 200)  # whole table cells, whatever the terminal
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["emissions", *args])
    return result.exit_code, " ".join(result.output.split())


def test_backfill_then_report_targets_and_a_scenario(shipped: None, tmp_path: Path) -> None:
    assert run("report", "--period", "FY2026")[1].count("total") == 1
    up_to_date = "factor tables and hub operations up to date"
    assert run("backfill") == (0, f"1 shipments recorded; {up_to_date}")
    assert run("backfill") == (0, f"0 shipments recorded; {up_to_date}")
    code, out = run("report", "--by", "division", "--period", "FY2026")
    assert code == 0 and "international-commerce-division" in out and "version 1" in out
    assert "2 elements had no factor" in out  # the two airports: no published default hub intensity

    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nroad,hgv_all,diesel,102,23,125,ok\nroad,van,diesel,631,151,700,x\n")
    code, out = run("factors", "load", str(bad), "--name", "asia", "--countries", "CN,SG")
    assert code == 2 and "row 3: wtw 700 is not ttw 631 + wtt 151 = 782" in out
    good = tmp_path / "hubs.csv"
    good.write_text(HUBS)
    assert run("factors", "load", str(good), "--name", "hubs", "--countries", "CN,SG") == (
        0,
        "loaded hubs@1 (2 rows); calculation version 2",
    )
    code, out = run("factors", "list")
    assert "v1: glec-v3-hubs@1, desnz-2025@1 (default tables)" in out
    assert "v2: hubs@1, glec-v3-hubs@1, desnz-2025@1" in out

    code, out = run(
        "targets", "create", "--name", "intensity", "--metric", "g_per_tkm", "--baseline-value", "1000"
    )
    assert code == 0 and "-50% by FY2030 vs FY2022" in out
    target = out.split(":")[0]
    code, out = run("targets", "progress", target)
    assert out.startswith("baseline 1,000.00: imported figure for FY2022 (no source stated) FY2022 pathway")
    assert code == 0 and "FY2026 pathway 750.00 actual" in out and "FY2030 pathway 500.00 actual -" in out
    code, out = run(
        "scenario", "--period", "FY2026", "--shift-air", "1", "--lanes", "CN-SG", "--target", target
    )
    assert code == 0 and "air shifted to sea: 0.4 t-km" in out and "projected" in out and "on track" in out
    code, out = run("scenario", "--period", "FY2026", "--renewable-hubs", "fulfilment_warehouse=1, hub-sg=1")
    # version 2 (the test hubs table): airports 0.6 g, hub-sg 0.18, warehouse 2.1, station 0.072: 3.252 g;
    # the warehouse and hub-sg on renewables leave 0.672 g
    assert code == 0 and "hubs 0.003 kg -> 0.001 kg" in out
    code, out = run("scenario", "--period", "FY2026", "--renewable-hubs", "hub-sg=lots")
    assert code == 2 and "--renewable-hubs 'hub-sg=lots'" in out


def test_periods_follow_the_fiscal_year_end_of_the_settings(
    shipped: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("backfill")[1].startswith("1 shipments recorded")
    code, out = run("report", "--period", "FY2026-Q3")  # the default: fiscal years end in March
    assert code == 0 and "Emissions FY2026Q3 (2025-10-01 to 2026-01-01), version 1" in out
    monkeypatch.setenv("ENTREPOT_FISCAL_YEAR_END_MONTH", "12")
    get_settings.cache_clear()
    code, out = run("report", "--period", "FY2025-Q4")
    assert code == 0 and "Emissions FY2025Q4 (2025-10-01 to 2026-01-01), version 1" in out
    code, out = run("scenario", "--period", "FY2025")
    assert code == 0 and out.startswith("FY2025, version 1: ") and "0.000 kg CO2e" not in out
    code, out = run("targets", "create", "--name", "calendar", "--baseline-year", "2025")
    assert code == 0  # the baseline is measured from FY2025, January to December 2025, which has data
    code, out = run("targets", "progress", out.split(":")[0])
    assert code == 0 and "FY2025 pathway" in out and "FY2026 pathway" in out and "actual -" in out


def test_backfill_brings_older_chains_and_a_new_hub_edition_in_as_a_new_version(
    shipped: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain recorded before origins and stations counted, and a newer edition of the packaged hub
    table: backfill stores the table (audited), adds the missing hub, and recomputes as version 2; the
    figures of version 1 stay as they were."""
    run("backfill")
    db = Database(get_settings().database_url)
    with db.transaction() as session:  # as an older release recorded it: no hub at the origin warehouse
        origin = session.scalars(select(ElementActivity).where(ElementActivity.origin == "cn-hangzhou")).all()
        [hub] = [e for e in origin if e.kind == "hub"]
        session.execute(delete(ElementResult).where(ElementResult.element_id == hub.id))
        session.delete(hub)
    _, before = run("report", "--period", "FY2026")
    newer = defaults.hub_text().replace("17.5,0,17.5", "12.5,0,12.5")
    edition = parse_factor_csv(newer, defaults.HUB_NAME, 1, "default")
    tables = [(defaults.default_table(), defaults.default_text()), (edition, newer)]
    monkeypatch.setattr(defaults, "packaged", lambda: tables)
    code, out = run("backfill")
    assert (code, out) == (
        0,
        "0 shipments recorded; calculation version 2: glec-v3-hubs@2 stored, "
        "1 hub operations added, 1 shipments recomputed",
    )
    with db.transaction() as session:
        [added] = session.scalars(
            select(ElementActivity).where(
                ElementActivity.origin == "cn-hangzhou", ElementActivity.kind == "hub"
            )
        ).all()
        results = session.scalars(select(ElementResult).where(ElementResult.element_id == added.id)).all()
        assert [(r.version, r.wtw_mg, r.factor_table) for r in results] == [(2, 1500, "glec-v3-hubs@2")]
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "factor_table.loaded")).all()
        assert entry.subject == "glec-v3-hubs" and entry.after["version"] == 2
    db.dispose()
    assert run("report", "--period", "FY2026", "--version", "1")[1] == before  # version 1 unchanged
    assert run("backfill") == (0, "0 shipments recorded; factor tables and hub operations up to date")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--period", "FY26"], "period 'FY26' is not understood"),
        (["report", "--period", "FY2026", "--by", "colour"], "cannot roll up by 'colour'"),
        (["scenario", "--period", "FY2026", "--to", "canal"], "shift_air_to must be one of sea, rail"),
        (["scenario", "--period", "FY2026", "--lanes", "China-SG"], "give country pairs such as CN-SG"),
        (["targets", "progress", "tgt_nope"], "no target tgt_nope"),
    ],
)
def test_bad_requests_say_why_and_exit_2(shipped: None, args: list[str], message: str) -> None:
    code, out = run(*args)
    assert code == 2 and message in out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["targets", "create", "--name", "t2", "--baseline-year", "1", "--target-year", "99999"],
            "--baseline-year should be greater than or equal to 1990",
        ),
        (["targets", "create", "--name", "t", "--target-year", "2101"], "--target-year should be less than"),
        (["targets", "create", "--name", ""], "--name should have at least 1 character"),
        (["targets", "create", "--name", " "], "--name must not be blank"),
        (["targets", "create", "--name", "x" * 5000], "--name should have at most 120 characters"),
        (
            ["targets", "create", "--name", "t", "--baseline-value", "1e400"],
            "--baseline-value should be a finite",
        ),
        (
            ["targets", "create", "--name", "t", "--baseline-value", "nan"],
            "--baseline-value should be a finite",
        ),
        (
            ["targets", "create", "--name", "t", "--metric", "kg"],
            "--metric must be one of absolute_t, g_per_tkm",
        ),
        (["scenario", "--period", "FY2026", "--to", "canal"], "shift_air_to must be one of sea, rail"),
        (["report", "--period", "FY2026", "--by", "colour"], "cannot roll up by 'colour'"),
    ],
)
def test_a_bad_option_is_one_line_on_stderr_exit_2_and_writes_nothing(
    shipped: None, args: list[str], line: str
) -> None:
    """The API's checks (TargetIn) apply to the command too: no target the progress report cannot read."""
    result = CliRunner().invoke(app, ["emissions", *args])
    assert (result.exit_code, result.stdout) == (2, "")
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    assert line in result.stderr
    db = Database(get_settings().database_url)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TargetRow)) == 0
    db.dispose()


def test_a_factor_file_that_repeats_a_column_loads_nothing(shipped: None, tmp_path: Path) -> None:
    repeated = tmp_path / "dup.csv"
    repeated.write_text(f"{HEADER},mode\nroad,van,diesel,1,1,2,me,rail\n")
    result = CliRunner().invoke(
        app, ["emissions", "factors", "load", str(repeated), "--name", "t", "--countries", "SG"]
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: factor file rejected: 1 bad rows (row 1: duplicate column mode)\n"
    assert "t@1" not in run("factors", "list")[1]
