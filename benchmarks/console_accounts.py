"""The console's group accounts page over the demo: `python benchmarks/console_accounts.py
[--keys-file var/demo-keys.json] [--requests 50] [--period FY2026]`.

Run it after `entrepot demo` and `entrepot report scenario`, with the same ENTREPOT_* settings (the
database and the snapshot folder). It signs in with the demo's operator key, opens /reporting/accounts
once cold (the snapshot's figures computed and remembered) and then `requests` times, in this process:
no network, so the times are the server's own. The period defaults to FY2026, the fiscal year of the demo's
weeks (from 1 Nov 2025, simulation.demo), so the platform's own figures are on the page; the page's own
default (this fiscal year by the clock) may hold none. Prints one summary line last:
`console_accounts requests=... period=... cold_ms=... p50_ms=... p95_ms=... max_ms=...`.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

from fastapi.testclient import TestClient

from entrepot.api.app import create_app
from entrepot.platform.settings import get_settings

PAGE = "/reporting/accounts"


def signed_in(keys_file: Path) -> TestClient:
    """A browser of the app signed in with the demo's operator key (the sign-in form's key method)."""
    client = TestClient(create_app(get_settings()), raise_server_exceptions=True)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
    assert token, "no CSRF token on the sign-in page"
    key = json.loads(keys_file.read_text())["operator"]
    form = {"csrf": token.group(1), "method": "key", "api_key": key}
    answer = client.post("/sign-in", data=form, follow_redirects=False)
    assert answer.status_code == 303, f"sign-in refused: {answer.status_code}"
    return client


def timed(client: TestClient, params: dict[str, str]) -> float:
    started = time.perf_counter()
    answer = client.get(PAGE, params=params)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, f"{PAGE} answered {answer.status_code}"
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys-file", type=Path, default=Path("var/demo-keys.json"))
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--period", default="FY2026", help="the page's fiscal period ('' for its default)")
    args = parser.parse_args()
    client = signed_in(args.keys_file)
    params = {"period": args.period} if args.period else {}
    cold = timed(client, params)
    warm = sorted(timed(client, params) for _ in range(args.requests))
    p95 = warm[max(0, round(0.95 * len(warm)) - 1)]
    print(
        f"console_accounts requests={len(warm)} period={args.period or 'default'} cold_ms={cold:.0f}"
        f" p50_ms={statistics.median(warm):.1f} p95_ms={p95:.1f} max_ms={warm[-1]:.1f}"
    )


if __name__ == "__main__":
    main()
