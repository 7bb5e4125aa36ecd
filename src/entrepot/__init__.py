"""Entrepot: run a multi-market commerce group."""

import gc

__version__ = "0.1.0"

# Young objects are collected after this many allocations (Python's default is 700): a busy worker
# otherwise runs several collections per batch of requests
GC_THRESHOLDS = (10_000, 20, 100)

# From the first import on, in every Entrepot process (the API, the CLI, the tests): loading Entrepot and
# its libraries makes hundreds of thousands of objects that live as long as the process and next to no
# garbage, and with Python's thresholds the collector walks all of them again several times on the way
# (importing the API app took 3.1-3.6 s, and 2.7-2.9 s with these). The API also freezes what it loaded
# once started (api.app.settle_garbage_collector).
gc.set_threshold(*GC_THRESHOLDS)
