"""The FastAPI application: routers under /api/v1, problem+json errors, the sweeper and the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from entrepot import __version__
from entrepot.api import events
from entrepot.api.hardening import Hardened, page_policy, script_hashes
from entrepot.campaigns.flash import api as peak_api
from entrepot.campaigns.flash import orders as flash_orders
from entrepot.campaigns.flash.fast import FlashFastPath
from entrepot.campaigns.group_buys import api as group_api
from entrepot.campaigns.group_buys import payments as group_payments
from entrepot.campaigns.livestream import api as live_api
from entrepot.catalog import api as catalog_api
from entrepot.emissions import api as emissions_api
from entrepot.emissions import events as emissions_events
from entrepot.identity import api as identity_api
from entrepot.inventory import api as inventory_api
from entrepot.kernel.fx import FxRates
from entrepot.logistics import api as logistics_api
from entrepot.logistics import events as logistics_events
from entrepot.logistics.rates import NetworkRates
from entrepot.logistics.routing import warm_up as warm_up_planner
from entrepot.ordering import api as ordering_api
from entrepot.ordering import cart_api, restatement
from entrepot.ordering import events as ordering_events
from entrepot.ordering import service as ordering
from entrepot.ordering.checkout import Limits
from entrepot.ordering.payments import SimulatedProvider
from entrepot.ordering.provider_ledger import TableLedger
from entrepot.ordering.reconciliation import Due, Reconciled
from entrepot.organization import api as organization_api
from entrepot.organization import rates as fx_rates
from entrepot.platform import problems
from entrepot.platform.db import Database
from entrepot.platform.deps import AppContext
from entrepot.platform.limits import BodySizeLimit
from entrepot.platform.outbox import HandlerRegistry, RetryPolicy, relay_once
from entrepot.platform.settings import Settings, get_settings
from entrepot.reporting import api as reporting_api

log = logging.getLogger("entrepot")
API_PREFIX = "/api/v1"


def build_context(settings: Settings, db: Database | None = None) -> AppContext:
    database = db or Database(settings.database_url, settings.db_pool_size)
    reasons = [r.strip() for r in settings.payment_decline_reasons.split(",") if r.strip()]
    return AppContext(
        settings=settings,
        db=database,
        fx=fx_rates.rates_of(settings),
        payments=SimulatedProvider(
            settings.webhook_secret, settings.payment_decline_rate, reasons, ledger=TableLedger(database)
        ),
        limits=Limits(
            settings.max_order_lines,
            settings.max_line_quantity,
            dt.timedelta(seconds=settings.reservation_ttl_seconds),
        ),
        shipping=NetworkRates(),  # delivery options from the logistics network (flat fees without one)
        clock=settings.make_clock(),
    )


def reconcile_once(ctx: AppContext) -> Reconciled:
    """Ask the provider about the payments pending too long or whose reservation runs out before the
    round after next, and settle them (`ordering.service.reconcile_payments`)."""
    interval = dt.timedelta(seconds=ctx.settings.sweeper_interval_seconds)
    return ordering.reconcile_payments(ctx.db, ctx.payments, Due.ahead(ctx.clock(), interval))


def sweep_once(ctx: AppContext) -> int:
    """Expire the orders whose reservation ran out, their pending payments reconciled first."""
    return ordering.expire_overdue(ctx.db, ctx.payments, ctx.clock())


async def _sweeper(ctx: AppContext) -> None:
    while True:
        await asyncio.sleep(ctx.settings.sweeper_interval_seconds)
        try:
            reconciled = await run_in_threadpool(reconcile_once, ctx)
            if reconciled.asked:
                log.info("sweeper: %s", reconciled)
            expired = await run_in_threadpool(sweep_once, ctx)
            if expired:
                log.info("sweeper: %d orders expired, their stock released", expired)
        except Exception:  # keep sweeping: one failed round must not stop expiry for good
            log.exception("sweeper round failed")


def relay_registry(fx: FxRates | None = None) -> HandlerRegistry:
    """The handlers the relay runs, composed here at the entry point so the outbox knows no context."""
    registry = HandlerRegistry()
    logistics_events.register(registry)  # order.paid -> plan and book shipments
    emissions_events.register(registry)  # shipment.planned -> emissions per leg, stored
    flash_orders.register(registry, fx)  # flash_orders.paid -> ordinary paid orders (+ order.paid)
    restatement.register(registry, fx or fx_rates.rates_of(get_settings()))  # fx.rates_loaded -> re-state
    group_payments.register(registry, group_payments.SimulatedHolds())  # group buys: capture/release
    ordering_events.register(registry)  # delivery.started/completed -> order shipped/delivered
    return registry


def relay_round(ctx: AppContext, registry: HandlerRegistry) -> int:
    settings = ctx.settings
    policy = RetryPolicy(
        settings.relay_max_attempts, settings.relay_backoff_seconds, settings.relay_backoff_max_seconds
    )
    return relay_once(ctx.db, registry, ctx.clock(), settings.relay_batch_size, policy)


async def _relay(ctx: AppContext, registry: HandlerRegistry) -> None:
    pause = 0.0
    while True:
        await asyncio.sleep(pause)
        try:
            taken = await run_in_threadpool(relay_round, ctx, registry)
        except Exception:  # keep relaying: the database may be back next round
            log.exception("relay round failed")
            taken = 0
        # A full batch means more are waiting: go on without the pause until the backlog is through.
        full = taken >= ctx.settings.relay_batch_size
        pause = 0.0 if full else ctx.settings.relay_interval_seconds


def refresh_rates(ctx: AppContext) -> list[str]:
    """Add the rates loaded since the last look (by any process) to this process's book; the currencies
    whose newest rate is now older than the staleness limit (their new amounts are provisional)."""
    with ctx.db.transaction() as session:
        fx_rates.sync_book(session, ctx.fx.book)
        status = fx_rates.fx_status(session, ctx.fx, ctx.clock().date())
    return fx_rates.stale_currencies(status)


async def _rates_refresher(ctx: AppContext) -> None:
    while True:
        try:
            stale = await run_in_threadpool(refresh_rates, ctx)
            if stale != ctx.stale_currencies:
                log.warning("FX: rates older than %d days for %s", ctx.fx.max_staleness_days, stale or "none")
            ctx.stale_currencies = stale
        except Exception:  # keep refreshing: the database may not be there yet, or be back next round
            log.exception("FX rate refresh failed")
        await asyncio.sleep(ctx.settings.fx_refresh_seconds)


def _serve_docs_offline(app: FastAPI) -> str:
    """Swagger UI from the swagger-ui-bundle package: nothing is fetched from the internet at run time.
    Returns the page's content security policy, which names the page's inline script by its hash."""
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-static")
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Entrepot API",
        swagger_js_url="/docs/static/swagger-ui-bundle.js",
        swagger_css_url="/docs/static/swagger-ui.css",
        swagger_favicon_url="/docs/static/favicon-32x32.png",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return page

    return page_policy(script_hashes(bytes(page.body).decode()))


# Young objects are collected after this many allocations (Python's default is 700): a busy worker
# otherwise runs several collections per batch of requests
GC_THRESHOLDS = (10_000, 20, 100)


def size_thread_pool(settings: Settings) -> None:
    """Run blocking endpoints, background tasks, flash batches, the relay, the sweepers and the live
    feeds' polls on as many threads as the connection pool's size (unless ENTREPOT_API_THREADS says
    otherwise), not anyio's default 40.

    Why: nearly all of that work holds a connection, and every extra thread competes for the
    interpreter lock; in the checkout bench the pool's size beat both 40 and pool plus overflow (the
    README's Performance section has the figures). Must run on the server's event loop: the limiter
    is per loop."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = settings.api_threads or settings.db_pool_size


async def after_start(settings: Settings) -> None:
    """Load the route planner's compiled code now, off the event loop, not in the first request; then,
    if the settings say so, settle the garbage collector (`settle_garbage_collector`)."""
    await asyncio.to_thread(warm_up_planner)
    if settings.gc_freeze_at_start:
        settle_garbage_collector()


def settle_garbage_collector() -> None:
    """Move every object made while starting (the app, its schemas, the loaded libraries and compiled
    planner) out of the collector's sight and collect young objects less often.

    Why: in the flash rush (`entrepot bench flash`) each server ran hundreds of generation-1 collections
    of 3-12 ms and full collections of 100-250 ms, each time walking the hundreds of thousands of
    objects loaded at start that never become garbage; the full ones stalled a batch of orders for their
    whole length. Frozen objects are still freed by reference counting; only a reference cycle among
    them would never be collected, which a one-off start-up set can afford."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(
    settings: Settings | None = None, db: Database | None = None, registry: HandlerRegistry | None = None
) -> FastAPI:
    """The app; `registry` holds the event handlers its relay runs (by default `relay_registry()`)."""
    settings = settings or get_settings()
    ctx = build_context(settings, db)
    handlers = registry if registry is not None else relay_registry(ctx.fx)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        settings.refuse_published_defaults()  # production: stop here, naming each one
        for default in settings.published_defaults():  # development and tests: say so
            log.warning("%s (ENTREPOT_ENV=%s)", default, settings.env)
        size_thread_pool(settings)
        tasks = [asyncio.create_task(_sweeper(ctx))] if settings.run_sweeper else []
        if settings.run_relay:
            tasks.append(asyncio.create_task(_relay(ctx, handlers)))
        tasks.append(asyncio.create_task(_rates_refresher(ctx)))
        tasks.append(asyncio.create_task(after_start(settings)))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="Entrepot",
        version=__version__,
        summary="Run a multi-market commerce group: marketplaces, inventory, checkout and orders.",
        openapi_url="/openapi.json",
        docs_url=None,  # served below from files installed with the package, not from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    html_policy = _serve_docs_offline(app)
    app.state.ctx = ctx
    app.state.relay_registry = handlers
    problems.install(app)
    # the flash order request is answered before the router (the rush's hot path; see ordering.peak_fast);
    # added before BodySizeLimit so that the size limit still wraps it
    app.add_middleware(FlashFastPath, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Hardened, api_prefix=API_PREFIX, html_policy=html_policy)  # outermost of ours
    for module in (
        peak_api,  # flash sales first: the hottest paths match after the fewest routes
        group_api,  # group buying
        live_api,  # livestream sessions
        organization_api,
        catalog_api,
        inventory_api,
        identity_api,
        logistics_api,  # before ordering: /orders/{id}/shipments must win over /orders/{id}/{action}
        emissions_api,
        ordering_api,
        cart_api,
        reporting_api,
        events,
    ):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["health"])
    def health() -> dict[str, object]:
        """Up, and what needs an operator's eye: currencies whose newest rate is past the staleness limit
        (orders still sell; their USD and CNY amounts are provisional until rates are loaded)."""
        warnings = [f"stale FX rates: {', '.join(ctx.stale_currencies)}"] if ctx.stale_currencies else []
        return {"status": "ok", "version": __version__, "warnings": warnings}

    return app
