"""The logistics commands as a user types them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from entrepot.cli.main import app
from entrepot.logistics import service as logistics
from entrepot.logistics.network_data import demo_network
from entrepot.platform.settings import get_settings
from tests.api.helpers import API
from tests.world import World


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_route_from_hangzhou_to_manila(sqlite_env: None) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    args = [
        "logistics",
        "route",
        "--from",
        "HGH",
        "--to",
        "MNL",
        "--weight-kg",
        "1.2",
        "--service",
        "standard",
    ]
    result = runner.invoke(app, [*args, "--ready", "2025-11-11T09:00:00+08:00"])
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "air-HGH -> air-MNL" in printed and "built-in demo network" in printed
    assert "standard (cheapest):" in printed
    assert "epsilon time 0.02, cost 0.02, emissions 0.02; rules: at most 8 legs, no node twice on" in printed
    exact = runner.invoke(app, [*args, "--ready", "2025-11-11T09:00:00+08:00", "--epsilon", "0"])
    assert "emissions 0 (the exact set)" in " ".join(exact.output.split())
    seeded = runner.invoke(app, ["logistics", "seed"])
    assert seeded.exit_code == 0 and "nodes" in seeded.output
    again = runner.invoke(app, [*args, "--ready", "2025-11-11T09:00:00+08:00"])
    assert "the database's network" in " ".join(again.output.split())
    assert "emissions by factor version" in " ".join(again.output.split())  # the version it weighed with


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "XXX", "--to", "MNL", "--weight-kg", "1"], "unknown origin"),
        (["--from", "HGH", "--to", "MNL", "--weight-kg", "999", "--service", "express"], "no route"),
        (["--from", "HGH", "--to", "MNL", "--weight-kg", "1", "--ready", "yesterday"], "not an ISO"),
    ],
)
def test_bad_route_requests_say_why(sqlite_env: None, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["logistics", "route", *args])
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())


ROUTE = ["logistics", "route", "--from", "HGH", "--to", "MNL", "--weight-kg", "1"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--ready", "9999-12-31T23:59"], "error: --ready must be within the years 2000-2100"),
        (["--ready", "0001-01-01T00:00:00+05:00"], "error: --ready must be within the years 2000-2100"),
        (["--size-cm", "0", "-1", "10"], "error: --size-cm length should be greater than 0"),
        (["--size-cm", "30", "1000", "10"], "error: --size-cm width should be less than or equal to 400"),
        (["--service", "warp"], "error: --service must be one of express, standard, economy"),
        (["--objective", "fastest"], "error: --objective must be one of cheapest, greenest"),
        (["--weight-kg", "0"], "error: --weight-kg should be greater than 0"),
        (["--weight-kg", "nan"], "error: --weight-kg should be a finite number"),
        (["--ready", "yesterday"], "error: --ready 'yesterday' is not an ISO date-time"),
        (["--from", "XXX"], "error: unknown origin 'XXX': not a node code or an airport of the network"),
        (["--epsilon", "-0.1"], "error: --epsilon -0.1 is not within 0-1"),
        (["--epsilon", "1.5"], "error: --epsilon 1.5 is not within 0-1"),
    ],
)
def test_a_bad_option_is_one_line_on_stderr_and_exit_2(sqlite_env: None, args: list[str], line: str) -> None:
    """The API's checks (RouteQuery) apply to the command too; a bad option is not a routing failure."""
    result = CliRunner().invoke(app, [*ROUTE, *args])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")


def test_tracking_an_unknown_shipment(sqlite_env: None) -> None:
    runner = CliRunner()
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["logistics", "track", "shp_nope"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", "error: no shipment shp_nope\n")


def _route_through_the_api(world: World, body: dict[str, object]) -> dict[str, Any]:
    with world.db.transaction() as session:
        logistics.store_network(session, demo_network())
    response = world.client().post(f"{API}/logistics/routes", json=body, headers=world.auth("operator"))
    assert response.status_code == 200, response.text
    plan: dict[str, Any] = response.json()
    return plan


def test_the_cli_and_the_api_quote_the_same_price_for_the_same_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No parcel size given: both take logistics' one default parcel (DEFAULT_PARCEL_CM), so 0.5 kg
    express from Hangzhou to Manila costs the same by either (it was US$3.22 by one, US$2.21 by the other)."""
    ready = "2025-11-11T09:00:00+08:00"
    body = {"origin": "HGH", "destination": "MNL", "weight_kg": 0.5, "service": "express", "ready_at": ready}
    plan = _route_through_the_api(world, body)
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    get_settings.cache_clear()
    try:
        args = ["logistics", "route", "--from", "HGH", "--to", "MNL", "--weight-kg", "0.5", "--ready", ready]
        result = CliRunner().invoke(app, [*args, "--service", "express"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    quoted = re.search(r"express \(cheapest\): .*US\$([0-9.]+)", result.output)
    assert quoted, result.output
    assert quoted.group(1) == f"{plan['chosen']['cost_cents'] / 100:.2f}"
    assert "the database's network" in result.output


def test_a_piped_table_is_neither_cut_nor_wrapped(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of a terminal (the runner's output is none), every row of the routes table is one whole
    line: each route's legs, as the API lists them, appear in full on one line, and nothing ends in '…'."""
    ready = "2025-11-11T09:00:00+08:00"
    body = {"origin": "HGH", "destination": "MNL", "weight_kg": 1.2, "ready_at": ready}
    plan = _route_through_the_api(world, body)
    monkeypatch.setenv("ENTREPOT_DATABASE_URL", world.db.url)
    monkeypatch.delenv("COLUMNS", raising=False)
    get_settings.cache_clear()
    try:
        args = ["logistics", "route", "--from", "HGH", "--to", "MNL", "--weight-kg", "1.2", "--ready", ready]
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    lines = result.output.splitlines()
    for route in plan["pareto"]:
        legs = " > ".join(f"{leg['mode']}:{leg['destination']}" for leg in route["legs"])
        assert any(legs in line for line in lines), (legs, result.output)


def test_precompute_writes_the_bounds_under_the_networks_fingerprint(
    sqlite_env: None, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["logistics", "precompute", "--folder", str(tmp_path)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("precomputed 4 weight floors in ") and "fingerprint" in last
    [folder] = tmp_path.iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "floor-0.5.npz",
        "floor-1.npz",
        "floor-2.npz",
        "floor-5.npz",
    ]
