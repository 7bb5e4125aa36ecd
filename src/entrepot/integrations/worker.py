"""The delivery worker: takes due deliveries from the queue, sends them, records what happened.

How the queue is shared: a worker claims ENDPOINTS, not single deliveries. In one short transaction it
locks due subscriptions (FOR UPDATE SKIP LOCKED on PostgreSQL, so workers never wait on each other; SQLite
serialises writers), writes a lease on each (`leased_by` until `lease_until`) and reads up to a batch of
each one's due deliveries, oldest first; the HTTP happens after that transaction, holding no lock; a second
short transaction records the outcomes and ends the lease. One worker at a time sends to an endpoint, so
no delivery is sent twice at once, and an endpoint gets its messages in the order of their events, one
after the other.

Order, as far as it goes: a delivery that fails waits for its retry while newer ones go on at their next
claim (the spec promises no order, and holding an endpoint's whole queue behind one bad message for a day
is worse), though the rest of the batch it failed in waits with it (the endpoint is likely down, and this
keeps their order among themselves). Receivers that care order by the event's timestamp in the body.

At least once: a worker that dies mid-batch has sent some deliveries and recorded none; after its lease
ends another worker sends them again, with the same webhook-id, which is how receivers drop duplicates.

An endpoint with a backlog stays with its worker, up to MAX_BATCHES_IN_A_ROW: while a batch is being
sent, one transaction records the batch before it and reads the one after it, renewing the lease
(`carry_on`); the batch read goes out once the one being sent has all gone through (after a failure, a
stop or a lost lease it is left as it was, pending). Why: sending is one request after the other, so an
endpoint's rate is one over the time a request and the gaps between batches take; a record, a release
and a fresh claim were two transactions in that gap each batch (a claim scans every subscription), and
on a busy machine each costs tens of milliseconds (the endpoints spent 0.8 of their time sending, now
0.97).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from prometheus_client import Counter
from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from entrepot.integrations import domain
from entrepot.integrations.models import WebhookDelivery, WebhookSubscription
from entrepot.integrations.settings import WebhookSettings
from entrepot.kernel.clock import Clock
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.ids import new_id
from entrepot.platform.db import Database, dialect_of, in_list, record_event, table_of
from entrepot.platform.metrics import count_on_commit

log = logging.getLogger("entrepot.integrations.worker")
EXCERPT_BYTES = 2048  # of a response body, read for the delivery log
# batches sent to one endpoint before it is given back (others wait for a free slot meanwhile)
MAX_BATCHES_IN_A_ROW = 20
_S, _D = WebhookSubscription, WebhookDelivery
DELIVERIES = Counter(
    "entrepot_webhook_deliveries",
    "Webhook delivery attempts recorded, by outcome: delivered, retried (failed, to be sent again), failed"
    " (given up on), deferred (not sent: its batch stopped at a failure or ran out of time)",
    ["outcome"],
)
ENDPOINTS_DISABLED = Counter(
    "entrepot_webhook_endpoints_disabled", "Subscriptions disabled after failing for too long", ["reason"]
)


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    message_id: str
    body: str
    attempts: int
    request_id: str | None = None


@dataclass(frozen=True)
class Claim:
    """An endpoint this worker holds, and the deliveries it is to send now, oldest first."""

    subscription_id: int
    public_id: str
    url: str
    secrets: tuple[str, ...]
    deliveries: tuple[Outgoing, ...]


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    sent: bool  # False: not tried (the batch stopped before it)
    status_code: int | None = None
    elapsed_ms: int | None = None
    excerpt: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and domain.succeeded(self.status_code)


def _due(now: dt.datetime) -> object:
    return and_(_D.status == "pending", or_(_D.next_attempt_at.is_(None), _D.next_attempt_at <= now))


def claim(
    session: Session, worker: str, now: dt.datetime, settings: WebhookSettings, endpoints: int
) -> list[Claim]:
    """Lease up to `endpoints` subscriptions with due deliveries and read their next batch each."""
    free = or_(_S.lease_until.is_(None), _S.lease_until <= now)
    has_due = exists().where(_D.subscription_id == _S.id, _due(now))  # type: ignore[arg-type]
    ids = list(
        session.scalars(
            select(_S.id)
            .where(_S.status == "active", free, has_due)
            .order_by(_S.lease_until.is_not(None), _S.lease_until, _S.id)
            .limit(endpoints)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    session.execute(
        update(_S)
        .where(in_list(session, _S.id, ids))
        .values(lease_until=now + settings.lease, leased_by=worker)
    )
    subs = {s.id: s for s in session.scalars(select(_S).where(in_list(session, _S.id, ids)))}
    return [_claim_of(subs[i], _next_batch(session, i, now, settings.batch_per_endpoint), now) for i in ids]


def _next_batch(
    session: Session, subscription_id: int, now: dt.datetime, limit: int, after: int | None = None
) -> list[Outgoing]:
    query = select(_D.id, _D.message_id, _D.body, _D.attempts, _D.request_id).where(
        _D.subscription_id == subscription_id,
        _due(now),  # type: ignore[arg-type]
    )
    if after is not None:  # past a batch still being sent
        query = query.where(_D.id > after)
    rows = session.execute(query.order_by(_D.id).limit(limit))
    return [Outgoing(*row) for row in rows]


def _claim_of(sub: WebhookSubscription, deliveries: list[Outgoing], now: dt.datetime) -> Claim:
    secrets = domain.live_secrets(sub.secret, sub.previous_secret, sub.previous_secret_until, now)
    return Claim(sub.id, sub.public_id, sub.url, tuple(secrets), tuple(deliveries))


# --- sending ----------------------------------------------------------------------------------------


class Sender:
    """Sends one endpoint's batch, one request after the other, stopping at the first failure."""

    def __init__(self, client: aiohttp.ClientSession, settings: WebhookSettings, clock: Clock) -> None:
        self.client, self.settings, self.clock = client, settings, clock

    async def send_batch(self, claim: Claim) -> list[Outcome]:
        """`in_flight_per_endpoint` requests at a time (one by default: in order), stopping after a window
        with a failure; the rest are left untried."""
        items = claim.deliveries
        refused = None if self.settings.allow_private or not items else await _refused_target(claim.url)
        if refused is not None:
            return [Outcome(items[0].delivery_id, True, error=refused), *_untried(items[1:])]
        outcomes: list[Outcome] = []
        started, window, failed = time.monotonic(), self.settings.in_flight_per_endpoint, False
        for at in range(0, len(items), window):
            chunk = items[at : at + window]
            # past half the lease, give the rest back: another worker may take the endpoint after it
            if failed or time.monotonic() - started > self.settings.lease_seconds / 2:
                outcomes += _untried(chunk)
                continue
            sent = await asyncio.gather(*(self.send(claim, item) for item in chunk))
            failed = not all(o.ok for o in sent)
            outcomes += sent
        return outcomes

    async def send(self, claim: Claim, item: Outgoing) -> Outcome:
        body = item.body.encode()
        headers = domain.headers(claim.secrets, item.message_id, self.clock(), body, item.request_id)
        began = time.perf_counter()
        try:
            async with self.client.post(
                claim.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                opening = await response.content.read(EXCERPT_BYTES)  # never more: a body may be huge
        except (aiohttp.ClientError, TimeoutError) as exc:
            elapsed = int((time.perf_counter() - began) * 1000)
            error = f"{type(exc).__name__}: {exc}"[:500]
            return Outcome(item.delivery_id, True, None, elapsed, None, error)
        elapsed = int((time.perf_counter() - began) * 1000)
        text = domain.excerpt(opening.decode(errors="replace"))
        return Outcome(item.delivery_id, True, response.status, elapsed, text)


def _untried(items: Sequence[Outgoing]) -> list[Outcome]:
    return [Outcome(item.delivery_id, sent=False) for item in items]


async def _refused_target(url: str) -> str | None:
    """Why the URL's host may not be called now (it resolves to an internal address), else None. Checked
    at each claim as well as when subscribing, as a name can be pointed elsewhere later (a name that
    resolves between this check and the connection can still slip by: the firewall is the last word)."""
    host = urlsplit(url).hostname or ""
    problem = domain.private_host_problem(host)
    if problem is not None:
        return problem
    try:
        ipaddress.ip_address(host)
        return None  # a literal address, checked above
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    for info in infos:
        reason = domain.internal_address_problem(ipaddress.ip_address(info[4][0]))
        if reason is not None:
            return f"{host} resolves to {reason}"
    return None


# --- recording --------------------------------------------------------------------------------------


@dataclass
class Recorded:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)


Sent = tuple[Claim, list[Outcome]]  # a batch and what became of each of its deliveries
Stepped = tuple[Recorded, Claim | None]  # a batch recorded, and the endpoint's next one if read


def record(
    session: Session,
    worker: str,
    claim: Claim,
    outcomes: Sequence[Outcome],
    now: dt.datetime,
    settings: WebhookSettings,
    rng: random.Random,
    keep_lease: bool = False,
) -> Recorded:
    """Write the outcomes of one endpoint's batch, judge the endpoint, and end this worker's lease. A batch
    is its successes, then the failures of the window that stopped it (one, when one request is in flight
    at a time), then the deliveries left untried: the successes in one statement, the untried due when the
    last failure's retry is (or at once, when the batch ran out of time). With `keep_lease`, the lease
    is left for `carry_on` to renew or end in the same transaction."""
    done = Recorded()
    delivered = [o for o in outcomes if o.sent and o.ok]
    if delivered:
        done.delivered = _mark_delivered(session, [_delivered_row(o, now) for o in delivered])
    retry_at = None
    for outcome in outcomes:
        if outcome.sent and not outcome.ok:
            retry_at = _record_failure(session, outcome, now, settings.schedule(), rng, done)
    untried = [{"b_id": o.delivery_id, "b_retry": retry_at} for o in outcomes if not o.sent]
    if untried:
        session.execute(_DEFER, untried)
    _judge_endpoint(session, worker, claim, outcomes, now, settings, done, keep_lease)
    _count_outcomes(session, done, deferred=len(untried))
    return done


def _count_outcomes(session: Session, done: Recorded, deferred: int) -> None:
    """The batch's outcomes for the metrics, counted once its transaction commits (a record rolled back
    was never recorded, and the deliveries will be sent again)."""
    for outcome, amount in (
        ("delivered", done.delivered),
        ("retried", done.retried),
        ("failed", done.failed),
        ("deferred", deferred),
    ):
        if amount:
            count_on_commit(session, DELIVERIES, outcome, amount)
    if done.disabled:
        count_on_commit(session, ENDPOINTS_DISABLED, "failing", len(done.disabled))


def carry_on(
    session: Session,
    worker: str,
    claim: Claim,
    now: dt.datetime,
    settings: WebhookSettings,
    after: int | None = None,
) -> Claim | None:
    """In a transaction holding the endpoint (after `record(..., keep_lease=True)` of a clean batch, or
    beside a batch still being sent, whose last id is `after`): the endpoint's next batch, the lease
    renewed; None when the lease is another worker's now (this one's ran out), or nothing more is due,
    and then, unless a batch is still out, the lease ends. The row is locked and read again first."""
    session.flush()  # record's changes to the row, before it is read again under its lock
    sub = session.get(_S, claim.subscription_id, with_for_update=True, populate_existing=True)
    if sub is None or sub.leased_by != worker:
        return None
    active = sub.status == "active"
    batch = _next_batch(session, sub.id, now, settings.batch_per_endpoint, after) if active else []
    if batch or after is not None:
        sub.lease_until = now + settings.lease
    else:
        sub.lease_until, sub.leased_by = None, None
    return _claim_of(sub, batch, now) if batch else None


_TABLE = table_of(WebhookDelivery)
# executemany: one round trip for a batch; `status = 'pending'` so that a delivery another worker recorded
# meanwhile (after this one's lease ran out) is not counted twice
_MARK_DELIVERED = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.status == "pending")
    .values(
        status="delivered",
        attempts=_TABLE.c.attempts + 1,
        last_attempt_at=bindparam("b_now"),
        delivered_at=bindparam("b_now"),
        next_attempt_at=None,
        response_status=bindparam("b_status"),
        response_ms=bindparam("b_ms"),
        response_excerpt=bindparam("b_excerpt"),
        last_error=None,
    )
)
_DEFER = update(_TABLE).where(_TABLE.c.id == bindparam("b_id")).values(next_attempt_at=bindparam("b_retry"))
# PostgreSQL: a batch's successes in ONE statement, the rows as a JSON document (an executemany is a
# statement per row there: 100 round trips' worth of work in the pipeline for a batch of 100)
_MARK_DELIVERED_PG = text(
    "UPDATE webhook_deliveries AS d SET status = 'delivered', attempts = d.attempts + 1,"
    " last_attempt_at = CAST(:b_now AS timestamptz), delivered_at = CAST(:b_now AS timestamptz),"
    " next_attempt_at = NULL, response_status = r.b_status, response_ms = r.b_ms,"
    " response_excerpt = r.b_excerpt, last_error = NULL"
    " FROM jsonb_to_recordset(CAST(:b_rows AS jsonb))"
    " AS r(b_id bigint, b_status int, b_ms int, b_excerpt text)"
    " WHERE d.id = r.b_id AND d.status = 'pending'"
)


def _mark_delivered(session: Session, rows: list[dict[str, Any]]) -> int:
    """Mark these deliveries delivered (those still pending); how many were."""
    if dialect_of(session) == "postgresql":
        document = json.dumps([{k: v for k, v in row.items() if k != "b_now"} for row in rows])
        params = {"b_now": rows[0]["b_now"], "b_rows": document}
        return int(session.execute(_MARK_DELIVERED_PG, params).rowcount)  # type: ignore[attr-defined]
    return int(session.execute(_MARK_DELIVERED, rows).rowcount)  # type: ignore[attr-defined]


def _delivered_row(outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
    return {
        "b_id": outcome.delivery_id,
        "b_now": now,
        "b_status": outcome.status_code,
        "b_ms": outcome.elapsed_ms,
        "b_excerpt": outcome.excerpt,
    }


def _record_failure(
    session: Session,
    outcome: Outcome,
    now: dt.datetime,
    schedule: domain.RetrySchedule,
    rng: random.Random,
    done: Recorded,
) -> dt.datetime | None:
    """A failed attempt: retried after the backoff, or failed for good; the retry's time, if any."""
    row = session.get(_D, outcome.delivery_id)
    if row is None or row.status != "pending":  # deleted, or recorded by another worker after a lost lease
        return None
    row.attempts += 1
    row.last_attempt_at, row.response_status, row.response_ms = now, outcome.status_code, outcome.elapsed_ms
    row.response_excerpt, row.last_error = outcome.excerpt, outcome.error or f"HTTP {outcome.status_code}"
    if schedule.gives_up(row.attempts):
        row.status, row.next_attempt_at = "failed", None
        done.failed += 1
        return None
    row.next_attempt_at = now + schedule.delay(row.attempts, rng)
    done.retried += 1
    return row.next_attempt_at


def _judge_endpoint(
    session: Session,
    worker: str,
    claim: Claim,
    outcomes: Sequence[Outcome],
    now: dt.datetime,
    settings: WebhookSettings,
    done: Recorded,
    keep_lease: bool = False,
) -> None:
    sub = session.get(_S, claim.subscription_id)
    if sub is None:
        return
    tried = [o for o in outcomes if o.sent]
    if any(o.ok for o in tried):
        sub.failing_since, sub.consecutive_failures = None, 0
    if tried and not tried[-1].ok:
        sub.failing_since = sub.failing_since or now
        sub.consecutive_failures += 1
        if _gives_up_on(sub, now, settings):
            _disable(session, sub, now)
            done.disabled.append(sub.public_id)
    if sub.leased_by == worker and not keep_lease:
        sub.lease_until, sub.leased_by = None, None


def _gives_up_on(sub: WebhookSubscription, now: dt.datetime, settings: WebhookSettings) -> bool:
    long_enough = sub.failing_since is not None and now - sub.failing_since >= settings.disable_after
    return (
        sub.status == "active" and long_enough and sub.consecutive_failures >= settings.disable_after_failures
    )


def _disable(session: Session, sub: WebhookSubscription, now: dt.datetime) -> None:
    """Stop sending to an endpoint that has failed every attempt for too long, and say so: the notice is
    an event (operators can subscribe to it elsewhere) and the subscription shows why."""
    since = sub.failing_since.isoformat() if sub.failing_since else now.isoformat()
    sub.status, sub.disabled_at, sub.updated_at = "disabled", now, now
    sub.disabled_reason = f"every attempt failed since {since} ({sub.consecutive_failures} in a row)"
    payload = {"url": sub.url, "failing_since": since, "failures": sub.consecutive_failures}
    if sub.seller_id is not None:
        payload["seller_id"] = sub.seller_id
    record_event(session, DomainEvent(domain.NOTICE_DISABLED, sub.public_id, payload), now)
    log.warning("webhooks: %s disabled: %s", sub.public_id, sub.disabled_reason)


# --- the worker ------------------------------------------------------------------------------------


class Worker:
    """Claims endpoints, sends their batches concurrently (one task per endpoint), records each batch as
    it finishes: a slow endpoint holds only its own task, never the others'. In `run`, a task keeps its
    endpoint for its next batches while they go through (see the module's note)."""

    def __init__(
        self,
        db: Database,
        settings: WebhookSettings,
        clock: Clock,
        client: aiohttp.ClientSession | None = None,
        rng: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.name = name or new_id("whwrk")
        self.rng = rng or random.Random()
        self.client = client or new_client(settings)
        self.sender = Sender(self.client, settings, clock)
        self.totals = Recorded()

    async def run_once(self) -> int:
        """Claim what is due, send it all, record it all; the deliveries attempted (for tests and the CLI)."""
        claims = await asyncio.to_thread(self._claim, self.settings.concurrency)
        results = await asyncio.gather(*(self._send_and_record(c) for c in claims))
        return sum(results)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until `stop` is set (or the task is cancelled): claim as many endpoints as there is room
        for, then wait until one finishes, `stop` is set or `poll_seconds` pass, and claim again."""
        stopping = asyncio.ensure_future((stop or asyncio.Event()).wait())
        in_flight: set[asyncio.Future[Any]] = set()

        def going_on() -> bool:  # asked before an endpoint's next batch: once stopping, none
            return not stopping.done()

        try:
            while not stopping.done():
                free = self.settings.concurrency - len(in_flight)
                claims = await self._claim_safely(free) if free > 0 else []
                in_flight |= {asyncio.ensure_future(self._send_and_record(c, going_on)) for c in claims}
                await asyncio.wait(
                    {stopping, *in_flight},
                    timeout=self.settings.poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                in_flight = {task for task in in_flight if not task.done()}
            await asyncio.gather(*in_flight)  # stopped: finish and record the batches in hand
        finally:  # cancelled: batches in hand are sent again once their lease ends
            stopping.cancel()
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def close(self) -> None:
        await self.client.close()

    async def _claim_safely(self, endpoints: int) -> list[Claim]:
        try:
            return await asyncio.to_thread(self._claim, endpoints)
        except Exception:  # the database may be back next round
            log.exception("webhooks: claiming deliveries failed")
            await asyncio.sleep(self.settings.poll_seconds)
            return []

    def _claim(self, endpoints: int) -> list[Claim]:
        with self.db.transaction() as session:
            return claim(session, self.name, self.clock(), self.settings, endpoints)

    async def _send_and_record(self, claim_: Claim, going_on: Callable[[], bool] | None = None) -> int:
        """Send a batch and record it; the deliveries attempted. While `going_on` says so, the endpoint's
        next batches follow, each read beside the sending of the one before (in the transaction that
        records the one before that), so the endpoint waits for no transaction between batches; a batch
        goes out only once the one before has all gone through, so the order holds."""
        attempted, batch, before = 0, claim_, None
        for round_ in range(MAX_BATCHES_IN_A_ROW):
            ahead = self._beside(before, batch) if going_on is not None else None
            outcomes = await self.sender.send_batch(batch)
            attempted += sum(1 for o in outcomes if o.sent)
            stepped, following = await self._settled(ahead)
            clean = bool(outcomes) and all(o.sent and o.ok for o in outcomes)
            more = going_on is not None and going_on() and clean and round_ < MAX_BATCHES_IN_A_ROW - 1
            if more and stepped and following is None:  # none was due beside it: look again on recording
                _, following = await self._settled(self._in_thread((batch, outcomes), batch, True, None))
                if following is None:
                    return attempted
                batch, before = following, None
                continue
            if not more or following is None:
                await self._settled(self._in_thread((batch, outcomes), batch, False, None))
                return attempted
            batch, before = following, (batch, outcomes)
        return attempted

    def _beside(self, before: Sent | None, batch: Claim) -> asyncio.Future[Stepped] | None:
        """Beside `batch`'s sending: record the batch before it, and read the one after it."""
        if not batch.deliveries:
            return None
        return self._in_thread(before, batch, True, batch.deliveries[-1].delivery_id)

    def _in_thread(
        self, sent: Sent | None, holding: Claim, keep: bool, after: int | None
    ) -> asyncio.Future[Stepped]:
        return asyncio.ensure_future(asyncio.to_thread(self._step, sent, holding, keep, after))

    async def _settled(self, step: asyncio.Future[Stepped] | None) -> tuple[bool, Claim | None]:
        """Whether the step (if any) went through, and the next batch it read. A batch a failed step did
        not record is sent again once the lease runs out (at least once): the endpoint is not carried on."""
        if step is None:
            return True, None
        try:
            done, following = await step
        except Exception:
            log.exception("webhooks: recording deliveries or reading the next failed")
            return False, None
        self._count(done)
        return True, following

    def _count(self, done: Recorded) -> None:
        self.totals.delivered += done.delivered
        self.totals.retried += done.retried
        self.totals.failed += done.failed
        self.totals.disabled += done.disabled

    def _step(self, sent: Sent | None, holding: Claim, keep: bool, after: int | None) -> Stepped:
        """One transaction: record a batch sent (if any); with `keep`, read the endpoint's next batch and
        renew the lease (see carry_on), else the lease ends with the record."""
        with self.db.transaction() as session:
            now = self.clock()
            done = Recorded()
            if sent is not None:
                claim_, outcomes = sent
                done = record(session, self.name, claim_, outcomes, now, self.settings, self.rng, keep)
            following = carry_on(session, self.name, holding, now, self.settings, after) if keep else None
            return done, following


def new_client(settings: WebhookSettings) -> aiohttp.ClientSession:
    """aiohttp rather than httpx: on this machine httpx's async path cost about five times as much per
    request (its httpcore tries to import sniffio, absent, on every request). Redirects are not followed
    (a 3xx is a failure: a redirect could lead inside the network); no proxy from the environment."""
    timeout = aiohttp.ClientTimeout(
        total=settings.timeout_seconds, connect=min(5.0, settings.timeout_seconds)
    )
    connector = aiohttp.TCPConnector(limit=settings.concurrency * 2, ttl_dns_cache=60)
    return aiohttp.ClientSession(timeout=timeout, connector=connector, trust_env=False, auto_decompress=False)


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(_D).where(_D.status == "pending")) or 0)
