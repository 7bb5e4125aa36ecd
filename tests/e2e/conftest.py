"""What the browser tests share: the system's Chromium (never downloaded), a module's browser, and a
server in this process on a free port.

Without Chromium or Playwright a browser test is skipped with the reason, unless
ENTREPOT_REQUIRE_BROWSER=1 (CI, which installs Chromium with apt-get), where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

REQUIRE_BROWSER = os.environ.get("ENTREPOT_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("ENTREPOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (ENTREPOT_REQUIRE_BROWSER=1: the browser tests must run)")
    pytest.skip(reason)


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn (its lifespan on) in a thread of this process, on a free port of 127.0.0.1;
    yields its base URL and stops it on leaving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"Playwright is not installed ({exc}); `pip install -e '.[dev]'`")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (`apt-get install chromium`, or set ENTREPOT_CHROMIUM)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()
