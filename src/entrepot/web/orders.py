"""Orders: the list (filters, cursor pagination, as GET /api/v1/orders), one order with its state
timeline, and a refund with a confirmation step (as POST /api/v1/orders/{id}/refunds). Each page sees
through the principal's eyes (ordering.queries): another seller's order is a 404, a carrier's 403."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from entrepot.kernel.bounds import MAX_INT64
from entrepot.kernel.errors import DomainError, FieldError, ValidationFailed
from entrepot.kernel.money import Money, exact_minor, plain_major
from entrepot.kernel.pagination import decode_cursor
from entrepot.ordering import queries, service
from entrepot.ordering.models import ORDER_STATUSES, Order
from entrepot.ordering.schemas import RefundIn
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.platform.principal import Principal
from entrepot.platform.schemas import CodeQuery, IdPath, IdQuery, Text
from entrepot.web import auth, forms, order_actions
from entrepot.web.auth import CsrfField, Viewer
from entrepot.web.forms import FormProblem
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE_SIZE = 25
CursorQuery = Annotated[Text | None, Query(max_length=64)]


@router.get("/orders")
def list_orders(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    cursor: CursorQuery = None,
    status: CodeQuery = None,
    market: CodeQuery = None,
    seller: IdQuery = None,
    buyer: IdQuery = None,
) -> Response:
    """Newest first; the filter form keeps its values, the next page link keeps the filters."""
    filters = queries.OrderFilter(status or None, market or None, seller or None, buyer or None)
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        orders = queries.list_orders(session, viewer.principal, filters, decode_cursor(cursor), limit)
        details = queries.order_details(session, orders)
    shown = {
        "status": filters.status,
        "market": filters.market,
        "seller": filters.seller,
        "buyer": filters.buyer,
    }
    return render(
        request,
        "orders.html",
        details=details,
        filters={name: value or "" for name, value in shown.items()},
        statuses=ORDER_STATUSES,
        next_cursor=next_cursor([o.id for o in orders], limit),
        first_page=cursor is not None,
    )


@router.get("/orders/{order_id}")
def order_page(
    request: Request,
    order_id: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    refunded: Annotated[int | None, Query(ge=1, le=MAX_INT64, description="the refund just made")] = None,
    done: order_actions.DoneQuery = None,
) -> Response:
    with ctx.db.transaction() as session:
        order = queries.get_order(session, order_id, viewer.principal)
        detail = queries.order_detail(session, order)
        timeline = queries.order_timeline(session, order)
    actions = service.next_actions(order, ctx.clock())
    return render(
        request,
        "order.html",
        detail=detail,
        order=order,
        timeline=timeline,
        can_refund="refunds" in actions and _may_refund(viewer.principal),
        refunded=refunded,
        done=done,
        moves=order_actions.offered(viewer.principal, actions),
    )


def _may_refund(principal: Principal) -> bool:
    try:
        service.require_refunder(principal)
    except DomainError:
        return False
    return True


@router.get("/orders/{order_id}/refund")
def refund_form(request: Request, order_id: IdPath, ctx: Ctx, viewer: Viewer) -> Response:
    service.require_refunder(viewer.principal)  # a buyer: 403, as the API's refund route
    with ctx.db.transaction() as session:
        order = queries.get_order(session, order_id, viewer.principal)
    left = order.total_minor - order.refunded_minor
    amount = str(Money(left, order.currency).to_decimal())
    return _refund_page(request, order, viewer.csrf_token, {"amount": amount, "reason": ""})


def _refund_page(
    request: Request,
    order: Order,
    csrf: str,
    values: dict[str, str],
    status: int = 200,
    problem: FormProblem | None = None,
    confirm: bool = False,
) -> Response:
    return render(
        request,
        "refund.html",
        status,
        order=order,
        csrf=csrf,
        problem=problem or FormProblem(),
        confirm=confirm,
        values=values,
    )


@router.post("/orders/{order_id}/refund")
def refund(
    request: Request,
    order_id: IdPath,
    ctx: Ctx,
    viewer: Viewer,
    csrf: CsrfField = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
    step: Annotated[str, Form(pattern="^(review|confirm)$")] = "review",
) -> Response:
    """`review` shows what will be refunded and asks to confirm; `confirm` refunds, through the same
    service as the API, and goes back to the order. A refusal shows the form with the problem's field
    errors beside the fields, with the status the API would answer."""
    auth.check_csrf(viewer, csrf)
    service.require_refunder(viewer.principal)
    with ctx.db.transaction() as session:
        order = queries.get_order(session, order_id, viewer.principal)
    values = {"amount": amount, "reason": reason}
    try:
        body = _refund_body(order.currency, amount, reason)
        # what is confirmed is what will be refunded: '1_0' or other digits Decimal reads become '10.00'
        values = {"amount": plain_major(body.amount_minor, order.currency), "reason": body.reason}
        if step == "review":
            return _refund_page(request, order, viewer.csrf_token, values, confirm=True)
        with ctx.db.transaction() as session:
            service.refund(session, viewer.principal, order_id, body.amount_minor, body.reason, ctx.clock())
    except DomainError as problem:
        found = FormProblem.of(problem, {"amount_minor": "amount"}, {"amount_minor": "in minor units"})
        return _refund_page(request, order, viewer.csrf_token, values, problem.status, found)
    return RedirectResponse(f"/orders/{order_id}?refunded={body.amount_minor}", status_code=303)


def _refund_body(currency: str, amount: str, reason: str) -> RefundIn:
    """The API's refund body (RefundIn: the same rules for the reason) from the form's major-unit
    amount, which must be exact in the currency (no rounding of money a person typed)."""
    try:
        typed = Decimal(amount.strip())
        if not typed.is_finite():
            raise InvalidOperation
        minor = exact_minor(typed, currency)
    except (InvalidOperation, ValueError) as bad:
        message = str(bad) if isinstance(bad, ValueError) else "a number, e.g. 12.50"
        raise ValidationFailed("invalid refund", [FieldError("amount", message)]) from None
    return forms.parse(RefundIn, "invalid refund", {"amount_minor": minor, "reason": reason.strip()})
