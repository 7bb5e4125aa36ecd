"""The interactive API docs, opened in a real browser: Debian's Chromium, driven by Playwright.

A server runs in this process (uvicorn on a free port of 127.0.0.1, a migrated SQLite file); the browser
opens /docs as a person would and the test reads the page Swagger UI rendered: one operation block per
operation of /openapi.json, no "Unable to render this definition", nothing refused by the page's content
security policy and nothing asked of any other host.

Swagger UI 5.33 and later virtualize the operations list once it has 150 rows or more (a row per tag and
per operation under it): only the rows in view (and three either side) are in the page, the others come
as it scrolls. This document has more than that, so the test scrolls down the list as a reader would and
collects every block it meets; below the threshold every block is in the page at once.

The browser is the system's (`/usr/bin/chromium`, or ENTREPOT_CHROMIUM); nothing downloads one (never
`playwright install`). Without it the test is skipped with the reason, unless
ENTREPOT_REQUIRE_BROWSER=1 (CI, which installs Chromium with apt-get), where it fails.
"""

from __future__ import annotations

import shutil
from collections import Counter
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


def list_rows(document: dict[str, Any]) -> int:
    """The rows of Swagger UI's operations list: one per tag (untagged operations go under "default")
    and one per operation block, every tag being open (docExpansion "list", the default)."""
    tags = {
        tag
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
        for tag in operation.get("tags") or ["default"]
    }
    return len(tags) + sum(operations(document).values())


# The method and path of each operation block on the page.
RENDERED = """() => [...document.querySelectorAll('.opblock')].map(block => [
    block.querySelector('.opblock-summary-method').textContent,
    block.querySelector('.opblock-summary-path').getAttribute('data-path'),
])"""

# The virtualized list's rows in the page: each row's place in the whole list, and its operation block's
# method and path (none for a tag's row).
VIRTUAL_ROWS = """() => [...document.querySelectorAll('.operations-virtual__item')].map(row => {
    const block = row.querySelector('.opblock');
    return [Number(row.dataset.index), block && [
        block.querySelector('.opblock-summary-method').textContent,
        block.querySelector('.opblock-summary-path').getAttribute('data-path'),
    ]];
})"""
VIRTUAL_ROW = "index => document.querySelector(`.operations-virtual__item[data-index='${index}']`)"


def listed_blocks(page: Any, rows: int, blocks: int) -> list[tuple[str, str]]:
    """The method and path of every operation block the page lists, each block once."""
    page.wait_for_selector(".opblock", timeout=RENDER_TIMEOUT_MS)
    if page.locator(".operations-virtual").count() == 0:
        # a function, not an expression: Playwright evaluates an expression with eval, which the page's
        # CSP (no 'unsafe-eval') refuses once the first poll finds too few blocks
        page.wait_for_function(
            "n => document.querySelectorAll('.opblock').length >= n", arg=blocks, timeout=RENDER_TIMEOUT_MS
        )
        return [(method, path) for method, path in page.evaluate(RENDERED)]
    return scrolled_blocks(page, rows)


def scrolled_blocks(page: Any, rows: int) -> list[tuple[str, str]]:
    """Scroll the virtualized list to its end, each time bringing the last row in the page to the top
    and waiting for the row after it: every row is met, and the loop ends at the list's last row."""
    met: dict[int, tuple[str, str]] = {}
    while True:
        in_page = page.evaluate(VIRTUAL_ROWS)
        met.update({index: (block[0], block[1]) for index, block in in_page if block})
        last = max(index for index, _ in in_page)
        if last >= rows - 1:
            return [met[index] for index in sorted(met)]
        page.evaluate(f"index => ({VIRTUAL_ROW})(index).scrollIntoView()", last)
        page.wait_for_function(
            f"index => ({VIRTUAL_ROW})(index) !== null", arg=last + 1, timeout=RENDER_TIMEOUT_MS
        )


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
    rendered = listed_blocks(page, list_rows(document), blocks)

    assert Counter(rendered) == Counter(expected)
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
