"""`entrepot webhooks ...`: subscriptions (made here as an operator, or for a seller with --seller), their
delivery log, replays and secret rotation; the delivery worker as a process of its own; and a receiver for
development that checks signatures."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from entrepot.cli.config import get_settings
from entrepot.cli.errors import fail, failures, require_schema
from entrepot.cli.output import stdout as console

if TYPE_CHECKING:
    from entrepot.ordering.context import OrderingContext
    from entrepot.platform.principal import Principal

app = typer.Typer(help="Outbound webhooks (Standard Webhooks).", no_args_is_help=True)
subs_app = typer.Typer(help="Subscriptions.", no_args_is_help=True)
app.add_typer(subs_app, name="subscriptions")


def _context() -> OrderingContext:
    from entrepot.bootstrap import build_context

    settings = get_settings()
    require_schema(settings.database_url)
    return build_context(settings)


def _acting(session: object, seller: str | None) -> Principal:
    """The CLI acts as an operator, or as the seller named (whose own events only)."""
    from entrepot.catalog import service as catalog
    from entrepot.platform.principal import Principal

    if seller is None:
        return Principal(role="operator", key_id="cli")
    row = catalog.get_seller(session, seller)  # type: ignore[arg-type]
    return Principal(role="seller", key_id="cli", seller_id=row.id, seller_public_id=row.public_id)


@subs_app.command("create")
def create(
    url: Annotated[
        str, typer.Option(help="https://... (http too); private targets need ENTREPOT_WEBHOOKS_ALLOW_PRIVATE")
    ],
    event_type: Annotated[list[str], typer.Option("--event-type", help="repeat for each type")],
    seller: Annotated[str | None, typer.Option(help="a seller's subscription (its own events only)")] = None,
    description: Annotated[str, typer.Option(max=200)] = "",
) -> None:
    """Subscribe an endpoint; prints its id and its secret (shown this once)."""
    from entrepot.integrations import service
    from entrepot.integrations.settings import settings_of

    ctx = _context()
    with failures(), ctx.db.transaction() as session:
        spec = service.NewSubscription(url, event_type, description)
        made = service.create_subscription(
            session, _acting(session, seller), spec, settings_of(ctx).allow_private, ctx.clock()
        )
        public_id = made.subscription.public_id
    console.print(f"{public_id} {made.secret}")


@subs_app.command("list")
def list_(seller: Annotated[str | None, typer.Option()] = None) -> None:
    """Subscriptions: id, status, URL and event types."""
    from entrepot.integrations import service

    ctx = _context()
    with failures(), ctx.db.transaction() as session:
        subs = service.list_subscriptions(session, _acting(session, seller), None, 10_000)
        types = service.event_types_of(session, [s.id for s in subs])
        for sub in subs:
            console.print(f"{sub.public_id} {sub.status} {sub.url} {','.join(types[sub.id])}", soft_wrap=True)


@subs_app.command("rotate")
def rotate(
    subscription: str,
    overlap_hours: Annotated[
        float, typer.Option(min=0, max=720, help="the old secret still signs so long")
    ] = 24.0,
) -> None:
    """A new secret (printed once); the old one also signs during the overlap."""
    from entrepot.integrations import service

    ctx = _context()
    with failures(), ctx.db.transaction() as session:
        made = service.rotate_secret(
            session, _acting(session, None), subscription, dt.timedelta(hours=overlap_hours), ctx.clock()
        )
    console.print(f"{subscription} {made.secret}")


@subs_app.command("enable")
def enable(subscription: str) -> None:
    """Deliver again to a disabled endpoint."""
    from entrepot.integrations import service

    ctx = _context()
    with failures(), ctx.db.transaction() as session:
        service.enable(session, _acting(session, None), subscription, ctx.clock())
    console.print(f"{subscription} active")


@app.command("deliveries")
def deliveries(
    subscription: str,
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """A subscription's delivery log, newest first."""
    from entrepot.integrations import service

    if status not in (None, "pending", "delivered", "failed"):
        raise fail("--status is pending, delivered or failed")
    ctx = _context()
    with failures(), ctx.db.transaction() as session:
        rows = service.list_deliveries(
            session, _acting(session, None), subscription, service.DeliveryFilter(status), None, limit
        )
        for r in rows:
            answer = f"HTTP {r.response_status}" if r.response_status else (r.last_error or "-")
            console.print(
                f"{r.public_id} {r.message_id} {r.event_type} {r.status} attempts={r.attempts} "
                f"{answer} {r.response_ms if r.response_ms is not None else '-'}ms",
                soft_wrap=True,
            )


@app.command("replay")
def replay(
    target: Annotated[str, typer.Argument(help="a delivery (whdel_...) or a subscription (whsub_...)")],
    since: Annotated[dt.datetime | None, typer.Option(help="with a subscription: events from (UTC)")] = None,
    until: Annotated[
        dt.datetime | None, typer.Option(help="with a subscription: events before (UTC)")
    ] = None,
) -> None:
    """Send one delivery again, or every delivery of a subscription whose event is in [since, until)."""
    from entrepot.integrations import service

    ctx = _context()
    with failures(), ctx.db.transaction() as session:
        principal = _acting(session, None)
        if target.startswith(service.DELIVERY_PREFIX + "_"):
            row = service.replay_delivery(session, principal, target, ctx.clock())
            message = f"{row.public_id} queued"
        else:
            if since is None or until is None:
                raise fail("a subscription's replay needs --since and --until")
            utc = dt.UTC
            queued = service.replay_range(
                session, principal, target, since.replace(tzinfo=utc), until.replace(tzinfo=utc), ctx.clock()
            )
            message = f"{queued} deliveries queued"
    console.print(message)


@app.command("work")
def work(
    once: Annotated[bool, typer.Option("--once", help="send what is due now, then stop")] = False,
) -> None:
    """Send due deliveries, as the API does in the background; several may run side by side. Ctrl-C stops
    (a batch in flight is sent again by the next worker: at least once)."""
    import asyncio

    from entrepot.integrations.settings import settings_of
    from entrepot.integrations.worker import Worker

    ctx = _context()

    async def run() -> int:
        worker = Worker(ctx.db, settings_of(ctx), ctx.clock)
        try:
            if once:
                return await worker.run_once()
            await worker.run()
            return 0
        finally:
            await worker.close()

    try:
        sent = asyncio.run(run())
        console.print(f"{sent} deliveries attempted")
    except KeyboardInterrupt:
        pass
    finally:
        ctx.db.dispose()


@app.command("listen")
def listen(
    secret: Annotated[list[str], typer.Option("--secret", help="whsec_...; repeat during a rotation")],
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8787,
    host: str = "127.0.0.1",
) -> None:
    """A receiver for development: verifies each delivery's signature and prints it (401 when it fails)."""
    from aiohttp import web

    from entrepot.integrations.receiver import Received, receiver_app

    bad = [s for s in secret if not s.startswith("whsec_")]
    if bad:
        raise fail("--secret must be a whsec_ secret")

    async def show(received: Received) -> int:
        verdict = "verified" if received.verified else f"REFUSED ({received.error})"
        console.print(
            f"{received.webhook_id} {verdict} {received.body.decode(errors='replace')}", soft_wrap=True
        )
        return 204 if received.verified else 401

    try:
        web.run_app(
            receiver_app(secret, show),
            host=host,
            port=port,
            print=lambda _: console.print(f"listening on http://{host}:{port}/"),
        )
    except ValueError as exc:
        raise fail(f"--secret: {exc}") from None


def bench_webhooks(
    rate: Annotated[float, typer.Option(min=1, help="events per second")] = 300.0,
    seconds: Annotated[float, typer.Option(min=1, help="how long events come")] = 10.0,
    healthy: Annotated[int, typer.Option(min=1, max=50, help="receivers that answer at once")] = 4,
    slow_ms: Annotated[float, typer.Option(min=0, help="the slow receiver's time per request")] = 50.0,
    flaky_seconds: Annotated[float, typer.Option(min=0, help="the failing receiver fails so long")] = 3.0,
    workers: Annotated[int, typer.Option(min=1, max=16, help="delivery worker processes")] = 2,
    in_flight: Annotated[
        int, typer.Option(min=1, max=64, help="requests in flight per endpoint (1: in order)")
    ] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="ENTREPOT_BENCH_DATABASE_URL",
            help="a PostgreSQL server (a scratch database is made, then dropped); default: SQLite",
        ),
    ] = None,
) -> None:
    """Events through the outbox to loopback receivers (healthy, slow, failing then recovering); prints
    `webhooks delivered=... per_s=... p99_lag_ms=... duplicates=... lost=... retried=...` last."""
    from entrepot.simulation.bench_webhooks import Plan, run

    run(console, Plan(rate, seconds, healthy, slow_ms, flaky_seconds, workers, in_flight), database_url)
