"""A PostgreSQL cluster of a test's own (initdb and pg_ctl in a temporary folder, on a free port), for
the tests that stop, restart or restore a database: the machine's shared server is never touched.

PostgreSQL refuses to run as root, so where the tests run as root (CI's containers) its programs run as
the `postgres` user, which owns the folder. Without initdb, or without a way to run it, the test is
skipped with the reason, unless ENTREPOT_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REQUIRE_PG = os.environ.get("ENTREPOT_REQUIRE_POSTGRES") == "1"
DATABASE = "entrepot"


def _bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # Debian links some of them into /usr/local/bin
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _unavailable(reason: str) -> None:
    if REQUIRE_PG:
        pytest.fail(f"{reason} (ENTREPOT_REQUIRE_POSTGRES=1: the database restart tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    """One throwaway cluster: `url` names its database; `stop`, `start` and `restart` it at will."""

    def __init__(self, folder: Path, bin_dir: Path, run_as: str | None) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.bin = bin_dir
        self.run_as = run_as
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def create(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self.start()
        admin = create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()

    def start(self) -> None:
        # -w: return once it accepts connections; the socket folder is ours, not /var/run/postgresql
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or an operator's fast shutdown would: open connections are cut."""
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new cluster with an empty database `entrepot`, stopped and removed on leaving. Its folder is
    made under the system's temporary folder, not pytest's (that one is closed to other users)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("no initdb on PATH nor under /usr/lib/postgresql (install PostgreSQL's server programs)")
        raise AssertionError("unreachable")
    with tempfile.TemporaryDirectory(prefix="entrepot-pg-") as folder:
        yield from _run_cluster(Path(folder), bin_dir)


def _run_cluster(tmp: Path, bin_dir: Path) -> Iterator[Cluster]:
    run_as = None
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no `postgres` user to run PostgreSQL as")
            raise AssertionError("unreachable") from None
        os.chown(tmp, user.pw_uid, user.pw_gid)
        run_as = "postgres"
    cluster = Cluster(tmp, bin_dir, run_as)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "stop", check=False)
