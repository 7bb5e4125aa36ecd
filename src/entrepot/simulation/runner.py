"""The demo from start to finish: schema, seed, weeks of orders, a GMV table and API keys."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from entrepot.bootstrap import build_context, relay_registry
from entrepot.catalog.models import Seller
from entrepot.identity import service as identity
from entrepot.identity.models import Buyer
from entrepot.kernel.periods import FiscalCalendar
from entrepot.local_services.city import CityUnavailable
from entrepot.logistics.models import Shipment
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.models import Order
from entrepot.platform.db import is_sqlite
from entrepot.platform.settings import Settings
from entrepot.reporting import snapshot
from entrepot.reporting.accounts import scenario as accounts_scenario
from entrepot.schema import upgrade
from entrepot.simulation import demo, local_demo, orders, peak_days, relaying
from entrepot.simulation.console_users import ensure_console_users
from entrepot.simulation.summary import GMV_DEFINITION, gmv_rows


def run_demo(
    settings: Settings,
    console: Console,
    reset: bool,
    sellers: int,
    buyers: int,
    orders_per_day: int,
    days: int,
    keys_file: Path,
) -> OrderingContext:
    size = demo.DemoSize(sellers=sellers, buyers=buyers, orders_per_day=orders_per_day, days=days)
    if reset:
        _delete_sqlite(settings.database_url, console)
    upgrade(settings.database_url)
    ctx = build_context(settings)
    started = time.perf_counter()
    if demo.already_seeded(ctx):
        console.print("The demo group is already in the database: reusing it (--reset starts over).")
    else:
        _seed_and_drive(ctx, size, console)
        keys_file.unlink(missing_ok=True)
    _print_gmv(ctx, size, console)
    _print_shipments(ctx, console)
    _ensure_keys(ctx, keys_file, console)
    ensure_console_users(ctx, keys_file, console)
    console.print(f"demo ready in {time.perf_counter() - started:.0f} s")
    return ctx


def _delete_sqlite(url: str, console: Console) -> None:
    if not is_sqlite(url):
        console.print(
            "[yellow]--reset only deletes SQLite files; drop a PostgreSQL database yourself[/yellow]"
        )
        return
    database = make_url(url).database
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def _seed_and_drive(ctx: OrderingContext, size: demo.DemoSize, console: Console) -> None:
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        seeded = demo.seed(ctx, size, progress)
        stats = orders.drive(_declining_only_when_told(ctx), seeded, size, progress, _declines(ctx.settings))
        local = _city_day(ctx, size.end - dt.timedelta(days=1), progress)
    console.print("orders: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
    console.print(local)
    console.print(peak_days.leave_peak_day(ctx, seeded, size).line())
    # The reports' snapshot holds the history (to size.end) and the city day, not the peak day: that is
    # laid out around today, and a lone order today would make the data seem to span the year between.
    _snapshot_for_reports(ctx, size.end - dt.timedelta(days=1), console)
    # the peak day's and the city day's events handled now, as the served relay would at once
    relaying.drain(ctx.db, relay_registry(ctx.fx), ctx.clock(), set())
    _group_facts(ctx, console)


def _city_day(ctx: OrderingContext, day: dt.date, progress: local_demo.Progress) -> str:
    """Local services' day on the bundled city map: stores, couriers and a day of deliveries; said and
    skipped where the map's package is not installed."""
    try:
        seeded = local_demo.seed_local_services(ctx, local_demo.LocalSize(day=day), progress)
    except CityUnavailable as missing:
        return f"local services: skipped ({missing})"
    return seeded.line()


def _group_facts(ctx: OrderingContext, console: Console) -> None:
    """The published figures the reporting pages set the platform's against: Lazada's target, the
    FY2022 guidance and its cut, Ant Group as a 33 % equity-method investee, the social programmes, as
    `entrepot report scenario` loads them (its organisation is the demo's)."""
    with ctx.db.transaction() as session:
        loaded = accounts_scenario.load(
            session, FiscalCalendar(ctx.settings.fiscal_year_end_month), ctx.clock()
        )
    console.print(
        f"group facts: {loaded['actuals']} published figures, targets, guidance, Ant Group and the"
        " social programmes (`entrepot report scenario` shows them)"
    )


def _declines(settings: Settings) -> orders.Declines:
    return orders.Declines(settings.payment_decline_rate, settings.decline_reasons() or ["card_declined"])


def _declining_only_when_told(ctx: OrderingContext) -> OrderingContext:
    """The demo's context with a payment provider that declines only a `decline_<reason>` method: the
    simulated provider draws its declines from the payment's id, which is random, so a demo whose
    declines it drew would differ from run to run; the demo draws them from its own seed instead
    (orders.Declines) and the same seed gives the same group, order for order."""
    settings = ctx.settings.model_copy(update={"payment_decline_rate": 0.0})
    driving = build_context(settings, ctx.db)
    driving.clock = ctx.clock
    return driving


def _snapshot_for_reports(ctx: OrderingContext, last_day: dt.date, console: Console) -> None:
    """Group reporting reads a snapshot, not the store: take it now, so `entrepot report ...` and
    /reports answer from the first minute. A snapshot left by an earlier demo describes another store."""
    folder = Path(ctx.settings.reporting_snapshot_dir)
    snapshot.discard(folder)
    with ctx.db.transaction() as session:
        result = snapshot.refresh(session, folder, ctx.clock())
    fiscal = FiscalCalendar(ctx.settings.fiscal_year_end_month)
    year = fiscal.fiscal_year(last_day)
    console.print(
        f"reporting snapshot: {result.new_rows['order_lines']:,} order lines in {folder}"
        f" (try `entrepot report gmv --by division --period FY{year} --currency USD`)"
    )


def _print_gmv(ctx: OrderingContext, size: demo.DemoSize, console: Console) -> None:
    with ctx.db.transaction() as session:
        first = session.scalar(select(Order.order_date).order_by(Order.order_date).limit(1)) or size.start
        last = (
            session.scalar(select(Order.order_date).order_by(Order.order_date.desc()).limit(1)) or size.start
        )
        rows = gmv_rows(session, first, last + dt.timedelta(days=1))
    table = Table(title=f"GMV by division and market, {first} to {last}, USD")
    for column in ("division", "market", "orders", "GMV", "paid GMV"):
        table.add_column(column, justify="right" if column in ("orders", "GMV", "paid GMV") else "left")
    totals: dict[str, list[int]] = {}
    for row in rows:
        table.add_row(row.division, row.market, f"{row.orders:,}", _usd(row.gmv_usd), _usd(row.paid_gmv_usd))
        acc = totals.setdefault(row.division, [0, 0, 0])
        for i, value in enumerate((row.orders, row.gmv_usd, row.paid_gmv_usd)):
            acc[i] += value
    for division, (count, gmv, paid) in sorted(totals.items()):
        table.add_row(f"[bold]{division}[/bold]", "[bold]all[/bold]", f"{count:,}", _usd(gmv), _usd(paid))
    console.print(table)
    console.print(f"[dim]{GMV_DEFINITION}[/dim]")


def _print_shipments(ctx: OrderingContext, console: Console) -> None:
    with ctx.db.transaction() as session:
        by_status = dict(
            session.execute(select(Shipment.status, func.count()).group_by(Shipment.status)).all()
        )
        on_time = session.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.delivered_at <= Shipment.promised_at)
        )
    delivered = by_status.get("delivered", 0)
    share = f"{(on_time or 0) / delivered:.1%} on time" if delivered else "none delivered"
    console.print(
        f"shipments: {sum(by_status.values()):,} planned; delivered {delivered:,} ({share}); "
        + ", ".join(
            f"{status} {count:,}" for status, count in sorted(by_status.items()) if status != "delivered"
        )
    )


def _usd(minor: int) -> str:
    return f"${minor / 100:,.2f}"


def _ensure_keys(ctx: OrderingContext, keys_file: Path, console: Console) -> None:
    if keys_file.exists():
        console.print(f"demo API keys: {keys_file} (kept from the earlier run)")
        return
    now = ctx.clock()
    with ctx.db.transaction() as session:
        sellers = list(session.scalars(select(Seller.public_id).order_by(Seller.id).limit(2)))
        buyer = session.scalar(
            select(Buyer.public_id)
            .join(Order, Order.buyer_id == Buyer.id)
            .group_by(Buyer.id, Buyer.public_id)
            .order_by(Buyer.id)
            .limit(1)
        ) or session.scalar(select(Buyer.public_id).order_by(Buyer.id).limit(1))
        keys = {"operator": identity.create_api_key(session, "operator", "demo operator", now)[1]}
        for index, seller in enumerate(sellers, start=1):
            keys[f"seller_{index}"] = identity.create_api_key(
                session, "seller", f"demo seller {index}", now, seller_public_id=seller
            )[1]
            keys[f"seller_{index}_id"] = seller
        if buyer:
            keys["buyer"] = identity.create_api_key(
                session, "buyer", "demo buyer", now, buyer_public_id=buyer
            )[1]
            keys["buyer_id"] = buyer
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.write_text(json.dumps(keys, indent=2) + "\n")
    keys_file.chmod(0o600)
    console.print(f"demo API keys written to {keys_file} (plaintext, for this demo only)")
