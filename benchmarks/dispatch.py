"""On-demand dispatch on a city day: `python benchmarks/dispatch.py [options]`.

The same as `entrepot bench dispatch`; prints one summary line last:
`dispatch orders=... couriers=... on_time=... p95_round_ms=... courier_minutes_per_order=...
greedy_ratio=...`.
"""

import sys

from entrepot.cli.main import app

if __name__ == "__main__":
    app(["bench", "dispatch", *sys.argv[1:]])
