"""One hot SKU rushed over HTTP on loopback: `python benchmarks/flash.py [--stock 1000 --buyers 20000
--concurrency 256 --kill-worker]` (needs the local PostgreSQL).

The same as `entrepot bench flash`; prints one summary line last:
`flash orders_per_s=... p99_ms=... sold=... stock=... oversold=... lost=... naive_ratio=...`.
"""

import sys

from entrepot.cli.main import app

if __name__ == "__main__":
    app(["bench", "flash", *sys.argv[1:]])
