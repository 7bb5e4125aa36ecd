"""The FastAPI application: routers under /api/v1, problem+json errors, middleware, and a lifespan that
runs the background jobs of `entrepot.bootstrap` (the sweeper, the outbox relay, the FX refresh)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from entrepot import GC_THRESHOLDS, __version__, bootstrap
from entrepot.api import audit as audit_api
from entrepot.api import events
from entrepot.api import metrics as metrics_api
from entrepot.api.hardening import Hardened, page_policy, script_hashes
from entrepot.api.observed import Observed
from entrepot.campaigns.flash import api as flash_api
from entrepot.campaigns.flash.fast import FlashFastPath
from entrepot.campaigns.group_buys import api as group_buys_api
from entrepot.campaigns.livestream import api as livestream_api
from entrepot.catalog import api as catalog_api
from entrepot.emissions import api as emissions_api
from entrepot.identity import api as identity_api
from entrepot.integrations import api as webhooks_api
from entrepot.inventory import api as inventory_api
from entrepot.local_services import api as local_services_api
from entrepot.logistics import api as logistics_api
from entrepot.logistics import service as logistics_service
from entrepot.logistics.routing import warm_up as warm_up_planner
from entrepot.ordering import api as ordering_api
from entrepot.ordering import cart_api
from entrepot.ordering.fast import CheckoutFastPath
from entrepot.organization import api as organization_api
from entrepot.platform import problems
from entrepot.platform.db import Database
from entrepot.platform.deps import AppContext, authenticated
from entrepot.platform.limits import BodySizeLimit
from entrepot.platform.outbox import HandlerRegistry
from entrepot.platform.settings import Settings, get_settings
from entrepot.reporting import api as reporting_api
from entrepot.web import app as console

log = logging.getLogger("entrepot")
API_PREFIX = "/api/v1"


# Swagger UI 5 (it reads OpenAPI 3.1), vendored from the npm package swagger-ui-dist with its licence:
# static/swagger-ui/SOURCE.md says which version and how to update it.
SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"


def _serve_docs_offline(app: FastAPI) -> str:
    """Swagger UI from files installed with the package: nothing is fetched from the internet at run
    time. Returns the page's content security policy, which names the page's inline script by its hash."""
    app.mount("/docs/static", StaticFiles(directory=SWAGGER_UI), name="docs-static")
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Entrepot API",
        swagger_js_url="/docs/static/swagger-ui-bundle.js",
        swagger_css_url="/docs/static/swagger-ui.css",
        swagger_favicon_url="/docs/static/favicon-32x32.png",
        # no badge that would send the document to an online validator
        swagger_ui_parameters={"validatorUrl": None},
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return page

    return page_policy(script_hashes(bytes(page.body).decode()))


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


async def after_start(ctx: AppContext) -> None:
    """Load the route planner's compiled code now, off the event loop, not in the first request; then,
    if the settings say so, settle the garbage collector (`settle_garbage_collector`); then compute what
    the console's pages would otherwise compute for their first visitor; then the planner's bounds for a
    network that has none written yet."""
    await asyncio.to_thread(warm_up_planner)
    if ctx.settings.gc_freeze_at_start:
        settle_garbage_collector()
    await asyncio.to_thread(console.prepare, ctx)
    if ctx.settings.routes_precompute_at_start:
        await asyncio.to_thread(_prepare_planner, ctx)


def _prepare_planner(ctx: AppContext) -> None:
    """The planner's bounds for the stored network, computed now if the network is new or has changed
    since they were written (a minute on 10,000 nodes, off the event loop: queries meanwhile search their
    own bounds, as before). A failure is logged, not raised: planning works without them, only slower."""
    try:
        with ctx.db.transaction() as session:
            logistics_service.prepare_planner(session, progress=log.info)
    except Exception:
        log.exception("the route planner's bounds could not be computed at start; queries search their own")


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


def attach_context(
    app: FastAPI, settings: Settings, db: Database | None = None, registry: HandlerRegistry | None = None
) -> None:
    """Give the app its context (settings, database, rates, clock) and the event handlers its relay runs
    (by default `bootstrap.relay_registry`). Every request and the lifespan's jobs read them from
    `app.state`, and the runtimes made on first use (flash sales, live feeds) belong to the context, so
    attaching another context makes the app serve another database without building its routes again
    (the tests do this: FastAPI builds an app's routes, their dependencies and schemas, on its first
    request)."""
    app.state.ctx = ctx = bootstrap.build_context(settings, db)
    app.state.relay_registry = registry if registry is not None else bootstrap.relay_registry(ctx.fx)


def create_app(
    settings: Settings | None = None, db: Database | None = None, registry: HandlerRegistry | None = None
) -> FastAPI:
    """The app; `registry` holds the event handlers its relay runs (by default `bootstrap.relay_registry`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx, handlers = app.state.ctx, app.state.relay_registry
        settings = ctx.settings
        settings.refuse_published_defaults()  # production: stop here, naming each one
        for default in settings.published_defaults():  # development and tests: say so
            log.warning("%s (ENTREPOT_ENV=%s)", default, settings.env)
        size_thread_pool(settings)
        tasks = [asyncio.create_task(job) for job in bootstrap.background_jobs(ctx, handlers)]
        tasks.append(asyncio.create_task(after_start(ctx)))
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
    attach_context(app, settings, db, registry)
    problems.install(app)
    # the flash order request is answered before the router (the rush's hot path; see campaigns.flash.fast);
    # added before BodySizeLimit so that the size limit still wraps it
    app.add_middleware(FlashFastPath, prefix=API_PREFIX)
    app.add_middleware(CheckoutFastPath, prefix=API_PREFIX)  # POST /orders, the payment webhook: the same
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Hardened, api_prefix=API_PREFIX, html_policy=html_policy)
    app.add_middleware(
        Observed, api_prefix=API_PREFIX
    )  # outermost: request ids, and answers counted as clients saw them
    for module in (
        flash_api,  # flash sales first: the hottest paths match after the fewest routes
        group_buys_api,  # group buying
        livestream_api,  # livestream sessions
        organization_api,
        catalog_api,
        inventory_api,
        identity_api,
        logistics_api,  # before ordering: /orders/{id}/shipments must win over /orders/{id}/{action}
        emissions_api,
        local_services_api,
        ordering_api,
        cart_api,
        reporting_api,
        webhooks_api,
        events,
        audit_api,
        metrics_api,
    ):
        problems.document(module.router, authenticated)  # its problem answers, in the document
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["health"])
    def health(request: Request) -> dict[str, object]:
        """Up, and what needs an operator's eye: currencies whose newest rate is past the staleness limit
        (orders still sell; their USD and CNY amounts are provisional until rates are loaded)."""
        stale = request.app.state.ctx.stale_currencies
        warnings = [f"stale FX rates: {', '.join(stale)}"] if stale else []
        return {"status": "ok", "version": __version__, "warnings": warnings}

    console.install(app)  # the console's pages at `/`, after the API's routes
    return app
