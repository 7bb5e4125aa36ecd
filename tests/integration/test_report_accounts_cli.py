"""`entrepot report scenario` reproduces each published number group-facts.md gives, on any date, on
SQLite and PostgreSQL; the accounts' commands refuse bad input in one line with exit code 2 and write
nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.platform.db import Database
from entrepot.platform.settings import get_settings
from entrepot.schema import upgrade

CLOCKS = ["2021-12-01T00:00:00+00:00", "2026-12-06T03:00:00+00:00", "2031-06-30T23:59:00+00:00"]


@pytest.fixture
def settings_cleared() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _env(url: str, tmp_path: Path, clock: str) -> dict[str, str]:
    return {
        "ENTREPOT_DATABASE_URL": url,
        "ENTREPOT_REPORTING_SNAPSHOT_DIR": str(tmp_path / "snapshot"),
        "ENTREPOT_CLOCK": clock,
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, " ".join(result.output.split())  # Rich wraps at the terminal's width


# Each published number of group-facts.md the scenario reproduces, as the scenario prints it.
PUBLISHED = [
    "from LTM2021-09 (external) needs 18.93 % a year over 9.00 years",  # US$21 bn -> 100 bn by 2030
    "FY2022 revenue growth 18.9 % (external)",  # RMB 853,062 m, +18.9 %
    "2021-05-13 29.50-29.50 %: below",  # first guidance about +29.5 %
    "2021-11-18 20.00-23.00 %: below",  # revised to +20 % to +23 %
    "segment FY2022Q3 recast total: revenue CNY 242,580 m (external",
    "segment FY2022Q3 recast china-commerce: revenue CNY 172,226 m (external",
    "segment FY2022Q3 recast international-commerce: revenue CNY 16,449 m (external",
    "segment FY2022Q3 recast local-consumer-services: revenue CNY 12,141 m (external",
    "segment FY2022Q3 recast cloud: revenue CNY 19,539 m (external",
    "Cainiao revenue from outside China LTM2021-09: 57 % (external: investor day, Dec 2021",
    "investee Ant Group: 33 % equity method, results 1 quarter in arrears",
]


@pytest.mark.parametrize("clock", CLOCKS)
def test_the_scenario_reproduces_every_published_number(
    database: Database, tmp_path: Path, clock: str, settings_cleared: None
) -> None:
    env = _env(database.url, tmp_path, clock)
    code, shown = _run(env, "report", "scenario")
    assert code == 0, shown
    for number in PUBLISHED:
        assert number in shown, number
    # no figure the reference does not give is made up: each is said to be missing
    assert re.search(
        r"share of results FY2022Q3 \(of FY2022Q2\): -; no result of FY2022Q2 imported \(not sourced", shown
    )
    assert "segment FY2022Q3 recast cainiao-segment: revenue CNY - (not sourced" in shown
    assert shown.count("programme rural-revitalisation-cn: rural-revitalisation (social") == 1  # once
    again_code, again = _run(env, "report", "scenario")  # loading twice changes nothing
    assert again_code == 0 and again == shown


def _refused(env: dict[str, str], *args: str) -> str:
    code, shown = _run(env, *args)
    assert code == 2, shown
    assert shown.startswith("error:") and "Traceback" not in shown
    return shown


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, settings_cleared: None) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    upgrade(url)
    env = _env(url, tmp_path, CLOCKS[1])
    assert _run(env, "report", "scenario")[0] == 0
    before = _run(env, "report", "investees", "--json")[1]
    _refused(
        env, "report", "investee-stake", "ant-group", "--share", "1.5", "--on", "2022-01-01", "--source", "x"
    )
    _refused(
        env, "report", "investee-stake", "ant-group", "--share", "abc", "--on", "2022-01-01", "--source", "x"
    )
    _refused(
        env,
        "report",
        "investee-impairment",
        "ant-group",
        "--on",
        "2022-13-01",
        "--amount",
        "5",
        "--currency",
        "CNY",
        "--source",
        "x",
    )
    _refused(
        env,
        "report",
        "investee-impairment",
        "ant-group",
        "--on",
        "2022-01-01",
        "--amount",
        "-5",
        "--currency",
        "CNY",
        "--source",
        "x",
    )
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(
        "investee,period,currency,net_income,source\nant-group,FY2022Q1,CNY,1,a\nnope,FY2022Q1,CNY,1,b\n"
    )
    assert "line 3, column investee" in _refused(env, "report", "import-investee-results", str(bad_csv))
    _refused(env, "report", "import-investee-results", str(tmp_path / "missing.csv"))
    assert _run(env, "report", "investees", "--json")[1] == before
    _refused(env, "report", "programme-add", "x1", "--name", "X", "--category", "charity", "--source", "s")
    _refused(
        env,
        "report",
        "programme-spend",
        "rural-revitalisation-cn",
        "--period",
        "FY2022",
        "--currency",
        "CNY",
        "--committed",
        "1",
        "--spent",
        "-1",
        "--source",
        "s",
    )
    _refused(env, "report", "segment-results", "--period", "FY2022", "--view", "sideways")
    _refused(env, "report", "cainiao-abroad", "--period", "someday")
    _refused(env, "report", "org", "withdraw-move", "lazada", "--reason", "nothing planned")
    _refused(
        env,
        "report",
        "org",
        "correct-move",
        "lazada",
        "--parent",
        "china-commerce-division",
        "--on",
        "2020-01-01",
        "--reason",
        "r",
    )
    _refused(env, "report", "org", "close", "china-commerce-division", "--on", "2027-01-01")
    code, programmes = _run(env, "report", "programmes", "--period", "FY2022", "--json")
    assert code == 0 and '"x1"' not in programmes and '"spent": null' in programmes


def test_a_result_imported_by_csv_shows_as_the_share_a_quarter_later(
    tmp_path: Path, settings_cleared: None
) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    upgrade(url)
    env = _env(url, tmp_path, CLOCKS[1])
    assert _run(env, "report", "scenario")[0] == 0
    results = tmp_path / "ant.csv"
    results.write_text(
        "investee,period,currency,net_income,source\nant-group,FY2022Q2,CNY,100,a test figure\n"
    )
    assert _run(env, "report", "import-investee-results", str(results)) == (
        0,
        "1 investee results imported (external)",
    )
    code, shown = _run(env, "report", "investees", "--period", "FY2022Q3", "--json")
    assert code == 0 and '"group_share": "33.00"' in shown and "external: a test figure" in shown
