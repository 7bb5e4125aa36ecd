"""Checkout throughput over HTTP against PostgreSQL: `python benchmarks/checkout.py [options]`.

The same as `entrepot bench checkout`; prints one summary line last:
`checkout orders_per_s=... p50_ms=... p99_ms=... errors=... oversold=... sql_per_checkout=...`.
"""

import sys

from entrepot.cli.main import app

if __name__ == "__main__":
    app(["bench", "checkout", *sys.argv[1:]])
