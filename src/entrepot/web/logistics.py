"""Logistics in the console: the network on a map, the route planner, shipments and customs holds.

The network map is for operators and carriers (whose lanes it shows; others 403). The planner asks the
logistics context's own route planning (POST /api/v1/logistics/routes' function, so the same rules,
answers and refusals, shown beside the form's fields) and plots the Pareto options: time against cost,
CO2e as colour. Shipments and customs holds are in web/logistics_shipments.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from entrepot.kernel.errors import DomainError
from entrepot.logistics import api as logistics_api
from entrepot.logistics import service
from entrepot.logistics.domain import MODES, NODE_KINDS, Lane, Network
from entrepot.logistics.routing import SERVICE_LEVEL_DAYS
from entrepot.logistics.schemas import RouteOut, RoutePlanOut, RouteQuery
from entrepot.platform.deps import Ctx
from entrepot.platform.schemas import CodeQuery
from entrepot.web import forms, logistics_shipments
from entrepot.web.auth import Viewer
from entrepot.web.charts import Scatter, ScatterPoint
from entrepot.web.forms import FormProblem
from entrepot.web.maps import Line, Map, Point
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FormText = Annotated[str, Query(max_length=64)]
NETWORK_ROLES = ("operator", "carrier")
SERVICES = tuple(SERVICE_LEVEL_DAYS)


@dataclass(frozen=True)
class ModeSummary:
    mode: str
    connections: int
    lanes: int
    carriers: list[str]


@router.get("/logistics")
def network_page(
    request: Request, ctx: Ctx, viewer: Viewer, mode: CodeQuery = None, country: CodeQuery = None
) -> Response:
    """Nodes by kind and the lanes between them by mode; a mode or a country narrows both, and then the
    connections are listed too (all of them, some 2,000, would make a table nobody reads)."""
    viewer.principal.require(*NETWORK_ROLES)
    with ctx.db.transaction() as session:
        net = service.network(session)
    lanes = [lane for lane in net.lanes_by_id.values() if _kept(net, lane, mode, country)]
    network_map = _network_map(net, lanes, country)
    return render(
        request,
        "logistics.html",
        network=network_map,
        summary=_summary(lanes),
        filters={"mode": mode or "", "country": country or ""},
        modes=[m for m in MODES if any(lane.mode == m for lane in net.lanes_by_id.values())],
        countries=sorted({n.country for n in net.nodes.values()}),
        listed=bool(mode or country),
    )


def _kept(net: Network, lane: Lane, mode: str | None, country: str | None) -> bool:
    if mode and lane.mode != mode:
        return False
    ends = (net.nodes[lane.origin].country, net.nodes[lane.destination].country)
    return not country or country in ends


def _network_map(net: Network, lanes: list[Lane], country: str | None) -> Map:
    """A line per pair of nodes and mode (both directions, every carrier), the nodes they join (and,
    unfiltered or by country, every node there)."""
    joined: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for lane in lanes:
        a, b = sorted((lane.origin, lane.destination))
        joined[(a, b, lane.mode)].add(lane.carrier)
    ends = {code for a, b, _ in joined for code in (a, b)}
    nodes = [n for n in net.nodes.values() if n.code in ends or (not lanes and n.country == country)]
    if not country and not lanes:
        nodes = list(net.nodes.values())
    points = [
        Point(n.code, n.code, n.latitude, n.longitude, n.kind, n.country)
        for n in sorted(nodes, key=lambda n: (NODE_KINDS.index(n.kind), n.country, n.code))
    ]
    lines = [
        Line(f"{a} - {b}", (a, b), mode, detail=", ".join(sorted(carriers)))
        for (a, b, mode), carriers in sorted(joined.items())
    ]
    kinds = [k for k in NODE_KINDS if any(p.group == k for p in points)]
    modes = [m for m in MODES if any(line.group == m for line in lines)]
    title = "The logistics network" + (f" in and out of {country}" if country else "")
    return Map("network", title, points, lines, kinds, modes, "Node", "Connection", "Country")


def _summary(lanes: list[Lane]) -> list[ModeSummary]:
    by_mode: dict[str, list[Lane]] = defaultdict(list)
    for lane in lanes:
        by_mode[lane.mode].append(lane)
    return [
        ModeSummary(
            mode,
            len({tuple(sorted((lane.origin, lane.destination))) for lane in found}),
            len(found),
            sorted({lane.carrier for lane in found}),
        )
        for mode in MODES
        if (found := by_mode.get(mode))
    ]


@router.get("/logistics/routes")
def route_planner(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    origin: FormText = "",
    destination: FormText = "",
    weight_kg: FormText = "",
    ready_at: FormText = "",
    service: FormText = "",
) -> Response:
    """The form (the API's RouteQuery: the same fields, names and rules) and, once sent, the options.
    A time without a zone is read as UTC, as the form's label says."""
    values = {
        "origin": origin,
        "destination": destination,
        "weight_kg": weight_kg,
        "ready_at": ready_at or ctx.clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M"),
        "service": service,
    }
    problem, status, plan = FormProblem(), 200, None
    if "origin" in request.query_params:
        try:
            plan = _plan(ctx, viewer, values)
        except DomainError as refused:
            problem, status = FormProblem.of(refused), refused.status
    return render(
        request,
        "logistics_routes.html",
        status,
        values=values,
        problem=problem,
        services=SERVICES,
        plan=plan,
        options=_options(plan) if plan else [],
        chart=_scatter(plan) if plan else None,
        routes_map=_routes_map(ctx, plan) if plan else None,
    )


def _plan(ctx: Ctx, viewer: Viewer, values: dict[str, str]) -> RoutePlanOut:
    ready = _in_utc(values["ready_at"].strip())
    body = forms.parse(
        RouteQuery,
        "the route cannot be planned as asked: see the fields marked",
        {
            "origin": values["origin"].strip(),
            "destination": values["destination"].strip(),
            "weight_kg": values["weight_kg"].strip(),
            "ready_at": ready or None,
            "service": values["service"] or None,
        },
    )
    return logistics_api.plan_route(body, ctx, viewer.principal)


def _in_utc(typed: str) -> str:
    """The browser's datetime-local (no zone) read as UTC, as the form's label says; a time with a zone,
    or text that is no time, goes to the API's rules as typed (and is refused there, beside the field)."""
    try:
        moment = dt.datetime.fromisoformat(typed)
    except ValueError:
        return typed
    return moment.replace(tzinfo=dt.UTC).isoformat() if moment.tzinfo is None else typed


@dataclass(frozen=True)
class Option:
    label: str
    route: RouteOut
    chosen: bool
    via: str


def _options(plan: RoutePlanOut) -> list[Option]:
    def same(route: RouteOut) -> bool:
        return plan.chosen is not None and route.model_dump() == plan.chosen.model_dump()

    return [
        Option(
            f"Option {i}",
            route,
            same(route),
            " · ".join(f"{leg.mode.replace('_', ' ')} to {leg.destination}" for leg in route.legs),
        )
        for i, route in enumerate(plan.pareto, 1)
    ]


def _scatter(plan: RoutePlanOut) -> Scatter:
    points = [
        ScatterPoint(f"Option {i}", r.days, r.cost_cents / 100, r.emissions_g / 1000)
        for i, r in enumerate(plan.pareto, 1)
    ]
    return Scatter(
        "route-options",
        f"Route options from {plan.origin} to {plan.destination}: time against cost, CO2e as colour",
        points,
        x_name="Days",
        y_name="Cost, USD",
        value_name="kg CO2e",
        label_name="Option",
    )


def _routes_map(ctx: Ctx, plan: RoutePlanOut) -> Map:
    """Each option's path (a colour per option), through the nodes its legs join."""
    with ctx.db.transaction() as session:
        net = service.network(session)
    stops = [plan.origin, *(leg.destination for r in plan.pareto for leg in r.legs)]
    nodes = [net.nodes[c] for c in dict.fromkeys(stops) if c in net.nodes]
    points = [Point(n.code, n.code, n.latitude, n.longitude, n.kind, n.country) for n in nodes]
    lines = [
        Line(f"Option {i}", [plan.origin, *(leg.destination for leg in r.legs)], f"Option {i}")
        for i, r in enumerate(plan.pareto, 1)
    ]
    title = f"The options' paths from {plan.origin} to {plan.destination}"
    # the legend names the options only: the nodes' kinds are in the table
    options = [line.group for line in lines]
    return Map("route-paths", title, points, lines, (), options, "Node", "Option", "Country")


router.include_router(logistics_shipments.router)
