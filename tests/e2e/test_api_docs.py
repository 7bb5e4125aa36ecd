"""The interactive API docs, opened in a real browser: Debian's Chromium, driven by Playwright.

A server runs in this process (uvicorn on a free port of 127.0.0.1, a migrated SQLite file); the browser
opens /docs as a person would and the test reads the page Swagger UI rendered: one operation block per
operation of /openapi.json, no "Unable to render this definition", nothing refused by the page's content
security policy and nothing asked of any other host.

The browser is the system's (`/usr/bin/chromium`, or ENTREPOT_CHROMIUM); nothing downloads one (never
`playwright install`). Without it the test is skipped with the reason, unless
ENTREPOT_REQUIRE_BROWSER=1 (CI, which installs Chromium with apt-get), where it fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from entrepot.api.app import create_app
from entrepot.platform.settings import Settings
from tests.e2e.conftest import served

pytestmark = pytest.mark.slow  # a server and a browser: seconds
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
RENDER_TIMEOUT_MS = 60_000  # the bundle parses a 1.7 MB script and the document on a shared 2-core machine


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """A real server on a free port, in a thread of this process, stopped at the end of the module."""
    path = tmp_path_factory.mktemp("docs") / "entrepot.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", run_sweeper=False, run_relay=False)
    with served(create_app(settings)) as url:
        yield url


def operations(document: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Each operation with the number of blocks Swagger UI shows for it: one under each of its tags."""
    return {
        (method.upper(), path): max(1, len(operation.get("tags", [])))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


# The method and path of each operation block on the page.
RENDERED = """() => [...document.querySelectorAll('.opblock')].map(block => [
    block.querySelector('.opblock-summary-method').textContent,
    block.querySelector('.opblock-summary-path').getAttribute('data-path'),
])"""


def test_docs_list_every_operation_in_chromium(base_url: str, browser: Any) -> None:
    document = httpx.get(f"{base_url}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    expected = operations(document)
    blocks = sum(expected.values())

    page = browser.new_page()
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if urlsplit(r.url).netloc != urlsplit(base_url).netloc else None,
    )
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(
        f"document.querySelectorAll('.opblock').length >= {blocks}", timeout=RENDER_TIMEOUT_MS
    )

    rendered = [(method, path) for method, path in page.evaluate(RENDERED)]
    assert len(rendered) == blocks
    assert set(rendered) == set(expected)
    assert "Unable to render" not in page.inner_text("body")
    assert page.locator(".errors-wrapper").count() == 0
    assert page.locator(".info .title").inner_text().startswith(document["info"]["title"])
    assert not elsewhere, f"the page asked other hosts: {elsewhere}"
    assert not problems, f"errors in the page (a script refused by the CSP shows here): {problems}"


def test_an_operation_shows_its_problem_answers(base_url: str, browser: Any) -> None:
    """Opening checkout shows its parameters, the required Idempotency-Key among them, and the problem
    answers it declares."""
    document = httpx.get(f"{base_url}/openapi.json").json()
    checkout = document["paths"]["/api/v1/orders"]["post"]
    page = browser.new_page()
    page.goto(f"{base_url}/docs#/{checkout['tags'][0]}/{checkout['operationId']}")
    block = page.locator(".opblock.is-open")
    block.wait_for(timeout=RENDER_TIMEOUT_MS)
    text = block.inner_text()
    assert "Idempotency-Key" in text
    for status in ("401", "403", "409", "422"):
        assert block.locator(f"tr.response[data-code='{status}']").count() == 1, status
