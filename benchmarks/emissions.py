"""ISO 14083 emissions of a million legs: `python benchmarks/emissions.py [options]`.

The same as `entrepot bench emissions`; prints one summary line last:
`emissions legs=... seconds=... legs_per_s=... reference_ratio=... reference_legs=... totals_identical=...`.
"""

import sys

from entrepot.cli.main import app

if __name__ == "__main__":
    app(["bench", "emissions", *sys.argv[1:]])
