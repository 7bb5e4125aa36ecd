"""Shipments in the console: the list (filters, cursor pages), one shipment with its tracking timeline
and its route on a map, and the customs holds. Each sees through the principal's eyes as the API does
(logistics.queries): a carrier only the shipments it carries a leg of, a seller its own; one shipment is
GET /api/v1/shipments/{id}'s own answer (the same 404 for one not the caller's); a buyer follows its
shipments from its orders (the lists answer it 403)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from entrepot.kernel.pagination import decode_cursor
from entrepot.logistics import api as logistics_api
from entrepot.logistics import queries, service
from entrepot.logistics.domain import MODES
from entrepot.logistics.routing import SERVICE_LEVEL_DAYS
from entrepot.logistics.schemas import ShipmentOut
from entrepot.platform.deps import Ctx, next_cursor
from entrepot.platform.schemas import CodeQuery, IdPath, Text
from entrepot.web.auth import Viewer
from entrepot.web.maps import Line, Map, Point
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE_SIZE = 25
CursorQuery = Annotated[Text | None, Query(max_length=64)]
BorderQuery = Annotated[str, Query(pattern="^(|yes|no)$")]


@router.get("/logistics/shipments")
def list_shipments(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    cursor: CursorQuery = None,
    status: CodeQuery = None,
    service_level: CodeQuery = None,
    origin: CodeQuery = None,
    destination: CodeQuery = None,
    cross_border: BorderQuery = "",
) -> Response:
    """Newest first; the filter form keeps its values, the next page link keeps the filters."""
    border = {"yes": True, "no": False}.get(cross_border)
    filters = queries.ShipmentFilter(status, service_level, origin, destination, border)
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        net = service.network(session)
        found = queries.list_shipments(session, viewer.principal, net, filters, decode_cursor(cursor), limit)
    shown = {
        "status": status or "",
        "service_level": service_level or "",
        "origin": origin or "",
        "destination": destination or "",
        "cross_border": cross_border,
    }
    return render(
        request,
        "logistics_shipments.html",
        shipments=found,
        filters=shown,
        statuses=queries.STATUSES,
        services=tuple(SERVICE_LEVEL_DAYS),
        next_cursor=next_cursor([s.id for s in found], limit),
        first_page=cursor is not None,
    )


@router.get("/logistics/shipments/{shipment_id}")
def shipment_page(request: Request, shipment_id: IdPath, ctx: Ctx, viewer: Viewer) -> Response:
    shipment = logistics_api.get_shipment(shipment_id, ctx, viewer.principal)
    return render(
        request,
        "logistics_shipment.html",
        shipment=shipment,
        route=_route_map(ctx, shipment, ctx.clock()),
    )


def _route_map(ctx: Ctx, shipment: ShipmentOut, now: dt.datetime) -> Map:
    """The shipment's legs on the map, coloured by mode; a leg not yet due to arrive is dashed."""
    with ctx.db.transaction() as session:
        net = service.network(session)
    stops = [shipment.origin, *(leg.destination for leg in shipment.legs)]
    seen = {scan["node"] for scan in shipment.scans if scan.get("node")}
    points = [
        Point(
            code,
            code,
            net.nodes[code].latitude,
            net.nodes[code].longitude,
            "scanned" if code in seen else "on the route",
        )
        for code in dict.fromkeys(stops)
        if code in net.nodes
    ]
    lines = [
        Line(
            f"Leg {i}: {leg.origin} - {leg.destination}",
            (leg.origin, leg.destination),
            leg.mode,
            dashed=leg.arrives_at > now and shipment.delivered_at is None,
            detail=f"{leg.carrier}, {leg.distance_km:,.0f} km",
        )
        for i, leg in enumerate(shipment.legs, 1)
    ]
    kinds = [k for k in ("scanned", "on the route") if any(p.group == k for p in points)]
    modes = [m for m in MODES if any(line.group == m for line in lines)]
    return Map(f"route-{shipment.id}", f"Route of {shipment.id}", points, lines, kinds, modes, "Stop", "Leg")


@router.get("/logistics/customs")
def customs_holds(request: Request, ctx: Ctx, viewer: Viewer, cursor: CursorQuery = None) -> Response:
    limit = min(PAGE_SIZE, ctx.settings.page_size_max)
    with ctx.db.transaction() as session:
        net = service.network(session)
        holds = queries.customs_holds(session, viewer.principal, net, decode_cursor(cursor), limit)
    return render(
        request,
        "logistics_customs.html",
        holds=holds,
        now=ctx.clock(),
        next_cursor=next_cursor([h.shipment.id for h in holds], limit),
        first_page=cursor is not None,
    )
