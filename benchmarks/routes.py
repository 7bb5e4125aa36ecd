"""Route planning on a synthetic network: `python benchmarks/routes.py [options]`.

The same as `entrepot bench routes`; prints one summary line last:
`routes queries=... p50_ms=... p99_ms=... pareto_avg=... networkx_ratio=... shipments_per_min=...
nodes=... lanes=...`.
"""

import sys

from entrepot.cli.main import app

if __name__ == "__main__":
    app(["bench", "routes", *sys.argv[1:]])
