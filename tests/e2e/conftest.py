"""What the browser tests share: the system's Chromium (never downloaded), a module's browser, and a
server in this process on a free port (tests.serving).

Without Chromium or Playwright a browser test is skipped with the reason, unless
ENTREPOT_REQUIRE_BROWSER=1 (CI, which installs Chromium with apt-get), where it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.serving import served

# served: the browser tests' server, still importable from here
__all__ = ["CHROMIUM", "served", "unavailable"]

REQUIRE_BROWSER = os.environ.get("ENTREPOT_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("ENTREPOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (ENTREPOT_REQUIRE_BROWSER=1: the browser tests must run)")
    pytest.skip(reason)


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
