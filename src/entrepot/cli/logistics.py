"""`entrepot logistics ...`: plan a route, track a shipment, load the demo network."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures, from_options, has_schema, require_schema
from entrepot.cli.output import stdout as console
from entrepot.logistics.domain import DEFAULT_PARCEL_CM

if TYPE_CHECKING:  # the planner (numba) and the services are imported by the commands that use them
    from entrepot.logistics.domain import Network
    from entrepot.logistics.routing import Route

app = typer.Typer(help="The logistics network: routes and shipments.", no_args_is_help=True)
# the options of `route` whose names are not the API's fields
ROUTE_OPTIONS = {
    "origin": "--from",
    "destination": "--to",
    "ready_at": "--ready",
    "length_cm": "--size-cm length",
    "width_cm": "--size-cm width",
    "height_cm": "--size-cm height",
}


def _network(url: str) -> tuple[Network, str]:
    """The network in the database, or the built-in demo network when none has been loaded (nor the
    schema made: that database is only read, and nothing is created in it)."""
    from sqlalchemy.exc import DBAPIError

    from entrepot.bootstrap import wire_emission_estimates
    from entrepot.logistics import service
    from entrepot.logistics.domain import Network
    from entrepot.logistics.network_data import demo_network
    from entrepot.platform.db import Database

    wire_emission_estimates()  # lanes weighed as the API weighs them, so routes and bounds agree with it
    net = Network()
    try:
        if has_schema(url):
            db = Database(url)
            try:
                with db.transaction() as session:
                    net = service.network(session)
            finally:
                db.dispose()
    except DBAPIError:  # out of reach: the built-in network still answers
        pass
    if net.nodes:
        return net, "the database's network"
    return demo_network(), "the built-in demo network (none loaded: `entrepot logistics seed`)"


def _resolve(net: Network, code: str, role: str) -> str:
    from entrepot.kernel.errors import ValidationFailed

    node = net.resolve(code)
    if node is not None:
        return node
    raise ValidationFailed(f"unknown {role} {code!r}: not a node code or an airport of the network")


@app.command("route")
def route(
    origin: Annotated[str, typer.Option("--from", help="node code or IATA airport code, e.g. HGH")],
    destination: Annotated[str, typer.Option("--to", help="node code or IATA airport code, e.g. MNL")],
    weight_kg: Annotated[float, typer.Option(help="above 0, at most 1000")],
    service_level: Annotated[
        str, typer.Option("--service", help="express, standard or economy")
    ] = "standard",
    objective: Annotated[str, typer.Option(help="cheapest or greenest")] = "cheapest",
    ready: Annotated[str | None, typer.Option(help="ISO time the parcel is ready, default now")] = None,
    size_cm: Annotated[
        tuple[float, float, float], typer.Option(help="length width height, each above 0 and at most 400")
    ] = DEFAULT_PARCEL_CM,  # the API's default too: the same request, the same price
    epsilon: Annotated[
        float | None,
        typer.Option(help="the cover's slack per criterion, 0 to 1 (default: the network's; 0: exact set)"),
    ] = None,
) -> None:
    """A (1+epsilon) cover of the Pareto-optimal routes over time, cost and emissions under the
    network's routing rules, and the one the service level picks."""
    from entrepot.kernel.errors import ValidationFailed
    from entrepot.logistics.domain import Parcel, to_minutes
    from entrepot.logistics.routing import PlanningError, choose, cover_terms, pareto_routes
    from entrepot.logistics.schemas import EPSILON_RANGE, RouteQuery

    with failures():  # the API's checks, so that both refuse the same requests
        query = from_options(
            RouteQuery,
            ROUTE_OPTIONS,
            origin=origin,
            destination=destination,
            weight_kg=weight_kg,
            length_cm=size_cm[0],
            width_cm=size_cm[1],
            height_cm=size_cm[2],
            ready_at=_ready_at(ready),
            service=service_level,
            objective=objective,
        )
        if epsilon is not None and not EPSILON_RANGE[0] <= epsilon <= EPSILON_RANGE[1]:  # the API's range
            raise ValidationFailed(
                f"--epsilon {epsilon:g} is not within {EPSILON_RANGE[0]:g}-{EPSILON_RANGE[1]:g}"
            )
    with failures():  # ENTREPOT_DATABASE_URL that is no URL: one line
        net, which = _network(get_settings().database_url)
        eps, rules = cover_terms(net, epsilon)
    start = query.ready_at or get_settings().make_clock()()
    parcel = Parcel(query.weight_kg, query.length_cm, query.width_cm, query.height_cm)
    with failures():
        a, b = _resolve(net, query.origin, "origin"), _resolve(net, query.destination, "destination")
    try:
        routes = pareto_routes(net, a, b, parcel, to_minutes(start), epsilon=eps, rules=rules)
        chosen = choose(routes, service_level, objective)
    except PlanningError as error:  # a valid request the network cannot carry: exit 1, not 2
        Console(stderr=True).print(f"[red]no route:[/red] {error.detail}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"{a} -> {b}, {weight_kg:g} kg, ready {start:%Y-%m-%d %H:%M} UTC, on {which}")
    console.print(_table(routes, chosen))
    console.print(
        f"cover: within (1+epsilon) of every Pareto-optimal route, epsilon time {eps[0]:g}, cost {eps[1]:g},"
        f" emissions {eps[2]:g}{' (the exact set)' if not any(eps) else ''}; rules: at most"
        f" {rules.max_legs or 'any number of'} legs, no node twice {_on(rules.no_node_twice)}, warehouses"
        f" only start {_on(rules.warehouses_start_only)}, stations only end {_on(rules.stations_end_only)}"
    )
    console.print(f"{service_level} ({objective}): {_summary(chosen)}")
    console.print(f"emissions by factor version {net.emissions_version}")


def _on(rule: bool) -> str:
    return "on" if rule else "off"


def _ready_at(text: str | None) -> dt.datetime | None:
    """The moment given, UTC when it names no zone; None for now."""
    from entrepot.kernel.errors import ValidationFailed

    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"--ready {text!r} is not an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _table(routes: list[Route], chosen: Route) -> Table:
    from entrepot.logistics.domain import from_minutes

    table = Table(title="Routes: a (1+epsilon) cover of the Pareto-optimal ones")
    for column in ("", "arrives (UTC)", "days", "cost USD", "kg CO2e", "legs"):
        table.add_column(column)
    for r in routes:
        legs = " > ".join(f"{leg.lane.mode}:{leg.lane.destination}" for leg in r.legs)
        table.add_row(
            "*" if r is chosen else "",
            f"{from_minutes(r.arrives):%Y-%m-%d %H:%M}",
            f"{r.minutes / 1440:.1f}",
            f"{r.cost_cents / 100:.2f}",
            f"{r.emissions_g / 1000:.3f}",
            legs,
        )
    return table


def _summary(r: Route) -> str:
    return f"{r.minutes / 1440:.1f} days, US${r.cost_cents / 100:.2f}, {r.emissions_g / 1000:.3f} kg CO2e"


@app.command("precompute")
def precompute(
    folder: Annotated[str, typer.Option(help="where the bounds are written")] = "var/routes",
    threads: Annotated[int, typer.Option(min=1, max=64, help="threads computing")] = 2,
) -> None:
    """Compute the planner's lower bounds towards every station's feeders and write them under the
    network's fingerprint; planners load them while the network is unchanged."""
    import time
    from pathlib import Path

    from entrepot.logistics import precompute as ahead

    started = time.perf_counter()
    with failures():
        net, which = _network(get_settings().database_url)
    console.print(f"{len(net.nodes):,} nodes, {net.lane_count:,} lanes, {which}")
    paths = ahead.build(net, Path(folder), threads=threads, progress=console.print)
    megabytes = sum(path.stat().st_size for path in paths) / 1e6
    console.print(
        f"precomputed {len(paths)} weight floors in {time.perf_counter() - started:.1f} s,"
        f" {megabytes:,.0f} MB, fingerprint {ahead.fingerprint(net)}"
    )


@app.command("track")
def track(shipment_id: str) -> None:
    """A shipment's status, ETA against its promise, legs and scans."""
    from entrepot.logistics import tracking_service as tracking
    from entrepot.platform.db import Database

    require_schema(get_settings().database_url)
    db = Database(get_settings().database_url)
    try:
        with failures(), db.transaction() as session:
            shipment = tracking.get_shipment(session, shipment_id)
            legs, scans = tracking.legs_of(session, shipment), tracking.scans_of(session, shipment)
    finally:
        db.dispose()
    console.print(
        f"{shipment.public_id} ({shipment.order_ref}): [bold]{shipment.status}[/bold], "
        f"ETA {shipment.eta:%Y-%m-%d %H:%M} UTC, promised by {shipment.promised_at:%Y-%m-%d %H:%M}"
    )
    for leg in legs:
        console.print(
            f"  {leg.seq}. {leg.mode:<9} {leg.origin} -> {leg.destination}  {leg.departs_at:%m-%d %H:%M}"
        )
    for scan in scans:
        console.print(f"  scan {scan.occurred_at:%m-%d %H:%M} {scan.type} at {scan.node or '-'}")


@app.command("seed")
def seed() -> None:
    """Load the built-in demo network (China, Southeast Asia and onward markets) into the database."""
    from entrepot.logistics import service
    from entrepot.logistics.network_data import demo_network
    from entrepot.platform.db import Database
    from entrepot.schema import upgrade

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        with failures():
            upgrade(settings.database_url)  # a setup command, like `db upgrade`: it may make the schema
            with db.transaction() as session:
                nodes, lanes = service.store_network(session, demo_network())
    finally:
        db.dispose()
    console.print(f"network loaded: {nodes} nodes, {lanes} lanes")
