"""`entrepot emissions ...`: reports, scenarios, targets, factor tables and versions; and the benchmark
command (`bench_emissions`, registered in the `bench` group). Thin wrappers over the services."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures, from_options, require_schema
from entrepot.cli.output import stdout as console

if TYPE_CHECKING:  # the services are imported by the commands that use them: `--help` starts fast
    from sqlalchemy.orm import Session

    from entrepot.emissions.targets import Levers, Target
    from entrepot.kernel.periods import FiscalCalendar

T = TypeVar("T")
app = typer.Typer(help="Transport emissions to ISO 14083: reports, targets, scenarios.", no_args_is_help=True)
factors_app = typer.Typer(help="Emission factor tables.", no_args_is_help=True)
targets_app = typer.Typer(help="Reduction targets.", no_args_is_help=True)
app.add_typer(factors_app, name="factors")
app.add_typer(targets_app, name="targets")


def _now() -> dt.datetime:
    return get_settings().make_clock()()


def _fiscal() -> FiscalCalendar:
    """The group's fiscal calendar (ENTREPOT_FISCAL_YEAR_END_MONTH), as the API's emissions routes use it."""
    from entrepot.kernel.periods import FiscalCalendar

    return FiscalCalendar(get_settings().fiscal_year_end_month)


def _in_transaction(work: Callable[[Session], T]) -> T:
    """`work` in one transaction on a database `entrepot db upgrade` made: a database without the schema
    is refused in one line (exit 2), never given one silently."""
    from entrepot.platform.db import Database

    settings = get_settings()
    require_schema(settings.database_url)
    db = Database(settings.database_url)
    try:
        with failures(), db.transaction() as session:
            return work(session)
    finally:
        db.dispose()


@app.command("report")
def report(
    period: Annotated[str, typer.Option(help="FY2025, FY2025-Q1, 2025, 2025-Q4, 2025-11, a..b")],
    by: Annotated[
        str | None, typer.Option(help="leg, shipment, order, seller, marketplace, division, market, mode")
    ] = None,
    version: Annotated[int | None, typer.Option(help="calculation version; default the newest")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Emissions over a period, by a dimension: WTW = TTW + WTT, t-km, parcels and intensities; local
    couriers' trips (their kg, km and deliveries) are in WTW and shown apart, the intensities being the
    parcel network's."""
    from entrepot.emissions import reports

    with failures():
        span = reports.period_of(period, _fiscal())
    result = _in_transaction(lambda s: reports.report(s, span, by, version, None, limit))
    table = Table(title=f"Emissions {span.label} ({span.start} to {span.stop}), version {result.version}")
    columns = ("kg CO2e WTW", "TTW", "WTT", "t-km", "parcels", "g/t-km", "g/parcel", "local kg", "local km")
    for column in (by or "", *columns, "deliveries"):
        table.add_column(column, justify="left" if column == (by or "") else "right")
    for row in [*result.rows, result.total]:
        t = row.totals
        g_tkm, g_parcel = t.metric("g_per_tkm"), t.metric("g_per_parcel")
        table.add_row(
            row.key,
            f"{t.wtw_mg / 1e6:,.3f}",
            f"{t.ttw_mg / 1e6:,.3f}",
            f"{t.wtt_mg / 1e6:,.3f}",
            f"{t.tkm:,.1f}",
            f"{t.parcels:,}",
            "-" if g_tkm is None else f"{g_tkm:,.1f}",
            "-" if g_parcel is None else f"{g_parcel:,.1f}",
            f"{t.local_wtw_mg / 1e6:,.3f}",
            f"{row.local_km:,.1f}",
            f"{row.deliveries:,}",
        )
    console.print(table)
    if result.truncated:
        console.print(f"[yellow]only the largest {limit} rows shown[/yellow]")
    if result.total.missing_factors:
        console.print(
            f"[yellow]{result.total.missing_factors} elements had no factor (counted as zero)[/yellow]"
        )


@app.command("scenario")
def scenario(
    period: Annotated[str, typer.Option(help="the period to recompute, e.g. FY2026")],
    shift_air: Annotated[float, typer.Option(min=0, max=1, help="share of air t-km shifted")] = 0.0,
    to: Annotated[str, typer.Option(help="sea or rail")] = "sea",
    lanes: Annotated[str, typer.Option(help="trade lanes, e.g. CN-SG,CN-MY (default all)")] = "",
    electric_vans: Annotated[
        float, typer.Option(min=0, max=1, help="electric share of last-mile vans")
    ] = 0.0,
    load_factor_gain: Annotated[float, typer.Option(min=0, max=3, help="0.1 = road loads 10 % fuller")] = 0.0,
    growth: Annotated[float, typer.Option(min=-0.5, max=1, help="activity growth a year (absolute)")] = 0.0,
    target: Annotated[str | None, typer.Option(help="a target id to project against")] = None,
    renewable_hubs: Annotated[
        str,
        typer.Option(
            help="renewable electricity at hubs: kind or site=share, e.g. sortation_hub=1,hub-sg=0.5"
        ),
    ] = "",
) -> None:
    """Recompute a period with levers pulled and project the target year against a target."""
    from entrepot.emissions import reports

    with failures():
        fiscal = _fiscal()
        span = reports.period_of(period, fiscal)
        levers = _levers(shift_air, to, lanes, electric_vans, load_factor_gain, growth, renewable_hubs)
    result = _in_transaction(lambda s: reports.scenario(s, span, levers, fiscal, target))
    base_kg, scen_kg = result.baseline.wtw_mg / 1e6, result.scenario_wtw_g / 1000
    change = f"{(scen_kg / base_kg - 1) * 100:+.1f} %" if base_kg else "-"
    console.print(
        f"{span.label}, version {result.version}: {base_kg:,.3f} kg CO2e -> {scen_kg:,.3f} kg ({change})"
    )
    console.print(
        f"  air shifted to {to}: {result.shifted_tkm:,.1f} t-km;"
        f" vans electrified: {result.electrified_tkm:,.1f} t-km;"
        f" hubs {result.baseline_hubs_g / 1000:,.3f} kg -> {result.scenario_hubs_g / 1000:,.3f} kg"
    )
    if result.not_shiftable:
        console.print(
            f"  [yellow]{result.not_shiftable} air legs had no {to} distance and stayed in the air[/yellow]"
        )
    if result.target is not None:
        projected = result.projected.get("target_year_value")
        goal = result.target.target_value
        if projected is None:
            console.print("  no figure to project: the period has no emissions")
            return
        verdict = "on track" if projected <= goal else "short of the target"
        console.print(
            f"  FY{result.target.target_year} projected {projected:,.2f} vs target {goal:,.2f}"
            f" {result.target.metric}: {verdict}"
        )


def _levers(
    shift_air: float,
    to: str,
    lanes: str,
    electric_vans: float,
    load_factor_gain: float,
    growth: float,
    renewable_hubs: str = "",
) -> Levers:
    from entrepot.emissions.targets import Levers
    from entrepot.kernel.errors import ValidationFailed

    chosen = frozenset(lane.strip().upper() for lane in lanes.split(",") if lane.strip())
    if any(not re.fullmatch(r"[A-Z]{2}-[A-Z]{2}", lane) for lane in chosen):
        raise ValidationFailed(f"--lanes {lanes!r}: give country pairs such as CN-SG,CN-MY")
    hubs = []
    for pair in (p.strip() for p in renewable_hubs.split(",") if p.strip()):
        where, _, share = pair.partition("=")
        try:
            hubs.append((where.strip(), float(share)))
        except ValueError:
            raise ValidationFailed(
                f"--renewable-hubs {pair!r}: give kind or site=share, e.g. hub-sg=0.5"
            ) from None
    try:
        return Levers(shift_air, to, chosen, electric_vans, load_factor_gain, growth, tuple(sorted(hubs)))
    except ValueError as error:
        raise ValidationFailed(str(error)) from None


@factors_app.command("load")
def factors_load(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    name: Annotated[str, typer.Option(help="the table's name; loading a name again makes its next version")],
    kind: Annotated[str, typer.Option(help="regional or carrier")] = "regional",
    countries: Annotated[
        str | None, typer.Option(help="ISO 3166 alpha-2 codes it applies in (CN,SG); required for regional")
    ] = None,
) -> None:
    """Load a factor table (CSV); all of it or, if any row is wrong, none of it (each bad row is listed).
    A regional table applies only to legs and hubs inside its countries."""
    from entrepot.emissions import service

    with failures():
        text = _utf8(path)
    row, number = _in_transaction(lambda s: service.load_table(s, name, kind, text, _now(), countries))
    console.print(f"loaded {row.name}@{row.version} ({row.rows} rows); calculation version {number}")


def _utf8(path: Path) -> str:
    from entrepot.kernel.errors import ValidationFailed

    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path} is not UTF-8") from None


@factors_app.command("list")
def factors_list() -> None:
    """The factor tables loaded, and the calculation versions."""
    from entrepot.emissions import versions as calculation

    def read(session: Session) -> list[str]:
        calculation.current_version(session, _now())
        tables = [
            f"{t.name}@{t.version} {t.kind} {t.rows} rows, loaded {t.loaded_at:%Y-%m-%d %H:%M}"
            for t in calculation.all_tables(session)
        ]
        return tables + [
            f"v{v.number}: {', '.join(v.tables)} ({v.reason})" for v in calculation.all_versions(session)
        ]

    for line in _in_transaction(read):
        console.print(line)


@targets_app.command("create")
def targets_create(
    name: Annotated[str, typer.Option()],
    metric: Annotated[str, typer.Option(help="absolute_t, g_per_tkm or g_per_parcel")] = "absolute_t",
    baseline_year: Annotated[int, typer.Option(help="fiscal year")] = 2022,
    target_year: Annotated[int, typer.Option()] = 2030,
    reduction: Annotated[float, typer.Option(help="0.5 = -50 %")] = 0.5,
    baseline_value: Annotated[
        float | None, typer.Option(help="an imported baseline; default: measured (or built) from the data")
    ] = None,
    baseline_source: Annotated[str | None, typer.Option(help="where an imported baseline comes from")] = None,
) -> None:
    """A reduction target (default: -50 % by FY2030 against FY2022)."""
    from entrepot.emissions import reports
    from entrepot.emissions.schemas import TargetIn

    with failures():  # the API's checks: years 1990-2100, a name of 1-120, finite numbers
        wanted = from_options(
            TargetIn,
            name=name,
            metric=metric,
            baseline_year=baseline_year,
            target_year=target_year,
            reduction=reduction,
            baseline_value=baseline_value,
            baseline_source=baseline_source,
        )
    row = _in_transaction(
        lambda s: reports.create_target(
            s,
            wanted.name,
            wanted.metric,
            _now(),
            wanted.baseline_year,
            wanted.target_year,
            wanted.reduction,
            wanted.baseline_value,
            wanted.baseline_source,
        )
    )
    console.print(
        f"{row.public_id}: {row.name}, {row.metric} -{row.reduction:.0%}"
        f" by FY{row.target_year} vs FY{row.baseline_year}"
    )


@targets_app.command("progress")
def targets_progress(target: str) -> None:
    """Each fiscal year's pathway value, actual and on-track status."""
    from entrepot.emissions import reports

    fiscal = _fiscal()

    def read(session: Session) -> tuple[Target, list[reports.YearStatus]]:
        return reports.progress(session, reports.get_target(session, target), _now().date(), fiscal)

    goal, years = _in_transaction(read)
    console.print(
        f"baseline {goal.baseline_value:,.2f}: {goal.baseline_basis}", soft_wrap=True, highlight=False
    )
    for year in years:
        actual = "-" if year.actual is None else f"{year.actual:,.2f}"
        status = {None: "", True: "on track", False: "off track"}[year.on_track]
        console.print(f"FY{year.year}  pathway {year.pathway:,.2f}  actual {actual}  {status}")


@app.command("backfill")
def backfill() -> None:
    """Record the emissions of shipments planned (and local couriers' trips finished) before emissions
    accounting was running; then, if the package's default tables (the hub intensities and the couriers'
    modes among them) or the chains' hub operations are newer than the stored ones, recompute every
    shipment and trip as a new calculation version (earlier versions keep their figures: `report
    --version N` reads them)."""
    from entrepot.emissions import local_trips, service
    from entrepot.emissions.events import backfill as record_missing

    count = _in_transaction(lambda s: record_missing(s, _now()))
    trips = _in_transaction(lambda s: local_trips.backfill(s, _now()))
    if trips:
        console.print(f"{trips} local trips recorded")
    done = _in_transaction(lambda s: service.backfill(s, _now()))
    if done is None:
        console.print(f"{count} shipments recorded; factor tables and hub operations up to date")
        return
    tables = ", ".join(done.tables) or "no table"
    console.print(
        f"{count} shipments recorded; calculation version {done.version}: {tables} stored, "
        f"{done.hubs_added} hub operations added, {done.shipments} shipments recomputed",
        soft_wrap=True,
        highlight=False,
    )


def bench_emissions(
    legs: Annotated[int, typer.Option(min=1, max=50_000_000, help="legs to compute")] = 1_000_000,
    reference_legs: Annotated[
        int, typer.Option(min=1, help="legs the row-by-row reference computes (its speed is per leg)")
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="seed of the drawn legs")] = 7,
) -> None:
    """ISO 14083 emissions of a million legs, vectorised, against the row-by-row library; prints
    `emissions legs=... seconds=... legs_per_s=... reference_ratio=...` last."""
    from entrepot.emissions.bench import run

    if not run(console, legs, reference_legs, seed):
        raise typer.Exit(1)
