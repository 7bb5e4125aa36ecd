"""The parameters of the GMV, revenue and growth reports, defined once: the API's query and the CLI's
options both build a `ReportParams` and take its `request()`, so both accept and refuse the same values.

The bounds are the edge's (text without control characters, lengths, a supported day); the service then
checks the names against its lists (periods, dimensions, grains, views, FX methods) and the currency
against the rates it has. A currency is an ISO 4217 code as written, upper case: `usd` is refused by
both (the CLI used to upper-case it while the API refused it)."""

from __future__ import annotations

from pydantic import Field
from pydantic.config import JsonDict

from entrepot.platform.schemas import CURRENCY_CODE, Day, Request, Text, one_of, period_pattern
from entrepot.reporting.domain import DIMENSIONS, FX_METHODS, GRAINS, VIEWS
from entrepot.reporting.engine import ENGINES
from entrepot.reporting.service import ReportRequest

PERIOD_HELP = "FY2022, FY2022Q3, 2021-12, LTM2021-09 or 2021-12-24"
BY_HELP = "comma-separated: segment, division, business_unit, market, ..."
# What the document states of them: the period forms reporting reads, the dimensions, an ISO 4217 code.
PERIOD_PATTERN = period_pattern("fiscal-year", "fiscal-quarter", "month", "ltm", "day")
SERIES_PATTERN = period_pattern("fiscal-year", "fiscal-quarter", "month")
LONG_WINDOW_PATTERN = period_pattern("fiscal-year", "ltm")
_DIMENSION = "(" + "|".join(DIMENSIONS) + ")"
BY_PATTERN: JsonDict = {"pattern": f"^({_DIMENSION}(,{_DIMENSION})*)?$"}
CURRENCY_PATTERN: JsonDict = CURRENCY_CODE


class ReportParams(Request):
    period: Text = Field(max_length=32, description=PERIOD_HELP, json_schema_extra=PERIOD_PATTERN)
    by: Text = Field(default="", max_length=200, description=BY_HELP, json_schema_extra=BY_PATTERN)
    every: Text = Field(
        default="total",
        max_length=64,
        description="day, month, quarter, year or total",
        json_schema_extra=one_of(*GRAINS),
    )
    view: Text = Field(
        default="recast", max_length=64, description="as-reported or recast", json_schema_extra=one_of(*VIEWS)
    )
    recast_on: Day | None = Field(default=None, description="recast under the structure of this day")
    currency: Text = Field(
        default="USD",
        max_length=64,
        description="ISO 4217 code to translate into",
        json_schema_extra=CURRENCY_PATTERN,
    )
    fx: Text = Field(
        default="transaction-date",
        max_length=64,
        description="transaction-date or period-average",
        json_schema_extra=one_of(*FX_METHODS),
    )
    engine: Text = Field(
        default="duckdb",
        max_length=64,
        description="duckdb (embedded) or spark (the spark extra)",
        json_schema_extra=one_of(*ENGINES),
    )

    def request(self) -> ReportRequest:
        dims = tuple(d.strip() for d in self.by.split(",") if d.strip())
        return ReportRequest(
            self.period, dims, self.every, self.view, self.recast_on, self.currency, self.fx, self.engine
        )
