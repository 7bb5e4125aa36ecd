"""`entrepot fx load | status | restate`: rates loaded from a file re-state provisional orders; a bad
file is one line on stderr, exit code 2, and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.ordering.models import Order
from entrepot.organization.models import FxPublishedRate
from entrepot.platform.db import Database
from entrepot.platform.settings import get_settings
from tests.api.helpers import place_ok
from tests.world import build_world

DAY = dt.date(2027, 6, 1)


@pytest.fixture
def world_at_2027(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    world = build_world(database)
    world.clock.now = dt.datetime.combine(DAY, dt.time(4), dt.UTC)
    place_ok(world.client(), world, ("seller_a_red", 1))
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", database.url)
    monkeypatch.setenv("ENTREPOT_CLOCK", "2027-06-01T09:00:00Z")
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


def _provisional(db: Database) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Order).where(Order.fx_provisional)) or 0


def test_fx_load_restates_and_status_shows_fresh_rates(world_at_2027: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["fx", "status"])
    assert before.exit_code == 0, before.output
    assert "stale:" in before.output and "1 orders with provisional" in before.output
    rates = tmp_path / "eurofxref-hist.csv"
    rates.write_text("Date,USD,CNY,SGD,\n2027-06-01,1.2,8.4,1.5,\n")
    loaded = runner.invoke(app, ["fx", "load", str(rates)])
    assert loaded.exit_code == 0, loaded.output
    assert "3 rates read, 3 new or corrected, newest 2027-06-01; 1 orders re-stated" in loaded.output
    assert _provisional(world_at_2027) == 0
    after = runner.invoke(app, ["fx", "status"])
    assert "stale:" not in after.output and "0 orders with provisional" in after.output
    again = runner.invoke(app, ["fx", "load", str(rates)])
    assert "3 rates read, 0 new or corrected" in again.output


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Date,USD\n2027-06-01,oops\n", "is not a number"),
        ("currency,on,per_usd\nVND,2027-06-01,0\n", "line 2"),
    ],
)
def test_a_bad_rate_file_is_one_line_and_exit_2(
    world_at_2027: Database, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(content)
    result = CliRunner().invoke(app, ["fx", "load", str(path)])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and problem in line
    with world_at_2027.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FxPublishedRate)) == 0
    assert _provisional(world_at_2027) == 1


def test_a_missing_file_is_named(world_at_2027: Database, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fx", "load", str(tmp_path / "none.csv")])
    assert result.exit_code == 2 and "no such file" in result.stderr
