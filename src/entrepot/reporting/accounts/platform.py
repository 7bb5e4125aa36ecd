"""The platform's own figures the group's accounts use, read from the reporting snapshot (GMV by buyer
country, revenue by segment) and from logistics (shipments' fees by where they are earned)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow.compute as pc

from entrepot.kernel.fx import FxRates
from entrepot.kernel.periods import FiscalCalendar
from entrepot.reporting import coverage as report_coverage
from entrepot.reporting import service
from entrepot.reporting.domain import parse_period
from entrepot.reporting.params import ReportParams


@dataclass
class PlatformAccounts:
    """What the snapshot holds, ready to be cut for the accounts."""

    snap: service.Snapshot
    fiscal: FiscalCalendar
    fx: FxRates
    definitions: dict[str, Any]

    def measure(self, metric: str, countries: list[str], period: str, currency: str) -> int | None:
        """A programme's outcome over a period from buyers in `countries`: GMV in minor units of
        `currency`, or active buyers (a count); None when the snapshot holds no order in the period."""
        if metric == "active_buyers":
            return self.active_buyers(countries, period)
        return self.gmv_from(countries, period, currency)

    def active_buyers(self, countries: list[str], period: str) -> int | None:
        """Buyers in `countries` with at least one confirmed order in the period."""
        window = parse_period(period, self.fiscal)
        facts = self.snap.facts
        within = facts.filter(
            facts.order_date >= window.start,
            facts.order_date <= window.last,
            facts.buyer_country.isin(countries),
        )
        if report_coverage.coverage_meta(self.snap, window)["status"] == "no data":
            return None
        return int(within.buyer_id.nunique().to_pyarrow().as_py() or 0)

    def gmv_from(self, countries: list[str], period: str, currency: str) -> int | None:
        """GMV (minor units of `currency`) from buyers in `countries` over a period."""
        request = ReportParams(period=period, by="buyer_country", currency=currency).request()
        report = service.gmv_report(self.snap, request, self.fiscal, self.fx, self.definitions)
        if report.meta.get("coverage", {}).get("status") == "no data":
            return None
        table = report.table.filter(
            pc.is_in(report.table.column("buyer_country"), value_set=_strings(countries))
        )
        return int(pc.sum(table.column("gmv_minor")).as_py() or 0)

    def revenue_by_segment(self, period: str, view: str, currency: str) -> tuple[dict[str, int], int] | None:
        """Revenue (minor units) per segment on the view's structure, and the group's total; None when
        the snapshot holds no data in the period."""
        by = ReportParams(period=period, by="segment", view=view, currency=currency).request()
        report = service.revenue_report(self.snap, by, self.fiscal, self.fx)
        if report.meta.get("coverage", {}).get("status") == "no data":
            return None
        rows = report.table.to_pylist()
        segments = {str(r["segment"]): int(r["total_minor"]) for r in rows}
        whole = ReportParams(period=period, currency=currency).request()
        total_rows = service.revenue_report(self.snap, whole, self.fiscal, self.fx).table.to_pylist()
        return segments, sum(int(r["total_minor"]) for r in total_rows)


def _strings(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())
