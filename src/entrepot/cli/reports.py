"""`entrepot report ...` and `entrepot bench reports`: thin wrappers over the reporting services."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures, from_options
from entrepot.cli.output import stdout as console

T = TypeVar("T")

app = typer.Typer(
    help="Group reporting: GMV, revenue, growth, active consumers, targets.", no_args_is_help=True
)
FORMATS = ("table", "csv", "parquet", "json")

By = Annotated[str, typer.Option("--by", help="dimensions, comma-separated: segment,market,...")]
Period = Annotated[str, typer.Option(help="FY2022, FY2022Q3, 2021-12, LTM2021-09 or 2021-12-24")]
Grain = Annotated[str, typer.Option("--every", help="day, month, quarter, year or total")]
View = Annotated[str, typer.Option(help="as-reported or recast")]
RecastOn = Annotated[str | None, typer.Option(help="recast under the structure of this day (YYYY-MM-DD)")]
Currency = Annotated[str, typer.Option(help="ISO 4217 code to translate into")]
Fx = Annotated[str, typer.Option("--fx", help="transaction-date or period-average")]
Format = Annotated[str, typer.Option("--format", help="table, csv, parquet or json")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="file for parquet (csv/json: stdout)")]
Engine = Annotated[str, typer.Option(help="duckdb (embedded) or spark (needs the spark extra)")]


def register(main: typer.Typer, bench: typer.Typer) -> None:
    from entrepot.cli import accounts

    main.add_typer(app, name="report")
    accounts.register(app)
    bench.command("reports")(bench_reports)


def _snapshot_dir() -> Path:
    return Path(get_settings().reporting_snapshot_dir)


def _clock() -> Any:
    """The one clock: pinned by ENTREPOT_CLOCK, else the system's."""
    return get_settings().make_clock()


def _fiscal() -> Any:
    from entrepot.reporting.domain import FiscalCalendar

    return FiscalCalendar(get_settings().fiscal_year_end_month)


def _fx(snap: Any) -> Any:
    """The ECB's rates, plus the operator's from the database for the snapshot's other currencies."""
    from entrepot.kernel.fx import FxRates, load_ecb
    from entrepot.reporting.service import with_operator_rates

    settings = get_settings()
    ecb = FxRates(load_ecb(settings.fx_ecb_file), settings.fx_max_staleness_days)
    return _from_store(lambda db: with_operator_rates(db, ecb, snap), ecb)


def _definitions() -> dict[str, Any]:
    """The GMV definition of each business unit, from the database when it has the table."""
    from entrepot.reporting import plans
    from entrepot.reporting.domain import definition_named

    def read(db: Any) -> dict[str, Any]:
        with db.transaction() as session:
            return {u: definition_named(d) for u, d in plans.definitions(session).items()}

    return _from_store(read, {})


def _from_store(read: Callable[[Any], T], otherwise: T) -> T:
    """What `read` finds in the database, or `otherwise` when the database is out of reach or has no
    Entrepot schema yet: a snapshot can be reported on without its store. Anything else is an error."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from entrepot.cli.errors import MISSING_TABLE
    from entrepot.platform.db import Database

    db = Database(get_settings().database_url)
    try:
        return read(db)
    except OperationalError:  # unreachable, or SQLite's "no such table"
        return otherwise
    except ProgrammingError as exc:  # PostgreSQL's "relation ... does not exist"; other errors stand
        if MISSING_TABLE.search(str(exc.orig)):
            return otherwise
        raise
    finally:
        db.dispose()


def _request(
    period: str,
    by: str,
    grain: str,
    view: str,
    recast_on: str | None,
    currency: str,
    fx: str,
    engine: str = "duckdb",
) -> Any:
    """The report's parameters as the API defines them (reporting.params): the same values refused the
    same way, each named by its option."""
    from entrepot.reporting.params import ReportParams

    options = {"every": "--every", "fx": "--fx", "recast_on": "--recast-on"}
    values = {"by": by, "every": grain, "view": view, "recast_on": recast_on, "currency": currency}
    return from_options(ReportParams, options, period=period, fx=fx, engine=engine, **values).request()


def emit(report: Any, fmt: str, output: Path | None) -> None:
    from entrepot.kernel.errors import ValidationFailed

    if fmt not in FORMATS:
        raise ValidationFailed(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    rows = report.rows()
    header = _header(report)
    if fmt == "table":
        headings = [TABLE_HEADINGS.get(c, c) for c in report.columns]
        table = Table(*headings, title=report.metric, caption=header)
        for row in rows:
            table.add_row(*(_cell(c, row.get(c, "")) for c in report.columns))
        console.print(table)
    elif fmt == "json":
        sys.stdout.write(json.dumps({"meta": report.meta, "rows": rows}, indent=1, default=str) + "\n")
    elif fmt == "csv":
        buffer = io.StringIO()
        buffer.write("".join(f"# {line}\n" for line in header.splitlines()))
        writer = csv.DictWriter(buffer, report.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        if output is None:
            raise ValidationFailed("--format parquet needs --output FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        meta = {b"entrepot.report": json.dumps(report.meta, default=str).encode()}
        table = pa.Table.from_pylist(rows).replace_schema_metadata(meta)
        try:
            pq.write_table(table, output)
        except OSError as exc:  # no such folder, no permission, a folder in the way
            raise ValidationFailed(f"cannot write {output}: {exc.strerror or exc}") from None
        console.print(f"{len(rows)} rows written to {output}")


# A row's coverage as the reports write it: "partial: 2025-12-01 to 2025-12-15 (15 of 365 days)".
# Shorter headings in the table (columns keep their names in the other formats).
TABLE_HEADINGS = {"coverage": "covers", "prior_coverage": "prior covers"}
PARTIAL_LABEL = re.compile(r"partial: \S+ to \S+ \((\d+) of (\d+) days\)")


def _cell(column: str, value: Any) -> str:
    """A value as the table prints it; a partial coverage shortened to its days, "15/365d" (the caption
    and the other formats give its dates), so that the table keeps to the terminal's width."""
    text = str(value)
    if column in ("coverage", "prior_coverage"):
        match = PARTIAL_LABEL.fullmatch(text)
        if match:
            return f"{match[1]}/{match[2]}d"
    return text


def _header(report: Any) -> str:
    meta = report.meta
    fresh = meta.get("data_freshness", {})
    lines = [f"period {meta.get('period')} ({meta.get('from')} to {meta.get('to')})"]
    if "view" in meta:
        recast = (
            f" on the structure of {meta['recast_structure_on']}" if "recast_structure_on" in meta else ""
        )
        lines.append(f"view {meta['view']}{recast}; {meta.get('currency')} at {meta.get('fx_method')} rates")
    definitions = meta.get("definitions", {})
    lines += [f"definition {d}" for d in sorted(set(definitions.values()))]
    lines += meta.get("notes", [])
    lines += [
        _coverage_line(meta[key], when)
        for key, when in (("coverage", ""), ("prior_coverage", "prior "))
        if key in meta
    ]
    lines += [
        _provisional_line(meta[key], when)
        for key, when in (
            ("provisional_fx", ""),
            ("prior_provisional_fx", "prior period: "),
            ("constant_currency_provisional_fx", "at constant currency: "),
        )
        if meta.get(key, {}).get("orders") or meta.get(key, {}).get("shipments")
    ]
    if "rule" in meta:
        lines.append(f"the platform's figures cover {meta['platform_covers']}; rule: {meta['rule']}")
    lines.append(f"data as of {fresh.get('refreshed_at')} ({fresh.get('source')})")
    return "\n".join(lines)


def _coverage_line(coverage: dict[str, Any], when: str) -> str:
    """One line on how much of the period the data covers; a partial period says so in capitals."""
    status = coverage["status"]
    if status == "full":
        return f"{when}period {coverage['period']}: the data covers it whole"
    if status == "no data":
        return f"{when}period {coverage['period']}: NO DATA in it"
    labels = coverage.get("units", {})
    partial = sorted(u for u, label in labels.items() if label != "full")
    some = partial and len(partial) < len(labels)  # when all are partial, the dates say it all
    units = f" (units not covering it whole: {', '.join(partial)})" if some else ""
    return (
        f"{when}period {coverage['period']} is PARTIAL: data from {coverage['first_day']} to "
        f"{coverage['last_day']}, {coverage['days']} of {coverage['period_days']} days{units}"
    )


def _provisional_line(counts: dict[str, Any], when: str) -> str:
    shipments = f" and {counts['shipments']:,} shipments' fees" if counts.get("shipments") else ""
    return (
        f"{when}PROVISIONAL FX: {counts['lines']:,} lines of {counts['orders']:,} orders{shipments} "
        f"translated at provisional rates ({counts['rule']})"
    )


def _run(make: Callable[[Any], Any], fmt: str, output: Path | None, engine: str = "duckdb") -> None:
    from entrepot.reporting.engine import backend
    from entrepot.reporting.service import Snapshot

    with failures():
        report = make(Snapshot(_snapshot_dir(), backend(engine), clock=_clock()))
        emit(report, fmt, output)


@app.command("gmv")
def gmv(
    by: By = "",
    period: Period = "FY2022",
    every: Grain = "total",
    view: View = "recast",
    recast_on: RecastOn = None,
    currency: Currency = "USD",
    fx: Fx = "transaction-date",
    fmt: Format = "table",
    output: Output = None,
    engine: Engine = "duckdb",
) -> None:
    """GMV by dimensions, each figure labelled with the definition that produced it."""
    from entrepot.reporting.service import gmv_report

    def make(snap: Any) -> Any:
        request = _request(period, by, every, view, recast_on, currency, fx, engine)
        return gmv_report(snap, request, _fiscal(), _fx(snap), _definitions())

    _run(make, fmt, output, engine)


@app.command("revenue")
def revenue(
    by: By = "",
    period: Period = "FY2022",
    every: Grain = "total",
    view: View = "recast",
    recast_on: RecastOn = None,
    currency: Currency = "USD",
    fx: Fx = "transaction-date",
    fmt: Format = "table",
    output: Output = None,
    engine: Engine = "duckdb",
) -> None:
    """Revenue lines: marketplace commission, logistics fees, local services' fees and commissions."""
    from entrepot.reporting.service import revenue_report

    def make(snap: Any) -> Any:
        request = _request(period, by, every, view, recast_on, currency, fx, engine)
        return revenue_report(snap, request, _fiscal(), _fx(snap))

    _run(make, fmt, output, engine)


@app.command("growth")
def growth(
    by: By = "",
    period: Period = "FY2022",
    view: View = "recast",
    currency: Currency = "USD",
    fx: Fx = "period-average",
    fmt: Format = "table",
    output: Output = None,
) -> None:
    """Year-on-year GMV growth: reported = constant currency + FX effect (constant currency: the prior
    period's average rates, or with --fx transaction-date each day at the same day's rate a year earlier)."""
    from entrepot.reporting.service import growth_report

    def make(snap: Any) -> Any:
        request = _request(period, by, "total", view, None, currency, fx)
        return growth_report(snap, request, _fiscal(), _fx(snap), _definitions())

    _run(make, fmt, output)


@app.command("active-consumers")
def active_consumers(period: Period = "FY2022", fmt: Format = "table", output: Output = None) -> None:
    """Annual active consumers per business unit and for the group, de-duplicated across units."""
    from entrepot.reporting.service import active_consumers_report

    _run(lambda snap: active_consumers_report(snap, period, _fiscal(), _definitions()), fmt, output)


def _platform() -> Any:
    """The platform's own figures, when there is a snapshot (else targets start from published ones)."""
    from entrepot.kernel.errors import NotFound
    from entrepot.reporting.history import PlatformFigures
    from entrepot.reporting.service import Snapshot

    try:
        snap = Snapshot(_snapshot_dir(), clock=_clock())
        return PlatformFigures(snap, _fiscal(), _fx(snap), _definitions())
    except NotFound:
        return None


@app.command("history")
def metric_history(
    first: Annotated[str, typer.Option(help="the first period: FY2019, FY2022Q1 or 2021-04")],
    last: Annotated[str, typer.Option(help="the last period, of the same kind as the first")],
    metric: Annotated[str, typer.Option(help="gmv or revenue")] = "gmv",
    by: Annotated[
        str, typer.Option("--by", help="group, segment, division or business_unit")
    ] = "business_unit",
    view: View = "recast",
    currency: Currency = "USD",
    fmt: Format = "table",
    output: Output = None,
) -> None:
    """A metric per unit over periods: published figures before the platform ran, the platform's after,
    each row labelled external or platform, no period counted twice."""
    from entrepot.platform.db import Database
    from entrepot.reporting.history import PlatformFigures, history

    def make(snap: Any) -> Any:
        platform = PlatformFigures(snap, _fiscal(), _fx(snap), _definitions(), view=view)
        db = Database(get_settings().database_url)
        try:
            with db.transaction() as session:
                return history(session, platform, metric, by, first, last, currency)
        finally:
            db.dispose()

    _run(make, fmt, output)


@app.command("snapshot")
def snapshot(
    compact: Annotated[
        bool,
        typer.Option("--compact", help="only merge each table's parts into one (refreshes do so past 16)"),
    ] = False,
) -> None:
    """Bring the Parquet snapshot up to date with the database (only what changed since the last run)."""
    from entrepot.platform.db import Database
    from entrepot.reporting.snapshot import compact_snapshot, refresh

    if compact:
        with failures():
            merged = compact_snapshot(_snapshot_dir())
        done = ", ".join(f"{t} {n} parts into 1" for t, n in merged.items()) or "nothing to merge"
        console.print(f"snapshot {_snapshot_dir()}: {done}")
        return
    db = Database(get_settings().database_url)
    with failures(), db.transaction() as session:
        result = refresh(session, _snapshot_dir(), _clock()())
    db.dispose()
    added = ", ".join(f"{n} {t}" for t, n in result.new_rows.items())
    console.print(
        f"snapshot {_snapshot_dir()} refreshed at {result.refreshed_at:%Y-%m-%d %H:%M:%S} UTC: {added}"
    )


@app.command("scenario")
def scenario() -> None:
    """Load the group-facts scenario (published actuals, Lazada's target, FY2022 guidance, Ant Group, the
    social programmes) and show it with the segment results and Cainiao's revenue abroad."""
    from entrepot.cli.accounts import show_scenario_accounts
    from entrepot.platform.db import Database
    from entrepot.reporting import plans
    from entrepot.reporting.accounts import scenario as accounts_scenario

    platform = _platform()  # before the write transaction: it reads the database too
    db = Database(get_settings().database_url)
    with failures(), db.transaction() as session:
        _ensure_organisation(session)
        accounts_scenario.load(session, _fiscal(), _clock()())
        for target in plans.targets(session):
            s = plans.target_status(session, target, platform)
            source = "external" if s.latest_external else "platform"
            covers = f"; the platform's data covers {s.platform_covers}" if s.platform_covers else ""
            console.print(
                f"target {target.scope} {target.metric} {target.value_minor // 100:,} {target.currency}"
                f" by {target.due_on}: from {s.latest_period} ({source}{covers}) needs"
                f" {s.required_cagr_pct} % a year over {s.years:.2f} years; {s.status}"
            )
        g = plans.guidance_status(session, "revenue", "commerce-group", "FY2022", _fiscal())
        bands = "; ".join(
            f"{r['issued_on']} {r['low_pct']}-{r['high_pct']} %: {r['actual_vs_band']}"
            for r in g["revisions"]
        )
        console.print(f"FY2022 revenue growth {g['actual_growth_pct']} % (external) vs guidance {bands}")
        for a in plans.actuals(session, "revenue"):
            if a.period == "FY2022Q3":
                console.print(
                    f"FY2022Q3 revenue {a.scope}: {a.currency} {a.value_minor // 100_000_000:,} m (external)"
                )
        show_scenario_accounts(session, _fiscal())
    db.dispose()


def _ensure_organisation(session: Any) -> None:
    """The published figures name units of the reported organisation: on a store without one (no demo
    loaded), the scenario seeds the group as it was reported before and after the reorganisation."""
    from entrepot.organization import service as organization
    from entrepot.simulation.demo import seed_organisation

    if organization.find_unit(session, "commerce-group") is None:
        seed_organisation(session, _clock()())


@app.command("import-actuals")
def import_actuals(path: Path) -> None:
    """Import published actuals (CSV: metric,scope,period,currency,value,source), marked external."""
    from entrepot.platform.db import Database
    from entrepot.reporting import plans

    with failures():
        text = _read_text(path)
    db = Database(get_settings().database_url)
    with failures(), db.transaction() as session:
        count = plans.import_actuals_csv(session, text, _fiscal(), _clock()())
    db.dispose()
    console.print(f"{count} external actuals imported")


def _read_text(path: Path) -> str:
    """The file's text, or a ValidationFailed that says plainly why it cannot be read."""
    from entrepot.kernel.errors import ValidationFailed

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationFailed(f"no such file {path}") from None
    except IsADirectoryError:
        raise ValidationFailed(f"{path} is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None


def bench_reports(
    rows: Annotated[int, typer.Option(help="order lines in the synthetic snapshot")] = 10_000_000,
    folder: Annotated[Path, typer.Option(help="where synthetic snapshots are kept and reused")] = Path(
        "var/bench-reports"
    ),
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit")] = "6GB",
    threads: Annotated[int, typer.Option(help="DuckDB threads")] = 2,
    by_date_baseline: Annotated[
        bool,
        typer.Option(help="also time both reports on a copy in day order (written once, ~2 GB at 100 M)"),
    ] = False,
) -> None:
    """GMV segment x fiscal quarter (recast) and LTM GMV per seller over a synthetic snapshot, against
    pandas; prints `reports rows=...` last."""
    from entrepot.simulation.bench_reports import run

    run(console, rows, folder, memory_limit, threads, by_date_baseline)
