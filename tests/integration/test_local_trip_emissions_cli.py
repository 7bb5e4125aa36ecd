"""Local couriers' trips in the emissions commands: `backfill` records the trips finished while emissions
accounting was not listening, and `report` shows their kilograms, kilometres and deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrepot.cli import emissions as emissions_cli
from entrepot.cli.main import app
from entrepot.kernel.events import DomainEvent
from entrepot.platform.db import Database, record_event
from entrepot.platform.settings import get_settings
from entrepot.schema import upgrade
from tests.world import build_world


@pytest.fixture
def trip_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A database where a car trip delivered two orders before emissions accounting listened to it."""
    url = f"sqlite:///{tmp_path / 'trips.db'}"
    upgrade(url)
    db = Database(url)
    world = build_world(db)
    now = world.clock()
    with db.transaction() as session:
        for order in ("lor_1", "lor_2"):
            sold = {"trip": "trp_1", "seller": world.ids["seller_a"], "market": "lazada-sg"}
            record_event(session, DomainEvent("local.order_delivered", order, sold), now)
        done = {"courier": "cou_1", "mode": "car", "distance_m": 2500, "orders": ["lor_1", "lor_2"]}
        record_event(session, DomainEvent("local.trip_done", "trp_1", done), now)
    db.dispose()
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", url)
    monkeypatch.setattr(emissions_cli.console, "width", 240)  # whole table cells, whatever the terminal
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    """The exit code and the output's words (a table's cells without their borders)."""
    result = CliRunner().invoke(app, ["emissions", *args])
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


def test_backfill_records_a_missed_trip_once_and_the_report_shows_it(trip_done: None) -> None:
    code, out = run("backfill")
    assert code == 0 and out.startswith("1 local trips recorded 0 shipments recorded"), out
    assert run("backfill")[1].startswith("0 shipments recorded")  # recorded once
    code, out = run("report", "--by", "market", "--period", "2025-11")
    assert code == 0 and "local kg" in out and "deliveries" in out
    # 2.5 km x (162.72 + 45.99) g/km = 0.522 kg, 2.5 km, 2 deliveries; no parcel: no intensity
    assert "lazada-sg 0.522 0.407 0.115 0.0 0 - - 0.522 2.5 2" in out, out
