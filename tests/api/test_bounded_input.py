"""Input bounded at the edge: NUL and other control characters, text longer than its column, numbers past
their column, days outside 1990-2100 and oversized CSV fields are refused with a 4xx problem naming the
field, before they reach the database (where PostgreSQL answered them with a 500), and nothing changes.
Every test runs on SQLite and on PostgreSQL; SQLite took NUL and large numbers, PostgreSQL did not."""

from __future__ import annotations

import base64
import json
import time
import typing
from typing import Annotated, Any, Literal

import pytest
from pydantic import AfterValidator, BaseModel
from sqlalchemy import text

from entrepot.ordering.payments import SIGNATURE_HEADER, sign
from entrepot.platform.schemas import Request, printable
from tests.api.helpers import API, assert_problem, field_errors, paid_order, snapshot
from tests.api.test_flash_api import sale_body
from tests.api.test_livestream_api import go_live
from tests.world import World

NUL = "a\x00b"
NUL_IN_PATH = "a%00b"  # as a client sends it


# Bad input is the client's mistake: no error may reach the log (see no_error_logged).
pytestmark = pytest.mark.usefixtures("no_error_logged")


def _refused(response: Any, field: str, status: int = 422) -> dict[str, Any]:
    code = {422: "validation-failed", 415: "unsupported-media-type"}[status]
    problem = assert_problem(response, status, code)
    if status == 422:
        assert field in field_errors(problem), problem
    return problem


def _rows(world: World, table: str) -> int:
    with world.db.transaction() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- NUL bytes in paths, queries and bodies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/markets/{NUL_IN_PATH}", "code"),
        (f"/orders/{NUL_IN_PATH}", "order_id"),
        (f"/carts/{NUL_IN_PATH}", "cart_id"),
        (f"/shipments/{NUL_IN_PATH}", "shipment_id"),
        (f"/flash-sales/{NUL_IN_PATH}", "sale_id"),
        (f"/markets/{'m' * 65}", "code"),
        (f"/orders/ord_{'x' * 40}", "order_id"),
    ],
)
def test_a_bad_path_parameter_is_422_naming_it(world: World, path: str, field: str) -> None:
    response = world.client().get(f"{API}{path}", headers=world.auth("operator"))
    _refused(response, field)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/orders", {"status": NUL}),
        ("/orders", {"market": NUL}),
        ("/products", {"category": NUL}),
        ("/markets", {"country": NUL}),
        ("/warehouses", {"country": "x" * 65}),
        ("/reports/external-actuals", {"scope": NUL}),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(world: World, path: str, params: dict[str, str]) -> None:
    response = world.client().get(f"{API}{path}", params=params, headers=world.auth("operator"))
    _refused(response, next(iter(params)))


def _bodies(world: World) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(who, method, path, body, field) of writes with NUL in one field."""
    sku = world.ids["seller_a_red"]
    return [
        ("buyer_a", "POST", "/carts", {"market": NUL}, "market"),
        ("operator", "POST", "/buyers", {"name": NUL, "country": "SG"}, "name"),
        ("operator", "POST", "/api-keys", {"role": "operator", "name": NUL}, "name"),
        ("operator", "POST", "/markets", {"business_unit": NUL}, "business_unit"),
        ("seller_a", "POST", "/live-sessions", {"market": "lazada-sg", "host": NUL, "title": "t"}, "host"),
        ("seller_a", "POST", "/flash-sales", sale_body(world, strategy=NUL), "strategy"),
        (
            "seller_a",
            "PUT",
            f"/skus/{sku}/prices/lazada-sg",
            {"amount_minor": 1, "currency": NUL},
            "currency",
        ),
        ("buyer_a", "POST", "/orders", {"market": NUL, "lines": [{"sku": sku, "quantity": 1}]}, "market"),
        (
            "operator",
            "POST",
            "/logistics/routes",
            {"origin": NUL, "destination": "MNL", "weight_kg": 1},
            "origin",
        ),
    ]


def test_nul_in_a_body_field_is_422_naming_it_and_writes_nothing(world: World) -> None:
    client = world.client()
    before = snapshot(client, world)
    tables = ("carts", "buyers", "api_keys", "markets", "live_sessions", "flash_sales", "prices")
    rows = {t: _rows(world, t) for t in tables}
    for who, method, path, body, field in _bodies(world):
        headers = {**world.auth(who), "Idempotency-Key": "bounded-input-1"}
        response = client.request(method, f"{API}{path}", json=body, headers=headers)
        _refused(response, field)
    assert snapshot(client, world) == before
    assert {t: _rows(world, t) for t in tables} == rows


def test_nul_in_a_refund_a_scan_and_a_drop_is_422(world: World) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 1))
    live = go_live(client, world)  # before the snapshot: starting a session is a change (and audited)
    before = snapshot(client, world)
    refund = client.post(
        f"{API}/orders/{order['id']}/refunds",
        json={"amount_minor": 100, "reason": NUL},
        headers=world.auth("operator"),
    )
    _refused(refund, "reason")
    scan = {"event_id": NUL, "type": "picked_up", "occurred_at": "2025-11-11T04:00:00Z"}
    response = client.post(f"{API}/shipments/shp_unknown/scans", json=scan, headers=world.auth("operator"))
    _refused(response, "event_id")
    drop = {"sku": NUL, "sale_price_minor": 500, "stock": 2, "per_buyer_limit": 1}
    response = client.post(
        f"{API}/live-sessions/{live['id']}/drops", json=drop, headers=world.auth("seller_a")
    )
    _refused(response, "sku")
    assert snapshot(client, world) == before
    assert (
        client.get(f"{API}/live-sessions/{live['id']}", headers=world.auth("seller_a")).json()["drops"] == []
    )


def test_an_overlong_commission_category_is_422(world: World) -> None:
    client = world.client()
    body = {"business_unit": "lazada", "category": "c" * 100, "rate": "0.1"}
    rows = _rows(world, "commission_rates")
    _refused(client.put(f"{API}/commissions", json=body, headers=world.auth("operator")), "category")
    assert _rows(world, "commission_rates") == rows


# --- the webhooks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/payments/webhook", "/flash-sales/payments/webhook"])
@pytest.mark.parametrize(
    ("field", "value"), [("payment_id", NUL), ("amount_minor", 10**30), ("currency", NUL)]
)
def test_a_signed_webhook_out_of_bounds_is_422(world: World, path: str, field: str, value: Any) -> None:
    client = world.client()
    order = paid_order(client, world, ("seller_a_red", 1))
    before = snapshot(client, world)
    event = {"type": "payment.succeeded", "payment_id": order["payments"][0]["id"], "amount_minor": 1990}
    body = json.dumps({**event, "currency": "SGD", field: value}).encode()
    signature = sign(world.settings().webhook_secret, body, int(time.time()))
    response = client.post(
        f"{API}{path}",
        content=body,
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
    )
    _refused(response, field)
    assert snapshot(client, world) == before


# --- numbers past their column -------------------------------------------------------------------------


def _cursor(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/orders", "/products", "/markets", "/warehouses", "/sellers", "/carts"])
def test_a_cursor_past_a_bigint_is_422(world: World, path: str) -> None:
    client = world.client()
    who = "buyer_a" if path == "/carts" else "operator"
    for after in (2**63, 2**70):
        response = client.get(f"{API}{path}", params={"cursor": _cursor(after)}, headers=world.auth(who))
        _refused(response, "cursor")
    largest = client.get(f"{API}{path}", params={"cursor": _cursor(2**63 - 1)}, headers=world.auth(who))
    assert response.status_code == 422 and largest.status_code == 200, largest.text


def test_an_emissions_version_past_an_integer_is_422(world: World) -> None:
    client = world.client()
    for path, params in (
        ("/emissions/report", {"period": "FY2026", "version": 2**31}),
        ("/emissions/series", {"period": "FY2026", "version": 2**31}),
        ("/emissions/shipments/shp_x", {"version": 2**31}),
    ):
        response = client.get(f"{API}{path}", params=params, headers=world.auth("operator"))
        _refused(response, "version")


# --- days and times outside the supported years --------------------------------------------------------


@pytest.mark.parametrize("on", ["0001-01-01", "1989-12-31", "2101-01-01", "9999-12-31"])
def test_fx_convert_outside_the_supported_days_is_422(world: World, on: str) -> None:
    params = {"amount_minor": 100, "from": "SGD", "to": "USD", "on": on}
    response = world.client().get(f"{API}/fx/convert", params=params, headers=world.auth("operator"))
    assert "1990-01-01 to 2100-12-31" in field_errors(_refused(response, "on"))["on"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_time_outside_the_supported_years_is_422(world: World, moment: str) -> None:
    client = world.client()
    rows = _rows(world, "flash_sales")
    for field in ("starts_at", "ends_at"):
        response = client.post(
            f"{API}/flash-sales", json=sale_body(world, **{field: moment}), headers=world.auth("seller_a")
        )
        _refused(response, field)
    revenue = client.get(
        f"{API}/logistics/revenue",
        params={"start": moment, "end": "2025-12-01T00:00:00Z"},
        headers=world.auth("operator"),
    )
    _refused(revenue, "start")
    assert _rows(world, "flash_sales") == rows


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "field"),
    [
        (
            "operator",
            "PUT",
            "/fx/manual-rates",
            {"currency": "VND", "on": "0001-01-01", "per_usd": "25000"},
            "on",
        ),
        (
            "operator",
            "POST",
            "/org/units",
            {"kind": "division", "code": "division-x", "name": "D", "valid_from": "9999-12-31"},
            "valid_from",
        ),
    ],
)
def test_a_day_outside_the_supported_years_in_a_body_is_422(
    world: World, who: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = world.client().request(method, f"{API}{path}", json=body, headers=world.auth(who))
    _refused(response, field)


# --- CSV imports -----------------------------------------------------------------------------------------

CATALOG_HEADER = (
    "product_ref,title,category,hs_code,origin_country,sku_code,weight_g,length_mm,width_mm,height_mm,"
    "market,price,currency"
)
LAMP = "lamp-1,Desk lamp,home,940520,CN,lamp-1-black,900,300,200,150,lazada-sg,39.90,SGD"
ACTUALS_HEADER = "metric,scope,period,currency,value,source"
ACTUAL = "gmv,lazada,FY2025,SGD,1234.5,annual report"


@pytest.mark.parametrize("size", [1001, 131_073, 400_000])
def test_a_catalog_csv_field_too_long_is_422_naming_line_and_column(world: World, size: int) -> None:
    client = world.client()
    long_title = LAMP.replace("Desk lamp", '"' + "t" * size + '"')
    csv_text = "\n".join([CATALOG_HEADER, LAMP, long_title]) + "\n"
    before = _rows(world, "products")
    for partial in (False, True):
        response = client.post(
            f"{API}/catalog/import",
            content=csv_text.encode(),
            params={"partial": partial},
            headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
        )
        problem = _refused(response, "line 3.title")
        assert "line 3, column title" in problem["detail"]
    assert _rows(world, "products") == before


def test_a_catalog_csv_with_a_nul_is_422(world: World) -> None:
    csv_text = "\n".join([CATALOG_HEADER, LAMP.replace("home", "ho\x00me")]) + "\n"
    response = world.client().post(
        f"{API}/catalog/import",
        content=csv_text.encode(),
        headers={**world.auth("seller_a"), "Content-Type": "text/csv"},
    )
    _refused(response, "line 2.category")


@pytest.mark.parametrize("size", [1001, 131_073])
def test_an_actuals_csv_field_too_long_is_422_naming_line_and_column(world: World, size: int) -> None:
    client = world.client()
    csv_text = "\n".join([ACTUALS_HEADER, ACTUAL, ACTUAL.replace("annual report", "s" * size)]) + "\n"
    response = client.post(
        f"{API}/reports/external-actuals",
        content=csv_text.encode(),
        headers={**world.auth("operator"), "Content-Type": "text/csv"},
    )
    assert "line 3, column source" in _refused(response, "line 3.source")["detail"]
    assert _rows(world, "reporting_external_actuals") == 0


# --- the flash fast path --------------------------------------------------------------------------------


def test_a_flash_order_sent_as_text_plain_is_415(world: World) -> None:
    client = world.client()
    created = client.post(f"{API}/flash-sales", json=sale_body(world), headers=world.auth("seller_a"))
    assert created.status_code == 201, created.text
    world.clock.advance(minutes=2)
    url = f"{API}/flash-sales/{created.json()['id']}/orders"
    headers = {**world.auth("buyer_a"), "Idempotency-Key": "flash-text-plain-1"}
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            url, content=b'{"quantity": 1}', headers={**headers, "Content-Type": content_type}
        )
        _refused(response, "body", 415)
    assert _rows(world, "flash_orders") == 0
    taken = client.post(url, json={"quantity": 1}, headers=headers)
    assert taken.status_code == 201, taken.text


def test_a_flash_order_for_a_sale_id_with_nul_is_422(world: World) -> None:
    response = world.client().post(
        f"{API}/flash-sales/{NUL_IN_PATH}/orders",
        json={"quantity": 1},
        headers={**world.auth("buyer_a"), "Idempotency-Key": "flash-nul-1"},
    )
    _refused(response, "sale_id")


# --- every route and every request schema ----------------------------------------------------------------


def test_every_path_and_text_query_parameter_refuses_nul(world: World) -> None:
    """Walks the OpenAPI document: NUL in each path parameter, then in each text query parameter, is a
    4xx (a 422 naming it once the caller may use the route); never a 500."""
    client = world.client()
    tried = 0
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            names = [p["name"] for p in parameters if p["in"] == "path"]
            queries = [p["name"] for p in parameters if p["in"] == "query" and _is_text(p["schema"])]
            for target in [*names, *queries]:
                url = path
                for name in names:
                    url = url.replace("{" + name + "}", NUL_IN_PATH if name == target else "x")
                params = {target: NUL} if target in queries else {}
                response = client.request(method, url, params=params, headers=world.auth("operator"))
                assert 400 <= response.status_code < 500, (method, url, target, response.text)
                if response.status_code == 422:
                    assert target in field_errors(response.json()), (method, url, response.text)
                tried += 1
    assert tried > 60


def _is_text(schema: dict[str, Any]) -> bool:
    """A string schema that is not a choice from a list (those refuse NUL already)."""
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and "enum" not in o for o in options)


def _request_models(world: World) -> list[type[BaseModel]]:
    world.client()  # every router imported
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [Request]
    while pending:
        model = pending.pop()
        found.append(model)
        pending += model.__subclasses__()
    return found[1:]


def _unchecked(annotation: Any, checked: bool) -> bool:
    """Whether some str in `annotation` goes without the `printable` validator."""
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        return _unchecked(base, checked or any(_is_printable(m) for m in metadata))
    if annotation is str:
        return not checked
    if typing.get_origin(annotation) is Literal:
        return False
    return any(_unchecked(arg, checked) for arg in typing.get_args(annotation))


def _is_printable(metadata: Any) -> bool:
    return isinstance(metadata, AfterValidator) and metadata.func is printable


def _unbounded_strings(schema: Any, path: str = "") -> list[str]:
    """Paths of string schemas with no maxLength (an enum or a date needs none, nor a Decimal's string,
    which the number's limits bound)."""
    if isinstance(schema, list):
        return [p for i, item in enumerate(schema) for p in _unbounded_strings(item, f"{path}[{i}]")]
    if not isinstance(schema, dict):
        return []
    if _has_number(schema.get("anyOf", [])):
        schema = {**schema, "anyOf": [o for o in schema["anyOf"] if o.get("type") != "string"]}
    exempt = {"enum", "const", "format", "maxLength"}
    own = [path] if schema.get("type") == "string" and not exempt & set(schema) else []
    return own + [p for key, value in schema.items() for p in _unbounded_strings(value, f"{path}.{key}")]


def _has_number(options: list[dict[str, Any]]) -> bool:
    return any(o.get("type") in ("number", "integer") for o in options)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_request_string_is_text_with_a_max_length(world: World) -> None:
    """The rule the schemas hold to, checked on all of them: each string is `Text` (no control characters)
    and says how long it may be."""
    unchecked, unbounded = [], []
    for model in _request_models(world):
        for name, field in model.model_fields.items():
            if _unchecked(field.annotation, any(_is_printable(m) for m in field.metadata)):
                unchecked.append(f"{model.__name__}.{name}")
        unbounded += [f"{model.__name__}{p}" for p in _unbounded_strings(model.model_json_schema())]
    assert unchecked == []
    assert unbounded == []
