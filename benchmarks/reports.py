"""Group reports over a synthetic snapshot: `python benchmarks/reports.py [--rows 100000000]`.

The same as `entrepot bench reports`; prints one summary line last:
`reports rows=... gmv_fq_recast_s=... ltm_seller_s=... peak_gb=... pandas_ratio=...`.
"""

import sys

from entrepot.cli.main import app

if __name__ == "__main__":
    app(["bench", "reports", *sys.argv[1:]])
