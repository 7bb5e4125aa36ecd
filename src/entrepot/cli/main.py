"""The `entrepot` command: thin wrappers over the services."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entrepot.cli import backups as backups_cli
from entrepot.cli import dispatch as dispatch_cli
from entrepot.cli import emissions as emissions_cli
from entrepot.cli import flash as flash_cli
from entrepot.cli import fx as fx_cli
from entrepot.cli import local as local_cli
from entrepot.cli import logistics as logistics_cli
from entrepot.cli import reports as reporting_cli
from entrepot.cli import users as users_cli
from entrepot.cli import webhooks as webhooks_cli
from entrepot.cli.config import get_settings
from entrepot.cli.errors import fail, failures, redacted, require_schema
from entrepot.cli.output import stdout as console

# Every module the commands need is imported inside the command: `entrepot --help` (and a typo) loads
# Typer and Rich, not SQLAlchemy, pydantic, pyarrow or numba (tests/integration/test_cli_start).

if TYPE_CHECKING:
    from entrepot.platform.deps import AppContext
    from entrepot.platform.outbox import HandlerRegistry

app = typer.Typer(help="Entrepot: run a multi-market commerce group.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema, backups and restores.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (they print one summary line last).", no_args_is_help=True)
events_app = typer.Typer(help="The outbox of events.", no_args_is_help=True)
app.add_typer(db_app, name="db")
db_app.command("backup")(backups_cli.backup)
db_app.command("restore")(backups_cli.restore)
app.add_typer(keys_app, name="keys")
app.add_typer(bench_app, name="bench")
app.add_typer(events_app, name="events")
app.add_typer(logistics_cli.app, name="logistics")
app.add_typer(fx_cli.app, name="fx")
reporting_cli.register(app, bench_app)
app.add_typer(emissions_cli.app, name="emissions")
app.add_typer(users_cli.app, name="users")
app.add_typer(webhooks_cli.app, name="webhooks")
app.add_typer(local_cli.app, name="local")
bench_app.command("emissions")(emissions_cli.bench_emissions)
bench_app.command("flash")(flash_cli.bench_flash)
bench_app.command("webhooks")(webhooks_cli.bench_webhooks)
bench_app.command("vrptw")(local_cli.bench_vrptw)
bench_app.command("city")(local_cli.bench_city)
bench_app.command("dispatch")(dispatch_cli.bench_dispatch)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema of ENTREPOT_DATABASE_URL (on SQLite, the file too)."""
    from entrepot.schema import upgrade

    url = get_settings().database_url
    with failures():  # a PostgreSQL database that does not exist: how to create it, in one line
        upgrade(url)
    console.print(f"schema up to date: {redacted(url)}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="processes; SQLite supports one")] = 1,
) -> None:
    """Upgrade the schema and serve the API."""
    import uvicorn

    from entrepot.platform.db import is_sqlite
    from entrepot.platform.logs import uvicorn_log_config
    from entrepot.platform.settings import PublishedDefaults
    from entrepot.schema import upgrade

    settings = get_settings()
    try:
        settings.refuse_published_defaults()
    except PublishedDefaults as exc:
        raise fail(str(exc)) from None
    if workers < 1:
        raise fail("--workers must be at least 1")
    if workers > 1 and is_sqlite(settings.database_url):
        # one writer at a time: several processes would queue on SQLite's lock and time out under load
        raise fail("SQLite serves one worker; use PostgreSQL (ENTREPOT_DATABASE_URL) for --workers > 1")
    with failures():
        upgrade(settings.database_url)
    console.print(
        f"console http://{host}:{port}/  API http://{host}:{port}/api/v1  docs http://{host}:{port}/docs"
    )
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # each worker writes its metrics there and a scrape of any one adds them up (platform.metrics)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="entrepot-metrics-")
    uvicorn.run(
        "entrepot.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(json_lines=settings.log_format == "json"),
    )


@app.command()
def sweep() -> None:
    """Ask the payment provider about payments still pending, settle them, expire unpaid orders whose
    reservation ran out, release campaigns' holds that ran out (flash reservations, group-buy teams
    past their deadline) and delete long-ended console sessions, once: the round the API's sweeper runs
    every few seconds."""
    from entrepot.bootstrap import build_context, sweep_round

    require_schema(get_settings().database_url)
    with failures():
        ctx = build_context(get_settings())
        try:
            swept = sweep_round(ctx)
        finally:
            ctx.db.dispose()
    console.print(str(swept.reconciled))
    console.print(f"{swept.orders_expired} orders expired")
    console.print(f"{swept.campaigns_changed} flash orders, group teams or campaigns settled")
    console.print(f"{swept.sessions_purged} ended console sessions deleted")


@events_app.command("relay")
def events_relay(
    once: Annotated[bool, typer.Option("--once", help="relay what is due now, then stop")] = False,
) -> None:
    """Hand unpublished events to their handlers, as the API does in the background; Ctrl-C stops."""
    import time

    from entrepot.bootstrap import build_context, relay_registry

    require_schema(get_settings().database_url)
    ctx = build_context(get_settings())
    registry = relay_registry(ctx.fx)
    total = 0
    try:
        while True:
            with failures():
                taken = _relay_due(ctx, registry)
            total += taken
            if once:
                break
            if taken:
                console.print(f"{taken} events handled ({total} in all)")
            time.sleep(ctx.settings.relay_interval_seconds)
    except KeyboardInterrupt:  # the event in hand rolls back with its transaction: it stays pending
        pass
    finally:
        ctx.db.dispose()
    console.print(f"{total} events handled")


def _relay_due(ctx: AppContext, registry: HandlerRegistry) -> int:
    """Relay batch after batch until one comes back short: everything due now has been taken."""
    from entrepot.bootstrap import relay_round

    taken = 0
    while True:
        batch = relay_round(ctx, registry)
        taken += batch
        if batch < ctx.settings.relay_batch_size:
            return taken


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="operator, seller, buyer or carrier")],
    name: Annotated[str, typer.Option()] = "cli",
    seller: Annotated[str | None, typer.Option(help="seller id, for seller keys")] = None,
    buyer: Annotated[str | None, typer.Option(help="buyer id, for buyer keys")] = None,
    carrier: Annotated[str | None, typer.Option(help="carrier as lanes name it, for carrier keys")] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from entrepot.identity import service as identity
    from entrepot.logistics import service as logistics
    from entrepot.platform.db import Database

    require_schema(get_settings().database_url)
    with failures():
        db = Database(get_settings().database_url)
        with db.transaction() as session:
            key, plaintext = identity.create_api_key(
                session, role, name, get_settings().make_clock()(), seller, buyer, carrier, logistics.carriers
            )
    console.print(f"{key.public_id} {key.role}: {plaintext}")


@app.command()
def demo(
    reset: Annotated[bool, typer.Option(help="delete the demo database first")] = False,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the API afterwards")] = True,
    sellers: int = 300,
    buyers: int = 2000,
    orders_per_day: int = 180,
    days: int = 44,
    keys_file: Path = Path("var/demo-keys.json"),
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Seed a group modelled on the 2021 Alibaba reorganisation, drive weeks of orders, serve the API."""
    from entrepot.simulation.runner import run_demo

    # A demo is a local trial, not production: its published webhook secret and SQLite file are fine,
    # unless ENTREPOT_ENV says otherwise.
    os.environ.setdefault("ENTREPOT_ENV", "development")
    from entrepot.platform.settings import get_settings as cached_settings

    cached_settings.cache_clear()
    settings = get_settings()
    if min(sellers, buyers, orders_per_day, days) < 1:
        raise fail("sellers, buyers, orders-per-day and days must be at least 1")
    _check_keys_file(keys_file)  # before anything is written: keys made and not saved would be lost
    with failures():
        run_demo(settings, console, reset, sellers, buyers, orders_per_day, days, keys_file)
    if serve_api:
        serve(host=host, port=port, workers=1)


def _check_keys_file(path: Path) -> None:
    if path.is_dir():
        raise fail(f"--keys-file {path} is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"--keys-file {path}: cannot make its folder ({exc.strerror})") from None


@bench_app.command("checkout")
def bench_checkout(
    duration: Annotated[float, typer.Option(help="seconds of load")] = 20.0,
    concurrency: Annotated[int, typer.Option(help="concurrent HTTP clients")] = 64,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 2,
    skus: Annotated[int, typer.Option(help="SKUs the load spreads over")] = 2000,
    database_url: Annotated[str, typer.Option(envvar="ENTREPOT_BENCH_DATABASE_URL")] = (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    kill_worker: Annotated[
        bool, typer.Option(help="SIGKILL one API worker half-way; lost answers are retried with their key")
    ] = False,
) -> None:
    """Place and pay orders over HTTP against PostgreSQL; prints `checkout orders_per_s=...` last (with
    --kill-worker, also `kill_worker=1 lost=... doubled=...`)."""
    from entrepot.simulation.bench_checkout import run

    if kill_worker and workers < 2:
        raise fail("--kill-worker needs --workers 2 or more: a survivor to retry on")
    run(console, database_url, duration, concurrency, workers, skus, kill_worker)


@bench_app.command("routes")
def bench_routes(
    nodes: Annotated[int, typer.Option(help="nodes of the synthetic network")] = 10_000,
    lanes: Annotated[int, typer.Option(help="lanes of the synthetic network")] = 100_000,
    queries: Annotated[int, typer.Option(help="random connected pairs to plan and time")] = 200,
    seed: Annotated[int, typer.Option(help="seed of the network and of the pairs")] = 7,
    weight_kg: Annotated[float, typer.Option(help="parcel weight")] = 1.2,
    shipments: Annotated[int, typer.Option(help="throughput: stop after planning this many")] = 100_000,
    throughput_seconds: Annotated[float, typer.Option(help="throughput: or after this long")] = 60.0,
) -> None:
    """Plan routes on a synthetic network against a NetworkX baseline; prints `routes queries=...` last."""
    from entrepot.simulation.bench_routes import run

    run(console, nodes, lanes, queries, seed, weight_kg, shipments, throughput_seconds)


def main() -> None:  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
