"""`entrepot fx ...`: load exchange rates, see how fresh they are, re-state provisional orders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from entrepot.cli.config import get_settings
from entrepot.cli.errors import fail, failures, require_schema
from entrepot.cli.output import stdout as console

if TYPE_CHECKING:  # the services are imported by the commands that use them: `--help` starts fast
    from entrepot.kernel.fx import FxRates
    from entrepot.platform.db import Database
    from entrepot.platform.settings import Settings

app = typer.Typer(help="Exchange rates: load, status, re-state provisional orders.", no_args_is_help=True)
MAX_FILE_BYTES = 50_000_000  # the ECB's whole history since 1999 is about 2 MB unzipped


def _session_rates(settings: Settings) -> tuple[Database, FxRates]:
    """The database (refused in one line when it has no Entrepot schema) and the configured rates."""
    from entrepot.organization import rates
    from entrepot.platform.db import Database

    require_schema(settings.database_url)
    return Database(settings.database_url), rates.rates_of(settings)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="an ECB file (CSV, XML or zip) or an operator CSV")],
    operator: Annotated[
        bool,
        typer.Option("--operator", help="currency,on,per_usd[,note] rows (the default for such a header)"),
    ] = False,
) -> None:
    """Load rates, then re-state the provisional orders whose day now has a fresh rate."""
    from entrepot.kernel.ecb import parse_ecb
    from entrepot.ordering import restatement
    from entrepot.organization import rates

    settings = get_settings()
    data = _read(file)
    now = settings.make_clock()()
    with failures():
        db, fx = _session_rates(settings)
        with db.transaction() as session:
            rates.sync_book(session, fx.book)
            if operator or is_operator_file(data):
                loaded = rates.load_operator_csv(session, _text(data, file), now)
            else:
                loaded = rates.load_ecb_rates(session, fx.book, parse_ecb(data, file.name), file.name, now)
        with db.transaction() as session:
            restated = restatement.restate_provisional(session, fx, now)
    console.print(
        f"{loaded.rates} rates read, {loaded.stored} new or corrected, newest {loaded.newest}; "
        f"{restated.orders} orders re-stated, {restated.still_provisional} still provisional"
    )


def is_operator_file(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip().lower().startswith(b"currency,")


def _read(file: Path) -> bytes:
    if not file.is_file():
        raise fail(f"{file}: no such file")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise fail(f"{file}: larger than {MAX_FILE_BYTES // 1_000_000} MB, not a rate file")
    return file.read_bytes()


def _text(data: bytes, file: Path) -> str:
    from entrepot.kernel.errors import ValidationFailed

    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{file}: not UTF-8 text") from None


@app.command("status")
def status() -> None:
    """How old the newest rate is for each currency the markets use; provisional orders waiting."""
    from entrepot.ordering import restatement
    from entrepot.organization import rates

    settings = get_settings()
    today = settings.make_clock()().date()
    with failures():
        db, fx = _session_rates(settings)
        with db.transaction() as session:
            rates.sync_book(session, fx.book)
            freshness = rates.fx_status(session, fx, today)
            waiting = restatement.provisional_orders(session)
    table = Table(title=f"FX rates on {today} (stale past {fx.max_staleness_days} days)")
    for column in ("currency", "newest rate", "source", "age (days)", "state"):
        table.add_column(column)
    for f in freshness:
        state = "[red]stale: new amounts provisional[/red]" if f.stale else "fresh"
        age = "" if f.age_days is None else str(f.age_days)
        table.add_row(f.currency, str(f.newest or "none"), f.source, age, state)
    console.print(table)
    console.print(f"{waiting} orders with provisional USD/CNY amounts")


@app.command("restate")
def restate() -> None:
    """Re-state the provisional orders whose day has a fresh rate (after ENTREPOT_FX_ECB_FILE changed)."""
    from entrepot.ordering import restatement
    from entrepot.organization import rates

    settings = get_settings()
    with failures():
        db, fx = _session_rates(settings)
        with db.transaction() as session:
            rates.sync_book(session, fx.book)
            restated = restatement.restate_provisional(session, fx, settings.make_clock()())
    console.print(f"{restated.orders} orders re-stated, {restated.still_provisional} still provisional")
