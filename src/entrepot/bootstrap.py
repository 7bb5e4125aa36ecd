"""The composition root: everything a running Entrepot is made of, built once, here.

The settings' database, FX rates (`organization.rates.rates_of`), payment provider, checkout limits,
shipping rates and clock make the application context (`build_context`), whose building also hands
logistics the emission factor version in force (`wire_emission_estimates`); the outbox's handlers are
registered with that context's rates (`relay_registry`); and the background jobs are defined here once
(`sweep_round`, `relay_round`, `refresh_rates`, and the loops that repeat them). The API
(`entrepot.api.app`) starts these loops in its lifespan, the CLI (`entrepot sweep`, `entrepot events
relay`) runs a round of the same jobs, and the simulation builds its context here too: a deployment
that runs the sweep as a job releases exactly what the API's background loop would.

Nothing below the entry points builds any of these: no context reads the settings to make its own FX
rates or provider.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from entrepot.campaigns.flash import orders as flash_orders
from entrepot.campaigns.flash import settlement as flash_settlement
from entrepot.campaigns.group_buys import payments as group_payments
from entrepot.campaigns.group_buys import service as group_buys
from entrepot.emissions import estimates as emission_estimates
from entrepot.emissions import events as emissions_events
from entrepot.emissions import local_trips as local_trip_emissions
from entrepot.identity import service as identity
from entrepot.identity import sessions
from entrepot.integrations import events as webhook_events
from entrepot.integrations import worker as webhooks
from entrepot.integrations.settings import settings_of as webhook_settings
from entrepot.kernel.fx import FxRates
from entrepot.local_services import round_service
from entrepot.logistics import events as logistics_events
from entrepot.logistics import service as logistics
from entrepot.logistics.rates import NetworkRates
from entrepot.ordering import events as ordering_events
from entrepot.ordering import restatement
from entrepot.ordering import service as ordering
from entrepot.ordering.checkout import Limits
from entrepot.ordering.context import OrderingContext
from entrepot.ordering.payments import SimulatedProvider
from entrepot.ordering.provider_ledger import TableLedger
from entrepot.ordering.reconciliation import Due, Reconciled
from entrepot.organization import rates as fx_rates
from entrepot.platform.db import Database
from entrepot.platform.deps import AppContext
from entrepot.platform.outbox import HandlerRegistry, RetryPolicy, relay_once
from entrepot.platform.settings import Settings

log = logging.getLogger("entrepot")


# --- what the app is made of ------------------------------------------------------------------------


def build_context(settings: Settings, db: Database | None = None) -> OrderingContext:
    """The application context of these settings (on `db` when given, else a new pool)."""
    database = db or Database(settings.database_url, settings.db_pool_size)
    reasons = settings.decline_reasons()
    fx = fx_rates.rates_of(settings)
    wire_emission_estimates()
    return OrderingContext(
        settings=settings,
        db=database,
        fx=fx,
        keys=identity,  # API keys are checked by the identity context
        carriers=logistics.carriers,  # carrier keys name a carrier the network's lanes name
        clock=settings.make_clock(),
        payments=SimulatedProvider(
            settings.webhook_secret, settings.payment_decline_rate, reasons, ledger=TableLedger(database)
        ),
        limits=Limits(
            settings.max_order_lines,
            settings.max_line_quantity,
            dt.timedelta(seconds=settings.reservation_ttl_seconds),
        ),
        shipping=NetworkRates(fx),  # delivery options from the logistics network (flat fees without one)
    )


def wire_emission_estimates() -> None:
    """Route planning and checkout's quotes weigh lanes with the emission factor version accounting
    records shipments under (emissions sits above logistics, so logistics is handed it here), and state
    that version; logistics re-weighs its network when a factor table opens a new version."""
    logistics.use_intensities(emission_estimates.CURRENT)


def relay_registry(fx: FxRates) -> HandlerRegistry:
    """The handlers the outbox relay runs, converting with `fx` (the context's rates)."""
    registry = HandlerRegistry()
    logistics_events.register(registry, fx)  # order.paid -> plan and book shipments
    emissions_events.register(registry)  # shipment.planned -> emissions per leg, stored
    local_trip_emissions.register(registry)  # local.trip_done -> a courier's km as emissions, stored
    flash_orders.register(registry, fx)  # flash_orders.paid -> ordinary paid orders (+ order.paid)
    restatement.register(registry, fx)  # fx.rates_loaded -> re-state provisional orders
    ordering_events.register(registry)  # delivery.started/completed -> order shipped/delivered
    group_payments.register(registry, group_payments.SimulatedHolds())  # group buys: capture/release
    webhook_events.register(registry)  # subscribed events -> webhook deliveries queued (sent by workers)
    return registry


# --- the jobs: one round of each --------------------------------------------------------------------


def reconcile_once(ctx: OrderingContext) -> Reconciled:
    """Ask the provider about the payments pending too long or whose reservation runs out before the
    round after next, and settle them (`ordering.service.reconcile_payments`)."""
    interval = dt.timedelta(seconds=ctx.settings.sweeper_interval_seconds)
    return ordering.reconcile_payments(ctx.db, ctx.payments, Due.ahead(ctx.clock(), interval))


def sweep_once(ctx: OrderingContext) -> int:
    """Expire the orders whose reservation ran out, their pending payments reconciled first."""
    return ordering.expire_overdue(ctx.db, ctx.payments, ctx.clock())


def sweep_campaigns(ctx: AppContext) -> int:
    """Flash reservations that ran out, group-buy teams past their deadline, ended campaigns closed;
    the flash orders, teams and campaigns changed."""
    with ctx.db.transaction() as session:
        changed = flash_settlement.sweep(session, ctx.clock())
    with ctx.db.transaction() as session:
        changed += group_buys.fail_overdue_teams(session, ctx.clock())
        changed += group_buys.close_ended(session, ctx.clock())
    return changed


@dataclass(frozen=True)
class Swept:
    """What one sweep round did."""

    reconciled: Reconciled
    orders_expired: int
    campaigns_changed: int
    sessions_purged: int


def sweep_round(ctx: OrderingContext) -> Swept:
    """The sweep: reconcile pending payments, expire overdue orders, release overdue campaign holds.
    Run by `entrepot sweep` once and by the API's sweeper every ENTREPOT_SWEEPER_INTERVAL_SECONDS."""
    return Swept(reconcile_once(ctx), sweep_once(ctx), sweep_campaigns(ctx), purge_console_sessions(ctx))


def purge_console_sessions(ctx: AppContext) -> int:
    """Delete console sessions ended longer ago than the settings keep them (identity.sessions.purge)."""
    kept = dt.timedelta(days=ctx.settings.console_sessions_kept_days)
    with ctx.db.transaction() as session:
        return sessions.purge(session, ctx.clock(), kept, sessions.Lifetime.of(ctx.settings))


def relay_round(ctx: AppContext, registry: HandlerRegistry) -> int:
    """Hand one batch of due events to their handlers; returns how many were taken."""
    settings = ctx.settings
    policy = RetryPolicy(
        settings.relay_max_attempts, settings.relay_backoff_seconds, settings.relay_backoff_max_seconds
    )
    return relay_once(ctx.db, registry, ctx.clock(), settings.relay_batch_size, policy)


def refresh_rates(ctx: AppContext) -> list[str]:
    """Add the rates loaded since the last look (by any process) to this process's book; the currencies
    whose newest rate is now older than the staleness limit (their new amounts are provisional)."""
    with ctx.db.transaction() as session:
        fx_rates.sync_book(session, ctx.fx.book)
        status = fx_rates.fx_status(session, ctx.fx, ctx.clock().date())
    return fx_rates.stale_currencies(status)


# --- the jobs in the background (the API's lifespan runs them) ----------------------------------------


def _reconcile_and_expire(ctx: OrderingContext) -> None:
    reconciled = reconcile_once(ctx)
    if reconciled.asked:
        log.info("sweeper: %s", reconciled)
    expired = sweep_once(ctx)
    if expired:
        log.info("sweeper: %d orders expired, their stock released", expired)


def _release_campaign_holds(ctx: OrderingContext) -> None:
    changed = sweep_campaigns(ctx)
    if changed:
        log.info("sweeper: %d flash orders, group teams or campaigns settled", changed)


def _purge_console_sessions(ctx: OrderingContext) -> None:
    purged = purge_console_sessions(ctx)
    if purged:
        log.info("sweeper: %d ended console sessions deleted", purged)


# each part of the round on its own: one failing must not stop the others' expiry
SWEEP_PARTS: tuple[Callable[[OrderingContext], None], ...] = (
    _reconcile_and_expire,
    _release_campaign_holds,
    _purge_console_sessions,
)


async def sweeper(ctx: OrderingContext) -> None:
    """`sweep_round` every ENTREPOT_SWEEPER_INTERVAL_SECONDS, on the thread pool."""
    while True:
        await asyncio.sleep(ctx.settings.sweeper_interval_seconds)
        for part in SWEEP_PARTS:
            try:
                await run_in_threadpool(part, ctx)
            except Exception:  # keep sweeping: one failed round must not stop expiry for good
                log.exception("sweeper round failed (%s)", part.__name__)


async def relay(ctx: AppContext, registry: HandlerRegistry) -> None:
    """Relay due events every ENTREPOT_RELAY_INTERVAL_SECONDS, at once again while batches come full."""
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


async def rates_refresher(ctx: AppContext) -> None:
    """`refresh_rates` every ENTREPOT_FX_REFRESH_SECONDS, keeping the stale currencies on the context."""
    while True:
        try:
            stale = await run_in_threadpool(refresh_rates, ctx)
            if stale != ctx.stale_currencies:
                log.warning("FX: rates older than %d days for %s", ctx.fx.max_staleness_days, stale or "none")
            ctx.stale_currencies = stale
        except Exception:  # keep refreshing: the database may not be there yet, or be back next round
            log.exception("FX rate refresh failed")
        await asyncio.sleep(ctx.settings.fx_refresh_seconds)


async def webhook_worker(ctx: AppContext) -> None:
    """Send due webhook deliveries (integrations.worker) until cancelled."""
    worker = webhooks.Worker(ctx.db, webhook_settings(ctx), ctx.clock)
    try:
        await worker.run()
    finally:
        await worker.close()


def background_jobs(ctx: OrderingContext, registry: HandlerRegistry) -> list[Coroutine[Any, Any, None]]:
    """The loops a serving process runs, as its settings ask (the sweeper and relay can be left to jobs
    of their own: `entrepot sweep`, `entrepot events relay`)."""
    jobs: list[Coroutine[Any, Any, None]] = []
    if ctx.settings.run_sweeper:
        jobs.append(sweeper(ctx))
    if ctx.settings.run_relay:
        jobs.append(relay(ctx, registry))
    jobs.append(rates_refresher(ctx))
    if webhook_settings(ctx).run_worker:
        jobs.append(webhook_worker(ctx))
    jobs.append(round_service.dispatch_rounds(ctx))  # returns at once when its interval is 0
    return jobs
