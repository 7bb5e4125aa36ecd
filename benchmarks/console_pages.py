"""Every main page of the console, the seller centre and the storefront over the demo, timed in process:
`python benchmarks/console_pages.py [--keys-file var/demo-keys.json] [--requests 30] [--only PART]`.

Run it after `entrepot demo` with the same ENTREPOT_* settings (the database and the snapshot folder). It
signs in as the demo's operator, seller and buyer users (their passwords are in the keys file), finds the
ids its detail pages need from the list pages (the first order, seller, product, shipment, flash sale
listed), opens each page once cold and then `requests` times, in this process: no network, so the times
are the server's own (the issue's "renders server-side in under 300 ms p95"). The baseline, measured in
the same run, is the sign-in page: a template and no query. Prints a line per page, then one summary
line last:
`console_pages pages=... requests_each=... worst=... worst_p95_ms=... over_300ms=... baseline_p95_ms=...`.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from entrepot.api.app import create_app
from entrepot.platform.settings import get_settings

TARGET_MS = 300
SHOP = "/shop/lazada/sg"

# (role, page or "list page -> pattern of a link on it" for a detail page)
PAGES: list[tuple[str, str]] = [
    ("operator", "/overview"),
    ("operator", "/orders"),
    ("operator", r"/orders -> /orders/\w+"),
    ("operator", "/organisation"),
    ("operator", "/organisation?on=2021-09-30"),
    ("operator", "/markets"),
    ("operator", "/sellers"),
    ("operator", r"/sellers -> /sellers/\w+"),
    ("operator", r"{previous} -> /products/\w+"),
    ("operator", "/inventory"),
    ("operator", "/inventory/low"),
    ("operator", "/inventory/reservations"),
    ("operator", "/peak"),
    ("operator", r"/peak -> /peak/flash/(?!new)\w+"),
    ("operator", "/peak/group-buys"),
    ("operator", "/peak/live"),
    ("operator", "/logistics"),
    ("operator", "/logistics/routes?origin=cn-hangzhou&destination=ds-sg-tampines&weight_kg=2"),
    ("operator", "/logistics/shipments"),
    ("operator", r"/logistics/shipments -> /logistics/shipments/\w+"),
    ("operator", "/logistics/customs"),
    ("operator", "/reporting"),
    ("operator", "/reporting/accounts"),
    ("operator", "/emissions"),
    ("operator", "/api-keys"),
    ("operator", "/users"),
    ("operator", "/audit"),
    ("seller", "/catalog"),
    ("seller", "/catalog/import"),
    ("seller", "/orders"),
    ("seller", "/inventory"),
    ("seller", "/peak"),
    ("seller", "/peak/flash/new"),
    ("seller", "/logistics/shipments"),
    ("seller", "/emissions"),
    ("buyer", "/shop"),
    ("buyer", SHOP),
    ("buyer", f"{SHOP}?q=shoes"),
    ("buyer", rf"{SHOP} -> {SHOP}/products/[\w-]+"),
    ("buyer", f"{SHOP}/orders"),
]


@dataclass
class Timed:
    role: str
    page: str
    status: int
    cold_ms: float
    p50_ms: float
    p95_ms: float


def sign_in(client: TestClient, keys: dict[str, object], role: str) -> httpx.Cookies:
    """The session cookie of the demo's console user of this role (the password form), signed in on the
    one client, whose running app and event loop every request shares (a client per role, outside the
    app's lifespan, would start an event loop for each request and time that too)."""
    client.cookies.clear()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
    if token is None:
        raise SystemExit("no CSRF token on the sign-in page")
    users = keys["console_users"]
    assert isinstance(users, dict)
    password = users[role]["password"]
    form = {"csrf": token.group(1), "method": "password", "username": role, "password": password}
    answer = client.post("/sign-in", data=form, follow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"sign-in as {role} refused: {answer.status_code}")
    return httpx.Cookies(client.cookies)


def resolve(client: TestClient, spec: str, previous: str) -> str:
    """A page, or the first link matching a pattern on a list page (for the detail pages' ids)."""
    if " -> " not in spec:
        return spec
    listing, pattern = spec.split(" -> ")
    listing = listing.replace("{previous}", previous)
    found = re.search(rf'href="({pattern})"', client.get(listing).text)
    if found is None:
        raise SystemExit(f"no link like {pattern} on {listing}: is the demo seeded?")
    return found.group(1)


def timed(client: TestClient, page: str, requests: int) -> tuple[int, float, list[float]]:
    started = time.perf_counter()
    status = client.get(page).status_code
    cold = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(page)
        times.append((time.perf_counter() - started) * 1000)
    return status, cold, times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys-file", type=Path, default=Path("var/demo-keys.json"))
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", default="", help="only the pages whose path contains this")
    args = parser.parse_args()
    keys = json.loads(args.keys_file.read_text())
    app = create_app(get_settings())
    with TestClient(app) as client:  # the app started (and its console head start run) once
        _, _, baseline = timed(client, "/sign-in", args.requests)
        sessions = {role: sign_in(client, keys, role) for role in ("operator", "seller", "buyer")}
        results, previous = [], ""
        for role, spec in PAGES:
            client.cookies = sessions[role]
            page = resolve(client, spec, previous)
            previous = page
            if args.only not in page:
                continue
            status, cold, times = timed(client, page, args.requests)
            result = Timed(role, page, status, cold, statistics.median(times), p95(times))
            results.append(result)
            figures = f"cold={cold:7.1f} p50={result.p50_ms:6.1f} p95={result.p95_ms:6.1f}"
            print(f"{role:8} {status} {figures}  {page}")
    failed = [r for r in results if r.status != 200]
    if failed:
        raise SystemExit(f"pages not answered 200: {[(r.page, r.status) for r in failed]}")
    worst = max(results, key=lambda r: r.p95_ms)
    over = sum(r.p95_ms > TARGET_MS for r in results)
    print(
        f"console_pages pages={len(results)} requests_each={args.requests} worst={worst.page} "
        f"worst_p95_ms={worst.p95_ms:.0f} over_{TARGET_MS}ms={over} baseline_p95_ms={p95(baseline):.1f}"
    )


if __name__ == "__main__":
    main()
