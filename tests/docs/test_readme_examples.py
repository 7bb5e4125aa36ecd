"""The README's tour and the seller's guide, run as written: every fenced ```bash block marked
`<!-- runnable -->` runs, in order, in one bash session (so variables carry over), in a scratch folder
with a throwaway SQLite database, against the server the tour itself starts. The port is swapped for a
free one, so a demo on :8000 is left alone; the whole session is bounded in time and killed at the end."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- runnable -->"
BLOCK = re.compile(re.escape(MARKER) + r"\s*\n```bash\n(.*?)\n```", re.DOTALL)
TIMEOUT_S = 240  # a bound, not a measurement: the tour takes seconds


def runnable_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_blocks(blocks: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    port = _free_port()
    script = "set -euo pipefail\n" + "\n".join(blocks).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    script = script.replace("--port 8000", f"--port {port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTREPOT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the server it starts goes with it
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"the examples did not finish within {TIMEOUT_S} s:\n{out}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the script left running
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


@pytest.mark.slow  # 20-30 s a page: every command is a process of its own
@pytest.mark.parametrize("doc", ["README.md", "docs/guides/seller.md"])
def test_runnable_examples_run_as_written(doc: str, tmp_path: Path) -> None:
    blocks = runnable_blocks(ROOT / doc)
    assert len(blocks) >= 4, f"{doc}: expected the tour's runnable blocks, found {len(blocks)}"
    result = run_blocks(blocks, tmp_path)
    log = (tmp_path / "api.log").read_text() if (tmp_path / "api.log").exists() else ""
    failed = f"{doc} failed (exit {result.returncode}):\n{result.stdout}\n--- api.log\n{log}"
    assert result.returncode == 0, failed
    # the tour waits for the order to be paid, so getting here means it was; then it is refunded S$5
    assert '"amount_minor":500' in result.stdout, result.stdout
    assert "corner-shop" in result.stdout  # the GMV report names the marketplace that sold


def test_every_bash_block_is_marked() -> None:
    """A ```bash block in the tour or the seller's guide is run; anything shown but not run is ```sh."""
    for doc in ("README.md", "docs/guides/seller.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert text.count("```bash") == len(runnable_blocks(ROOT / doc)), doc
