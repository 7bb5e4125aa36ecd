"""Shared fixtures: a database on SQLite and on PostgreSQL, the app, and a small seeded world.

PostgreSQL tests use ENTREPOT_TEST_POSTGRES_URL (default: the local server, database `test`) and create
a database of their own for the session. Without a server they are skipped with the reason, unless
ENTREPOT_REQUIRE_POSTGRES=1 (CI), where they fail.

Under pytest-xdist (make test: `-n 2 --dist loadgroup`) each worker is a session of its
own: its own PostgreSQL database (named after the worker) and its own migrated SQLite template. Tests
that must share a process (a module's server, the Spark session) say so with `pytest.mark.xdist_group`.

Markers: `postgres` (above), `slow` (seconds each: servers, races, Spark, the demo; `make test-fast`
leaves them out) and `spark` (the spark extra, which make test installs: without it they fail).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.errors import DeadlockDetected, ForeignKeyViolation
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from entrepot import GC_THRESHOLDS
from entrepot.identity import service as identity_service
from entrepot.logistics.service import forget_network
from entrepot.ordering import api as ordering_api
from entrepot.ordering import fast as ordering_fast
from entrepot.ordering.payments import WebhookDelivery
from entrepot.platform.db import Database
from entrepot.platform.settings import get_settings
from entrepot.schema import metadata, upgrade
from tests.world import WORLDS, World

PG_URL = os.environ.get("ENTREPOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ENTREPOT_REQUIRE_POSTGRES") == "1"
# One test process starts hundreds of apps: none of them may freeze the collector for the rest
# (test_gc_settling.py turns it on where it is the subject).
os.environ.setdefault("ENTREPOT_GC_FREEZE_AT_START", "false")
# the planner's bounds at start would be written under the working folder's var/routes by every server a
# test starts; tests/integration/test_network_cache.py calls it with a folder of its own
os.environ.setdefault("ENTREPOT_ROUTES_PRECOMPUTE_AT_START", "false")
# Tests sign webhooks with the development secret on throwaway databases: not production.
os.environ.setdefault("ENTREPOT_ENV", "test")
# The servers the tests start (in process and as uvicorn processes) take requests as fast as their clients
# send them, from a few keys: not limited (platform.ratelimit). tests/api/test_rate_limits.py switches it on.
os.environ.setdefault("ENTREPOT_RATE_LIMITS", "false")
# The tests' output is never a terminal's, whatever the shell says: no width inherited from it (pytest-xdist's
# workers are given COLUMNS=80), so the CLI prints as it does when piped.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
# No test reads the checkout's own reporting snapshot (var/snapshot, which `make demo` writes), nor one
# another test wrote: each test is given a folder of its own that does not exist (_no_snapshot_but_its_own).
_NO_SNAPSHOTS = Path(tempfile.mkdtemp(prefix="entrepot-no-snapshot-"))
os.environ.setdefault("ENTREPOT_REPORTING_SNAPSHOT_DIR", str(_NO_SNAPSHOTS / "none"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: seconds each (servers, races, Spark, the demo); make test-fast skips"
    )
    config.addinivalue_line(
        "markers", "spark: needs the spark extra (make test installs it); fails without it"
    )
    # pytest-xdist registers it; named here too so that a run without xdist (-p no:xdist) accepts it
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one worker process")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Settle the garbage collector once, as the API does once started: what collection loaded (Entrepot,
    its libraries, the test modules and items, all alive until the session ends) frozen out of its
    sight, and young objects collected less often. Over tests/api in two workers, each worker spent
    25-34 s of its 160-167 s of CPU in the collector (full collections of up to 1.9 s); settled, 11-12.5
    s of 127-130 s. Unlike the apps' own settling at start (off here, see above), this happens once."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server here
        return f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string(hide_password=True)}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the server for this test session (each xdist worker's own), dropped at the end."""
    reason = _postgres_unavailable()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"{reason} (ENTREPOT_REQUIRE_POSTGRES=1: PostgreSQL tests must run)")
        pytest.skip(reason)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under pytest-xdist
    name = f"entrepot_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy of the migrated file."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


# Children before parents, so that deleting table by table never breaks a foreign key.
_TABLES = list(reversed(metadata.sorted_tables))
_TABLES_WITH_ROWS = text(
    " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in _TABLES)
)
_RESTART_SEQUENCES = text("SELECT setval(c.oid::regclass, 1, false) FROM pg_class c WHERE c.relkind = 'S'")


def _empty_postgres(db: Database, attempts: int = 5) -> None:
    """Empty every table and restart the ids at 1, as a new database would have them.

    DELETE on the tables that have rows, not TRUNCATE: a test leaves a few dozen rows, and TRUNCATE
    makes new files for every table and index (0.3-1 s against 0.03-0.04 s on this machine).
    It also takes no exclusive lock, so a reader still finishing from the test before (a server's worker,
    a background round) cannot deadlock with it. A writer still can, or can add a row between the
    deletes of a child table and its parent (seen once, at the setup of test_concurrency's first test,
    whose module-scoped server was already running: an order line written meanwhile, and the DELETE of
    reservations broke its foreign key): then it is simply run again."""
    for attempt in range(1, attempts + 1):
        try:
            with db.engine.begin() as conn:
                with_rows = set(conn.execute(_TABLES_WITH_ROWS).scalars())
                for table in _TABLES:
                    if table.name in with_rows:
                        conn.execute(table.delete())
                conn.execute(_RESTART_SEQUENCES)
            return
        except (OperationalError, IntegrityError) as error:
            if not isinstance(error.orig, DeadlockDetected | ForeignKeyViolation) or attempt == attempts:
                raise


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "entrepot.platform.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("postgres_url"), pool_size=20)
        _empty_postgres(db)
    yield db
    db.dispose()


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[Database]:
    db = Database(postgres_url, pool_size=40)
    _empty_postgres(db)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _no_network_left_over() -> Iterator[None]:
    """The logistics network and planned routes are cached per process (by database URL, checked every
    few seconds): a test must not see the network of the test before it on a truncated database."""
    yield
    forget_network()
    # every test's world has the same keys (tests.world.Worlds): none passes as verified by the test before
    identity_service.forget_verified_keys()


@pytest.fixture(autouse=True)
def _no_snapshot_but_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that writes a reporting snapshot without saying where (the demo's seeding, a refresh) writes
    it where no other test looks: run in another order, a demo test left one that a later test's
    GET /reports/targets read (5 statements instead of 3). Set before the test's own fixtures run."""
    monkeypatch.setenv("ENTREPOT_REPORTING_SNAPSHOT_DIR", str(_NO_SNAPSHOTS / uuid.uuid4().hex))
    get_settings.cache_clear()


@pytest.fixture
def world(database: Database) -> World:
    return WORLDS.world_on(database)


@pytest.fixture
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test's requests leave no error in the log: bad input is answered with a 4xx and logs no error,
    no traceback, and so none of the request's data (NUL bytes, long strings, bound SQL parameters)."""
    with caplog.at_level(logging.INFO):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


def intercept_webhooks(monkeypatch: pytest.MonkeyPatch, acknowledged: bool) -> list[WebhookDelivery]:
    """The provider's webhooks, kept instead of delivered in-process; the provider is told each was
    acknowledged (the test delivers them when it likes) or not (lost, as to a server that died)."""
    deliveries: list[WebhookDelivery] = []

    async def intercept(_ctx: object, delivery: WebhookDelivery) -> bool:
        deliveries.append(delivery)
        return acknowledged

    monkeypatch.setattr(ordering_api, "deliver_in_process", intercept)
    monkeypatch.setattr(ordering_fast, "deliver_in_process", intercept)  # POST /orders' fast path too
    return deliveries


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[WebhookDelivery]:
    """Webhooks held and acknowledged, for the test to deliver when and as it likes."""
    return intercept_webhooks(monkeypatch, acknowledged=True)
