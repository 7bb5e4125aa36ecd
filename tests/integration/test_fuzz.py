"""The schema fuzz: every operation of the OpenAPI document, as the operator, a seller and a buyer, on SQLite
and on PostgreSQL, with hostile values among the generated ones. No answer may be a 5xx or fall outside the
document, and no request the document allows may be refused as invalid.

Schemathesis generates each request from the document (values that fit it, and values that break it). Its
`date` and `date-time` formats are replaced here by ones that favour year 1, year 9999 and the offsets
+14:00 and -12:00 (Python's calendar overflows converting those to UTC), and in half the requests one
value in three, in the path, the query or anywhere in a JSON body, is swapped for what issue 28 found
reaching a 500: NUL and other control characters in text (PostgreSQL refuses NUL), integers at and past
the INTEGER and BIGINT ceilings, extreme days and times. Path parameters and fields such as `sku`,
`market` or `period` are often the world's real values, so requests get past the 404 or the 422 and into
the rules behind them.

Every answer goes through schemathesis' checks: `not_a_server_error` (no 500 or more), and the
conformance checks (issue 25): its status is one the operation declares, its content type the one
declared for that status, its body fits that status' schema (problems included: every route declares
them, see entrepot.platform.problems.document). On every operation, requests schemathesis made to fit
the document, that carry no hostile value and no known value in a query or a body, also go through
`positive_data_acceptance`: answered 2xx, 401, 403, 404 or 409, never 400 or 422, so a limit the code
enforces and the document does not state fails here. A refusal for a rule no schema can state (a relation
between values, the caller, the stored data, the content of a CSV body) passes only when every message
in it is one ANYWHERE or RULES names for that operation, each with the rule behind it.

The run is bounded and repeatable: MAX_EXAMPLES per operation, derandomized, no example database, no
shrinking (a failure is reported with the request that caused it, as curl). Every failure of every
operation is collected before the test fails, so one run lists them all. The examples are made once per
test process and sent as each role to each database (`examples`): the six runs share one worker.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi import unregister_string_format
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.helpers import API, paid_order
from tests.world import World

# Per operation, role and database (95 operations x 3 roles x 2 databases); ENTREPOT_FUZZ_EXAMPLES runs a
# longer search by hand.
MAX_EXAMPLES = int(os.environ.get("ENTREPOT_FUZZ_EXAMPLES", "15"))
ROLES = ("operator", "seller_a", "buyer_a")
RESPONSE_TIMEOUT_S = 300

EXTREME_INTEGERS = (
    0,
    -1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
)
# Inserted into a generated string: NUL (PostgreSQL refuses it in text), other C0 and C1 controls, DEL
# and a line break. Path parameters come percent-encoded from schemathesis, so theirs are too.
CONTROLS = ("\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\r\n")
PATH_CONTROLS = tuple(quote(c) for c in CONTROLS)
EXTREME_DAYS = (dt.date(1, 1, 1), dt.date(1, 1, 2), dt.date(9999, 12, 31), dt.date(9999, 12, 30))
SUPPORTED = (dt.date(2024, 1, 1), dt.date(2027, 12, 31))  # within kernel.bounds' 1990-2100, near the world
OFFSETS = ("Z", "+14:00", "-12:00", "+00:00", "+05:30", "-00:00")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _days() -> st.SearchStrategy[dt.date]:
    # The edges, and as often days the product supports, so requests with dates also get past their check.
    return st.one_of(st.sampled_from(EXTREME_DAYS), st.dates(SUPPORTED[0], SUPPORTED[1]), st.dates())


# Replace schemathesis' `date` and `date-time` formats (years 0000-9999 evenly, the edges almost never)
# with ones that favour the edges and the widest offsets.
DAY_FORMAT = _days().map(dt.date.isoformat)
MOMENT_FORMAT = st.builds(
    "{}T{:02d}:{:02d}:{:02d}{}".format,
    _days().map(dt.date.isoformat),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(OFFSETS),
)


@pytest.fixture(scope="module", autouse=True)
def _extreme_formats() -> Iterator[None]:
    schemathesis.openapi.format("date", DAY_FORMAT)
    schemathesis.openapi.format("date-time", MOMENT_FORMAT)
    yield
    unregister_string_format("date")
    unregister_string_format("date-time")


def known_values(ids: Mapping[str, str]) -> dict[str, list[str]]:
    """Real values for path parameters and body fields, by name: a request naming them reaches the rules
    behind the lookup instead of a 404. `ids` are the world's, with its paid order's and cart's."""
    skus = [ids[k] for k in ("seller_a_red", "seller_a_blue", "seller_b_red", "seller_b_blue")]
    markets = ["lazada-sg", "taobao-cn"]
    return {
        "sku_id": skus,
        "sku": skus,
        "market": markets,
        "code": [*markets, "lazada", "SG"],
        "business_unit": ["lazada", "taobao"],
        "warehouse": ["sg-tuas", "cn-hangzhou"],
        "seller_id": [ids["seller_a"], ids["seller_b"]],
        "product_id": [ids["seller_a_product"], ids["seller_b_product"]],
        "order_id": [ids["order"]],
        "cart_id": [ids["cart"]],
        "seller": [ids["seller_a"], ids["seller_b"]],
        "buyer": [ids["buyer_a"], ids["buyer_b"]],
        "category": ["electronics", "*"],
        "country": ["SG", "CN"],
        "currency": ["SGD", "CNY", "USD"],
        "from": ["SGD", "CNY", "USD"],
        "to": ["SGD", "CNY", "USD"],
        # The period grammars of reporting and emissions, so their reports run rather than 422.
        "period": ["FY2026", "FY2026Q1", "FY2026-Q1", "2025-11", "LTM2025-10", "2025-11-10", "2025-Q4"],
        "by": ["segment,division", "business_unit", "market", "seller", "leg", "mode"],
        "view": ["recast", "as_reported"],
    }


# Known values that fit some operations' schemas and not others: reporting's and emissions' `by` and
# `period` differ, a new unit's `code` is lower case, a commission's `category` may be `*`.
MAY_NOT_FIT = frozenset({"by", "period", "code", "category", "view"})


@st.composite
def hostile(
    draw: st.DrawFn,
    value: Any,
    known: dict[str, list[str]],
    controls: tuple[str, ...],
    harden: bool,
    name: str | None = None,
    swapped: list[str] | None = None,
) -> Any:
    """`value` as generated, a known value in its place (one time in two where its name has some), or, when
    `harden`, a hostile one (one time in three); dicts and lists are walked, so a field deep in a body is as
    likely to be swapped as a query parameter."""
    if isinstance(value, dict):
        return {k: draw(hostile(v, known, controls, harden, k, swapped)) for k, v in value.items()}
    if isinstance(value, list):
        return [draw(hostile(v, known, controls, harden, name, swapped)) for v in value]
    if name in FIXED:
        return FIXED[name]
    if name in known and draw(st.booleans()):
        if swapped is not None and name in MAY_NOT_FIT:
            swapped.append(name)
        return draw(st.sampled_from(known[name]))
    if not harden or isinstance(value, bool) or draw(st.integers(0, 2)) != 0:
        return value
    if isinstance(value, int):
        return draw(st.sampled_from(EXTREME_INTEGERS))
    if isinstance(value, str):
        if _DAY.match(value) and draw(st.booleans()):
            return draw(MOMENT_FORMAT if "T" in value else DAY_FORMAT)
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(st.sampled_from(controls)) + value[at:]
    return value


# Values every request carries whatever was generated: the reports' `engine=spark` starts a JVM per
# report (minutes for the run); the document lists it, the fuzz stays on the embedded engine.
FIXED = {"engine": "duckdb"}

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Refusals of a request that fits the document for a rule no schema can state (the state of the world, a
# relation between values, a token only the API issues), by the message the problem gives for it (its
# `errors[].message`, or its `detail` when it names no field): a refusal passes positive_data_acceptance
# only when every message in it is one of these, on any operation (ANYWHERE) or on its own (RULES).
ANYWHERE: dict[str, str] = {
    # A cursor is an opaque token from a previous page's `next_cursor`: its alphabet and length are in
    # the document, which values decode to a position is not.
    r"not a cursor this API issued": "cursor",
    # JSON Schema's `integer` admits 1.0; the API reads integers strictly (no 1.0, "1" or true), a rule
    # JSON Schema cannot state.
    r"Input should be a valid integer": "integer",
}
# The reports': the rates loaded (ECB or the operator's) and a dimension named once in `by`.
REPORT_RULES = {
    r"no (operator |ECB )?(FX )?rates? for": "stored data: no rate loaded for that currency or day",
    r"a dimension is named twice": "cross-field: each dimension once in `by`",
}
# On-demand delivery's places: an address of the city's map or a point on it, one of the two.
LOCAL_PLACE_RULES = {
    r"an address or a point, not both nor neither": "cross-field: a place is an address or a point",
    r"^not on the map$": "stored data: the city's addresses",
    r"^off the map$": "stored data: the city's roads (a point within 300 m of them)",
}
LOCAL_HOURS_RULES = {
    r"^HH:MM$": "a time of day: hours up to 24, minutes under 60 (the pattern states the digits)",
    r"^after opens, at most 24:00$": "cross-field: a store opens before it closes",
}
# A store's menu: names unique on it, prices within its currency's ceiling, a bounded number of items.
LOCAL_MENU_RULES = {
    r"^the menu has an item named .* already$": "stored data: the names on the store's menu",
    r"minor units": "a relation between values: a price within the store's currency's bounds",
    r"^the menu holds at most \d+ items": "stored data: how many items the menu holds",
}
# Per operation: each message (a regular expression) and, as its value, the rule behind it.
RULES: dict[str, dict[str, str]] = {
    "POST /api/v1/local/stores": {
        **LOCAL_PLACE_RULES,
        **LOCAL_HOURS_RULES,
        r"^required$": "caller: an operator names the seller",
    },
    "PATCH /api/v1/local/stores/{ref}": LOCAL_HOURS_RULES,
    "POST /api/v1/local/orders": {
        **LOCAL_PLACE_RULES,
        r"^unknown$": "stored data: the store named",
        r"^closed at this time$": "stored data: the store's opening hours",
        r"^at most \d+ items in one order$": "a relation between values: the items fill a courier's bag",
        r"minor units": "a relation between values: the items' total within a currency's bounds",
        r"is not on this store's menu$": "stored data: the store's menu",
        r"is not available now$": "stored data: what of the menu is on sale",
    },
    "POST /api/v1/local/stores/{ref}/menu": LOCAL_MENU_RULES,
    "PATCH /api/v1/local/stores/{ref}/menu/{item}": LOCAL_MENU_RULES,
    "POST /api/v1/local/couriers": {
        r"^unknown$": "stored data: the API key named",
        r"^a live carrier key$": "stored data: the key's role and whether it is revoked",
        r"^after shift_starts_at$": "cross-field: a shift ends after it starts",
        r"^at most 16 hours after shift_starts_at$": "cross-field: a shift lasts at most 16 hours",
        r"^in the future$": "the clock: a shift not over already",
    },
    "POST /api/v1/local/couriers/{ref}/positions": {r"^off the map$": "stored data: the city's roads"},
    "POST /api/v1/local/orders/{ref}/delivery": {r"^off the map$": "stored data: the city's roads"},
    "POST /api/v1/api-keys": {
        r"required for \w+ keys only": "cross-field: a seller, buyer or carrier id goes with its role's key",
    },
    "POST /api/v1/buyers": {r"give both latitude and longitude": "cross-field: a point has both coordinates"},
    "GET /api/v1/logistics/revenue": {r"after start": "cross-field: the window ends after it starts"},
    "GET /api/v1/audit": {r"^not after since$": "cross-field: the window ends after it starts"},
    "POST /api/v1/emissions/targets": {
        r"target year must come after the baseline": "cross-field: the target year follows the baseline year",
        r"give baseline_value too": "cross-field: a baseline's source goes with its imported value",
    },
    "POST /api/v1/emissions/scenarios": {
        r"is not after its start": "cross-field: the period ends after it starts",
        r"nothing has been calculated yet": "stored data: no emissions calculated",
        r"^versions are 1 to \d+$": "stored data: the calculation versions stored",
    },
    "GET /api/v1/reports/history": {
        r"not the same kind of period": "cross-field: first and last are periods of one kind",
        r"comes before": "cross-field: last does not come before first",
        r"^at most \d+ periods from": "cross-field: at most 60 periods from first to last",
        r"neither the snapshot nor the published figure": "stored data: no figures for the periods",
        **REPORT_RULES,
    },
    "POST /api/v1/flash-sales": {
        r"^must be after starts_at$": "cross-field: a sale ends after it starts",
        r"^must be in the future$": "the clock: a sale not over already",
        r"^1 up to the sale's stock$": "cross-field: a per-buyer limit within the stock",
        r"minor units": "stored data: the market's currency (its minor units set the price's ceiling)",
        r"of yours is sold in": "stored data: the caller's SKUs in the market",
    },
    "POST /api/v1/live-sessions/{ref}/drops": {
        r"^1 up to the drop's stock$": "cross-field: a per-buyer limit within the stock",
        r"of yours is sold in": "stored data: the caller's SKUs in the market",
    },
    "POST /api/v1/products": {r"^required$": "caller: an operator names the seller"},
    "POST /api/v1/catalog/import": {
        r"^required$": "caller: an operator names the seller",
        r"CSV|column|line \d|must|required|not|unknown|at most": "CSV content: the body is text whose rows "
        "the document cannot describe",
    },
    "POST /api/v1/live-sessions": {r"^required$": "caller: an operator names the host"},
    "GET /api/v1/emissions/report": {
        r"nothing has been calculated yet": "stored data: no emissions calculated",
        r"^versions are 1 to \d+$": "stored data: the calculation versions stored",
        r"is not after its start": "cross-field: a range of days ends after it starts",
    },
    "GET /api/v1/emissions/series": {
        r"nothing has been calculated yet": "stored data: no emissions calculated",
        r"^versions are 1 to \d+$": "stored data: the calculation versions stored",
    },
    "GET /api/v1/fx/convert": {r"no (operator|ECB) rate for": "stored data: no rate loaded for that day"},
    "GET /api/v1/reports/gmv": REPORT_RULES,
    "GET /api/v1/reports/gmv-growth": REPORT_RULES,
    "GET /api/v1/reports/revenue": {
        **REPORT_RULES,
        r"^revenue is cut by": "revenue's own dimensions, fewer than the reports' shared `by` pattern lists",
    },
    "POST /api/v1/carts/{cart_id}/checkout": {
        r"several sellers|add a SKU first|at least one line": "stored data: the cart's lines (one seller's)",
    },
    "POST /api/v1/carts/{cart_id}/quote": {
        r"several sellers|add a SKU first|at least one line": "stored data: the cart's lines (one seller's)",
    },
    "PUT /api/v1/carts/{cart_id}/lines/{sku}": {
        r"is sold in this cart's market": "stored data: the market's SKUs"
    },
    "POST /api/v1/emissions/factor-tables": {
        r"not the default's": "stored data: the default table's name is taken",
        r"CSV|column|row|line|must|not|unknown": "CSV content: the factor table's rows",
    },
    "POST /api/v1/fx/rates": {r"^body: |rate file needs": "CSV content: an ECB or operator rates file"},
    "PUT /api/v1/fx/manual-rates": {
        r"and 8 decimal places$": "a JSON number's decimal places (multipleOf 1e-8 is inexact on floats)",
    },
    "POST /api/v1/group-buys": {
        r"^after starts_at and in the future$": "cross-field and the clock: a window that ends after it "
        "starts and is not over already",
        r"of yours is sold in": "stored data: the caller's SKUs in the market",
        r"minor units": "stored data: the market's currency (its minor units set the price's ceiling)",
        r"^at least one team's worth": "cross-field: the stock holds at least one team (team_size)",
    },
    "POST /api/v1/orders": {
        r"^one of (express|standard|economy)-": "stored data: the quote's delivery options",
        r"^must be [A-Z]{3}$": "stored data: the market's currency",
        r"several sellers": "stored data: the SKUs' sellers (one an order)",
    },
    "POST /api/v1/checkout/quote": {
        r"^must be [A-Z]{3}$": "stored data: the market's currency",
        r"several sellers": "stored data: the SKUs' sellers (one an order)",
    },
    "PUT /api/v1/skus/{sku_id}/prices/{market}": {
        r"^must be [A-Z]{3}$": "stored data: the market's currency"
    },
    "POST /api/v1/reports/external-actuals": {
        r"CSV|column|line \d|must|not|unknown|at most": "CSV content: the actuals' rows",
    },
    "POST /api/v1/reports/investee-results": {
        r"CSV|column|line \d|must|not|unknown|at most": "CSV content: the investees' results' rows",
    },
    "POST /api/v1/logistics/routes": {
        r"not a node or airport of the network|unknown (origin|destination)": "stored data: the network",
    },
    "POST /api/v1/local/matrix": {r"off the map": "stored data: the city's roads near each point"},
    "POST /api/v1/local/routes": {r"off the map": "stored data: the city's roads near each point"},
    "GET /api/v1/local/reverse": {r"off the map": "stored data: the city's roads near the point"},
    "POST /api/v1/orders/{order_id}/refunds": {r"^at most \d+$": "stored data: what is left to refund"},
    "POST /api/v1/orders/{order_id}/shipments": {
        r"no delivery station": "stored data: the network's stations"
    },
    "POST /api/v1/markets": {
        r"^unknown locale ": "the CLDR's locales as Babel has them (hundreds, spelt in several ways)",
        r"^unknown IANA time zone ": "the IANA time zone database as this machine has it",
    },
    "POST /api/v1/org/units": {r"^expected an? \w+$": "stored data: the parent unit's kind"},
    "POST /api/v1/reports/guidance": {r"unknown scope": "stored data: the organisation's units"},
    "POST /api/v1/reports/targets": {r"unknown scope": "stored data: the organisation's units"},
    "POST /api/v1/shipments/{shipment_id}/scans": {
        r"after the time now": "clock: a scan is not dated in the future",
    },
    "POST /api/v1/webhooks/subscriptions": {
        r"is an operator event": "the caller: a seller subscribes to its own orders, sales, shipments",
        r"is this machine|private, loopback, link-local or reserved": "settings: internal targets refused",
    },
    "POST /api/v1/webhooks/subscriptions/{subscription_id}/replay": {
        r"^must be after since$": "a relation between values: the range's end after its start",
    },
    "POST /api/v1/reports/investees/{code}/stakes": {
        # a JSON number's decimal places: multipleOf on decimals is not reliable in JSON Schema
        r"at most 6 decimal places": "a number's places (its text form's pattern states them)",
    },
    "POST /api/v1/reports/investees/{code}/impairments": {
        r"investment is carried in [A-Z]{3}$": "stored data: the investee's currency",
    },
    "POST /api/v1/reports/programmes/{code}/targets": {
        r"names its currency|has none": "a relation between values: a metric's unit decides its currency",
        r"^a whole number of buyers$": "a relation between values: a metric counted in buyers is whole",
    },
    "POST /api/v1/reports/investees": {
        r"at most 6 decimal places": "a number's places (its text form's pattern states them)",
    },
    "POST /api/v1/reports/investees/{code}/results": {
        r" reports in [A-Z]{3}$": "stored data: the investee's currency",
    },
}


def refused_for_a_rule(label: str, response: Any) -> bool:
    """Whether `response` refuses the request for rules only (ANYWHERE, or RULES[label])."""
    if response.status_code not in (400, 409, 422):
        return False
    body = response.json()
    messages = [str(e.get("message", "")) for e in body.get("errors") or []] or [str(body.get("detail", ""))]
    rules = [*ANYWHERE, *RULES.get(label, {})]
    return all(any(re.search(rule, m) for rule in rules) for m in messages)


MARKER = "known:"


class Marked(dict[str, str]):
    """Ids as markers ("known:seller_a_red"), for examples made once and sent in every world: each world's
    own ids take the markers' places just before a request is sent (Example.in_world)."""

    def __missing__(self, name: str) -> str:
        return f"{MARKER}{name}"


def _in_world(value: Any, ids: Mapping[str, str]) -> Any:
    """`value` with each marker replaced by the world's id (markers are drawn whole, never cut)."""
    if isinstance(value, dict):
        return {k: _in_world(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_world(v, ids) for v in value]
    if isinstance(value, str) and value.startswith(MARKER):
        return ids[value.removeprefix(MARKER)]
    return value


@dataclass(frozen=True)
class Example:
    """One request of an operation's run: the case as schemathesis made it, with its metadata as made (each
    world's request gets copies, so a world's changes relabel only its own), the values that replace its
    parameters and body (hostile, known ids as markers), and whether positive_data_acceptance applies."""

    generated: Case[Any]
    path_parameters: dict[str, Any]
    query: dict[str, Any]
    body: Any
    replaces_body: bool
    checks_acceptance: bool

    def in_world(self, ids: Mapping[str, str]) -> Case[Any]:
        made = self.generated
        case: Case[Any] = Case(
            made.operation,
            made.method,
            made.path,
            path_parameters=copy.deepcopy(made.path_parameters),
            headers=made.headers.copy(),
            cookies=dict(made.cookies),
            query=copy.deepcopy(made.query),
            body=copy.deepcopy(made.body),
            media_type=made.media_type,
            multipart_content_types=made.multipart_content_types,
            meta=copy.deepcopy(made.meta),
        )
        # Assigned as the run made them: schemathesis re-labels a case whose components are assigned.
        case.path_parameters = _in_world(self.path_parameters, ids)
        case.query = _in_world(self.query, ids)
        if self.replaces_body:
            case.body = _in_world(self.body, ids)
        return case


# Each operation's examples, made once per test process and document: Hypothesis and schemathesis making
# cases took about 85 % of the fuzz's time (py-spy, 2026-12-07), and a case does not depend on the role or
# the database it is sent to, so the six runs (3 roles x 2 databases) send the same examples.
_EXAMPLES: dict[tuple[str, str], list[Example]] = {}


def examples(operation: APIOperation, document: str) -> list[Example]:
    """The operation's examples: MAX_EXAMPLES, derandomized, half of them with hostile values."""
    key = (document, operation.label)
    if key not in _EXAMPLES:
        _EXAMPLES[key] = _make_examples(operation)
    return _EXAMPLES[key]


def _make_examples(operation: APIOperation) -> list[Example]:
    made: list[Example] = []
    known = known_values(Marked())
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def make(case: Case[Any], data: st.DataObject) -> None:
        # Half the requests carry hostile values; the others only what schemathesis made (and known ids),
        # so that requests also get past the first refusal and into the rules behind it.
        harden = data.draw(st.booleans())
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        path_parameters = data.draw(hostile(case.path_parameters or {}, known, PATH_CONTROLS, harden))
        # Some known values in a query or a body may not fit that operation's schema (MAY_NOT_FIT), so
        # such a request is no longer one the document allows.
        swapped: list[str] = []
        query = data.draw(hostile(case.query or {}, known, CONTROLS, harden, swapped=swapped))
        replaces_body = isinstance(case.body, dict | list)
        body = (
            data.draw(hostile(case.body, known, CONTROLS, harden, swapped=swapped)) if replaces_body else None
        )
        checks_acceptance = positive and not harden and not swapped
        made.append(Example(case, path_parameters, query, body, replaces_body, checks_acceptance))

    make()
    return made


def fuzz_operation(
    operation: APIOperation,
    document: str,
    session: asgi.ASGIClient,
    headers: dict[str, str],
    ids: Mapping[str, str],
) -> list[str]:
    """Send the operation's examples; the failed checks, each with the request that failed it."""
    found: list[str] = []
    for example in examples(operation, document):
        case = example.in_world(ids)
        # The document's conformance is checked here, not the speed: a request waits as long as it takes
        # (schemathesis' own limit, 10 s, was reached by a report when four workers shared two cores).
        response = case.call(session=session, headers=headers, timeout=RESPONSE_TIMEOUT_S)
        checks = list(CONFORMANCE)
        if example.checks_acceptance and not refused_for_a_rule(operation.label, response):
            checks.append(positive_data_acceptance)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, BaseExceptionGroup) as failure:  # FailureGroup: each check that failed
            found.append(
                f"{response.status_code} {case.as_curl_command(headers=headers)}\n"
                f"{str(failure)[:600]}\n{response.text[:300]}"
            )
    return found


@pytest.mark.slow  # the first run makes the examples (most of the time), the others send them
@pytest.mark.xdist_group("schema-fuzz")
@pytest.mark.parametrize("who", ROLES)
def test_every_answer_is_as_the_document_says(world: World, who: str) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 1))
    cart = client.post(f"{API}/carts", json={"market": "lazada-sg"}, headers=world.auth("buyer_a"))
    assert cart.status_code == 201, cart.text
    ids = {**world.ids, "order": order["id"], "cart": cart.json()["id"]}
    app: FastAPI = client.app  # type: ignore[assignment]
    schema = schemathesis.openapi.from_dict(app.openapi())
    document = json.dumps(app.openapi(), sort_keys=True)
    # The app in this process, as world.client() has it: without its lifespan (no relay, no sweeper) and
    # without a socket.
    session = asgi.get_client(app)  # type: ignore[arg-type]
    headers = world.auth(who)
    found: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document is one schemathesis reads whole
        operation = result.ok()
        found += [
            f"{operation.label}: {f}" for f in fuzz_operation(operation, document, session, headers, ids)
        ]
    if os.environ.get("ENTREPOT_FUZZ_DUMP"):  # by hand: every failure as JSON, to sort them
        with open(f"{os.environ['ENTREPOT_FUZZ_DUMP']}-{who}-{world.db.url.split(':')[0]}.json", "w") as out:
            json.dump(found, out)
    assert not found, f"{len(found)} failures:\n" + "\n\n".join(found)
