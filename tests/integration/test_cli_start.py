"""`entrepot --help` starts fast: the command's module loads Typer and Rich, and the commands import
what they need when they run. Measured on this machine (`entrepot --help`, 2026-12): 2.2 s before the
heavy imports moved into the commands, about 0.3 s after. No timing is asserted (a loaded machine
varies); what makes it slow is: none of these modules is imported before a command needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "pyarrow",
    "ibis",
    "duckdb",
    "numba",
    "numpy",
    "pandas",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "entrepot.schema",
    "entrepot.platform.db",
    "entrepot.platform.settings",
)
PROBE = """
import json, sys
sys.argv = ["entrepot", *{args!r}]
from entrepot.cli.main import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)), file=sys.stderr)
"""


def _loaded(*args: str, env: dict[str, str] | None = None) -> list[str]:
    probe = PROBE.format(args=list(args), heavy=(*HEAVY, "pydantic"))
    environment = {**os.environ, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=environment
    )
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_help_loads_none_of_the_heavy_modules() -> None:
    assert _loaded("--help") == []
    # a sub-command's help: Typer itself loads pydantic to describe the options, nothing else
    assert set(_loaded("report", "--help")) <= {"pydantic"}
    assert set(_loaded("logistics", "route", "--help")) <= {"pydantic"}
    assert set(_loaded("emissions", "report", "--help")) <= {"pydantic"}


def test_a_command_loads_what_it_needs_when_it_runs(tmp_path: Path) -> None:
    """The probe sees the imports a command makes: `db upgrade` runs Alembic on SQLAlchemy."""
    loaded = _loaded("db", "upgrade", env={"ENTREPOT_DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}"})
    assert {"sqlalchemy", "alembic", "entrepot.schema"} <= set(loaded)
