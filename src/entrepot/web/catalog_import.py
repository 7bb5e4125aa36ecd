"""A seller's catalog CSV import in the browser, through the service POST /api/v1/catalog/import calls
(catalog.service.import_catalog_csv, with inventory's stock port for the optional stock columns). All
or nothing, as the API's default: a file with any bad row imports nothing and the page lists each bad
row's line, column and problem; a good file imports and the page counts what was created and set.

A seller imports into its own catalog; an operator names the seller (?seller=, from the seller's page),
as the API's `seller` parameter; a seller naming another is refused (403, as the API). The file's size
is limited below the application's body limit, so that a file too large is a field error on the form
rather than the body limit's bare 413."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import CSV_COLUMNS, STOCK_COLUMNS
from entrepot.catalog.models import Seller
from entrepot.inventory import service as inventory
from entrepot.kernel.bounds import ID_LENGTH
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.kernel.money import plain_major
from entrepot.organization import service as organization
from entrepot.platform.deps import AppContext, Ctx
from entrepot.platform.schemas import IdQuery, Text
from entrepot.web import auth
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
IMPORT_MAX_BYTES = 512 * 1024  # a few thousand rows; a larger catalog goes in several files or the API
ALL_MARKETS = 10_000
SellerField = Annotated[Text, Form(max_length=ID_LENGTH)]  # printable and bounded, as the API's query
FileField = Annotated[UploadFile | None, File(description="the catalog CSV")]


@dataclass(frozen=True)
class RowProblem:
    """One line of the error report: the file's line (the header is line 1), the column, the problem."""

    line: int
    column: str
    message: str


def upload_limit(ctx: AppContext) -> int:
    """The largest file the form takes: well inside the application's body limit (the form's other
    fields and the multipart framing share it), so the page can answer a too-large file itself."""
    return min(IMPORT_MAX_BYTES, ctx.settings.max_body_bytes // 2)


@router.get("/catalog/import")
def import_form(request: Request, ctx: Ctx, viewer: Viewer, seller: IdQuery = None) -> Response:
    """The form; an operator without a seller chooses one from the sellers list first."""
    catalog.seller_scope(viewer.principal)  # buyers and carriers: 403, as the catalog's views
    if viewer.principal.is_operator and not seller:
        return RedirectResponse("/sellers", status_code=303)
    with ctx.db.transaction() as session:
        acting = catalog.acting_seller(session, viewer.principal, seller or None)
    return _page(request, ctx, viewer, acting)


def _page(
    request: Request,
    ctx: AppContext,
    viewer: Viewer,
    seller: Seller,
    status: int = 200,
    problem: FormProblem | None = None,
    rows: list[RowProblem] | None = None,
    report: catalog.ImportReport | None = None,
) -> Response:
    limit = upload_limit(ctx)
    return render(
        request,
        "catalog_import.html",
        status,
        seller=seller,
        csrf=viewer.csrf_token,
        for_operator=viewer.principal.is_operator,
        limit_kb=limit // 1024,
        limit_bytes=limit,
        too_large=too_large(limit),
        columns=CSV_COLUMNS,
        stock_columns=STOCK_COLUMNS,
        problem=problem or FormProblem(),
        rows=rows or [],
        report=report,
    )


@router.post("/catalog/import")
def import_file(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    seller: SellerField = "",
    file: FileField = None,
) -> Response:
    """Import the file, or show why not (nothing written). The service validates every row before it
    writes one, and returns the bad rows' report without writing: the transaction commits nothing."""
    auth.check_csrf(viewer, csrf)
    catalog.seller_scope(viewer.principal)
    with ctx.db.transaction() as session:
        acting = catalog.acting_seller(session, viewer.principal, seller or None)
    try:
        text = _read(file, upload_limit(ctx))
        with ctx.db.transaction() as session:
            # read again in the import's own transaction; `acting` (read before) is what the page
            # shows, which a rolled-back transaction would have expired
            importer = catalog.acting_seller(session, viewer.principal, seller or None)
            stock = inventory.CatalogStock(session)
            report = catalog.import_catalog_csv(session, importer, text, False, ctx.clock(), stock)
    except DomainError as problem:
        if problem.status in (403, 404):
            raise
        return _page(request, ctx, viewer, acting, problem.status, _file_problem(problem))
    if report.errors:
        detail = f"{len(report.errors)} of {report.rows} rows are invalid; nothing was imported."
        refused = FormProblem("Invalid rows", detail)
        return _page(request, ctx, viewer, acting, 422, refused, _row_problems(report))
    return _page(request, ctx, viewer, acting, report=report)


def _row_problems(report: catalog.ImportReport) -> list[RowProblem]:
    """The service's report of bad rows ({"line": 3, "errors": [{"field", "message"}]}, as the API
    answers it) as the page's table: a line per problem."""
    found = []
    for entry in report.errors:
        errors = entry["errors"]
        assert isinstance(errors, list)
        found += [RowProblem(int(str(entry["line"])), str(e["field"]), str(e["message"])) for e in errors]
    return found


def _read(file: UploadFile | None, limit: int) -> str:
    """The uploaded file's text, at most `limit` bytes of UTF-8 (a byte-order mark is dropped, as the
    API's import does): anything else is a field error on the file."""
    if file is None or not file.filename:
        raise _file_error("choose a CSV file to import")
    raw = file.file.read(limit + 1)
    if len(raw) > limit:
        raise _file_error(too_large(limit))
    if not raw.strip():
        raise _file_error("the file is empty")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("the file is not UTF-8 text: save the CSV as UTF-8") from None


def too_large(limit: int) -> str:
    """What a file over the limit is told, by the page and by its script before sending (the same words)."""
    return f"the file is larger than {limit // 1024} KB: split it, or use the API"


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed("the file cannot be imported", [FieldError("file", message)])


def _file_problem(problem: DomainError) -> FormProblem:
    """A refusal of the whole file, said beside the file input: a missing column ('file'), a field too
    long or holding a control character ('line 3.title', from kernel.bounds.BoundedCsv), a row that
    conflicts with the catalog (409)."""
    fields: dict[str, list[str]] = {}
    for error in problem.field_errors:
        message = error.message if error.field == "file" else f"{error.field}: {error.message}"
        fields.setdefault("file", []).append(message)
    if not fields:
        fields["file"] = [problem.detail]
    return FormProblem(problem.title, problem.detail, fields)


@router.get("/catalog/import/template.csv")
def template_csv(ctx: Ctx, viewer: Viewer, seller: IdQuery = None) -> Response:
    """The columns the import expects, with an example row in one of the seller's markets (its
    currency's decimals) and, when there is one in the seller's country, a warehouse for the stock."""
    catalog.seller_scope(viewer.principal)
    with ctx.db.transaction() as session:
        acting = catalog.acting_seller(session, viewer.principal, seller or None)
        example = _example_row(session, acting)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*CSV_COLUMNS, *STOCK_COLUMNS], lineterminator="\n")
    writer.writeheader()
    writer.writerow(example)
    headers = {
        "Content-Disposition": 'attachment; filename="catalog-template.csv"',
        "Cache-Control": "no-store",
    }
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _example_row(session: Session, seller: Seller) -> dict[str, str]:
    units = catalog.seller_marketplace_ids(session, seller.id)
    markets = sorted(
        (m.code, m.currency)
        for m, _ in organization.list_markets(session, None, None, ALL_MARKETS)
        if m.business_unit_id in units
    )
    market, currency = markets[0] if markets else ("", "")
    homes = inventory.list_warehouses(session, seller.country, None, 1)
    row = {
        "product_ref": "EXAMPLE-1",
        "title": "Example product: replace this row",
        "category": "home",
        "hs_code": "392690",
        "origin_country": seller.country,
        "sku_code": "EXAMPLE-1-RED",
        "weight_g": "250",
        "length_mm": "200",
        "width_mm": "100",
        "height_mm": "50",
        "market": market,
        "price": plain_major(1290, currency) if currency else "",
        "currency": currency,
        "stock": "25" if homes else "",
        "warehouse": homes[0].code if homes else "",
    }
    return row
