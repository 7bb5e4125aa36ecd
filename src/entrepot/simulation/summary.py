"""GMV by division and market in USD, as the demo prints it: reporting's live figures (reporting.live),
which the console's overview shows too."""

from __future__ import annotations

from entrepot.reporting.live import GMV_DEFINITION, Row, gmv_rows

__all__ = ["GMV_DEFINITION", "Row", "gmv_rows"]
