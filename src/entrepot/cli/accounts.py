"""`entrepot report org ...`: the organisation as reported (units closed by a reorganisation, planned
moves corrected or withdrawn, audited); thin wrappers over organization.service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from entrepot.cli.config import get_settings
from entrepot.cli.errors import failures
from entrepot.cli.output import stdout as console

T = TypeVar("T")
org_app = typer.Typer(help="The organisation as reported: closing, planned moves.", no_args_is_help=True)
Reason = Annotated[str, typer.Option(help="why (kept in the audit record), up to 200 characters")]
Day = Annotated[str, typer.Option(help="YYYY-MM-DD")]


def register(report_app: typer.Typer) -> None:
    report_app.add_typer(org_app, name="org")
    register_accounts(report_app)


def in_transaction(work: Callable[[Any, dt.datetime], T]) -> T:
    """Run `work(session, now)` in one transaction; a refusal is one line and exit 2, nothing written."""
    from entrepot.platform.db import Database

    db = Database(get_settings().database_url)
    try:
        with failures(), db.transaction() as session:
            return work(session, get_settings().make_clock()())
    finally:
        db.dispose()


def day(text: str, option: str) -> dt.date:
    from entrepot.kernel.errors import FieldError, ValidationFailed

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        message = f"{option} {text!r} is not a day (YYYY-MM-DD)"
        raise ValidationFailed(message, [FieldError(option, "YYYY-MM-DD")]) from None


def reason_text(text: str) -> str:
    from entrepot.kernel.errors import FieldError, ValidationFailed

    if not 1 <= len(text.strip()) <= 200:
        raise ValidationFailed("--reason must be 1 to 200 characters", [FieldError("--reason", "1-200")])
    return text.strip()


@org_app.command("close")
def close(code: str, on: Day) -> None:
    """Close a unit a reorganisation emptied, on the reorganisation's day."""
    from entrepot.organization import service

    unit = in_transaction(lambda s, now: service.close_unit(s, code, day(on, "--on"), now))
    console.print(f"{unit.code} closed on {unit.closed_on}")


@org_app.command("withdraw-move")
def withdraw_move(code: str, reason: Reason) -> None:
    """Withdraw a unit's move that has not taken effect yet (audited)."""
    from entrepot.organization import service

    in_transaction(lambda s, now: service.withdraw_move(s, code, reason_text(reason), now))
    console.print(f"the planned move of {code} is withdrawn")


@org_app.command("correct-move")
def correct_move(
    code: str, parent: Annotated[str, typer.Option(help="the new parent's code")], on: Day, reason: Reason
) -> None:
    """Correct a unit's move that has not taken effect yet: another parent or a later day (audited)."""
    from entrepot.organization import service

    in_transaction(
        lambda s, now: service.correct_move(s, code, parent, day(on, "--on"), reason_text(reason), now)
    )
    console.print(f"{code} now moves under {parent} on {on}")


@org_app.command("revisions")
def revisions(code: str) -> None:
    """The audit records of a unit's planned moves corrected or withdrawn."""
    from entrepot.organization import service

    rows = in_transaction(
        lambda s, _: [
            (r.action, r.planned_parent, r.planned_from, r.new_parent, r.new_from, r.reason, r.revised_at)
            for r in service.move_revisions(s, code)
        ]
    )
    for action, parent, start, new_parent, new_start, why, at in rows:
        instead = f", instead under {new_parent} from {new_start}" if new_parent else ""
        console.print(f"{at:%Y-%m-%d %H:%M} {action}: under {parent} from {start}{instead} ({why})")
    if not rows:
        console.print(f"no revised move for {code}")


# --- the group's accounts: investees, segment results, Cainiao abroad, programmes ---------------------

Period = Annotated[str, typer.Option(help="a fiscal year or quarter: FY2022 or FY2022Q3")]
Source = Annotated[str, typer.Option(help="where the figure comes from (shown beside it)")]
Json = Annotated[bool, typer.Option("--json", help="print the report as JSON")]


def register_accounts(report_app: typer.Typer) -> None:
    for name, command in (
        ("investees", investees),
        ("investee-stake", investee_stake),
        ("investee-impairment", investee_impairment),
        ("import-investee-results", import_investee_results),
        ("segment-results", segment_results),
        ("cainiao-abroad", cainiao_abroad),
        ("programmes", programmes),
        ("programme-add", programme_add),
        ("programme-spend", programme_spend),
    ):
        report_app.command(name)(command)


def _fiscal() -> Any:
    from entrepot.kernel.periods import FiscalCalendar

    return FiscalCalendar(get_settings().fiscal_year_end_month)


def _platform() -> Any:
    """The platform's figures from the snapshot, or None without one."""
    from entrepot.cli import reports
    from entrepot.kernel.errors import NotFound
    from entrepot.reporting.accounts.platform import PlatformAccounts
    from entrepot.reporting.service import Snapshot

    try:
        snap = Snapshot(reports._snapshot_dir(), clock=reports._clock())
    except NotFound:
        return None
    return PlatformAccounts(snap, _fiscal(), reports._fx(snap), reports._definitions())


def show(report: dict[str, Any], as_json: bool) -> None:
    """A report as a table (every column, each figure with its source) or as JSON."""
    import json
    import sys

    from rich.table import Table

    if as_json:
        sys.stdout.write(json.dumps(report, indent=1, default=str) + "\n")
        return
    caption = "; ".join(f"{k} {v}" for k, v in report["meta"].items())
    table = Table(*report["columns"], title=report["metric"], caption=caption)
    for row in report["rows"]:
        table.add_row(*("-" if row.get(c) is None else str(row.get(c)) for c in report["columns"]))
    console.print(table)


def money(text: str, currency: str, option: str, signed: bool = False) -> Any:
    """An amount typed in major units, or a ValidationFailed naming the option."""
    from decimal import Decimal, InvalidOperation

    from entrepot.kernel.errors import FieldError, ValidationFailed
    from entrepot.kernel.money import Money, validate_currency

    validate_currency(currency)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) > Decimal(10) ** 15 or (value < 0 and not signed):
        message = f"{option} {text!r} is not an amount" + ("" if signed else " of 0 or more")
        raise ValidationFailed(message, [FieldError(option, "an amount in major units")])
    try:
        return Money.from_decimal(value, currency)
    except ValueError as exc:
        raise ValidationFailed(f"{option} {text!r}: {exc}", [FieldError(option, str(exc))]) from None


def investees(
    period: Annotated[str | None, typer.Option(help="also the group's share per quarter")] = None,
    as_json: Json = False,
) -> None:
    """Equity-method investees with their stakes; with --period, the group's share of their results."""
    from entrepot.reporting.accounts import investees as service

    def read(session: Any, _: dt.datetime) -> Any:
        register = service.investees(session)
        shares = [r.as_dict() for r in service.share_of_results(session, period, _fiscal())] if period else []
        return register, shares

    register, shares = in_transaction(read)
    for view in register:
        stakes = ", ".join(
            f"{(s.share * 100).normalize():f} % from {s.valid_from} ({s.source})" for s in view.stakes
        )
        console.print(
            f"{view.name} ({view.code}): equity method, {view.lag_quarters} quarter(s) in arrears; {stakes}"
        )
    if period:
        columns = list(shares[0]) if shares else ["investee"]
        show(
            {"metric": "investee-share", "meta": {"period": period}, "columns": columns, "rows": shares},
            as_json,
        )


def investee_stake(
    code: str, share: Annotated[str, typer.Option(help="0.33 for 33 %")], on: Day, source: Source
) -> None:
    """An ownership change of an investee from a day on."""
    from decimal import Decimal, InvalidOperation

    from entrepot.kernel.errors import FieldError, ValidationFailed
    from entrepot.reporting.accounts import investees as service
    from entrepot.reporting.accounts.domain import Stake

    def work(session: Any, _: dt.datetime) -> Any:
        try:
            fraction = Decimal(share)
        except InvalidOperation:
            raise ValidationFailed(
                f"--share {share!r} is not a number", [FieldError("--share", "0 to 1")]
            ) from None
        return service.set_stake(session, code, Stake(fraction, day(on, "--on"), reason_text(source)))

    in_transaction(work)
    console.print(f"{code}: {share} from {on}")


def investee_impairment(
    code: str,
    on: Day,
    amount: Annotated[str, typer.Option(help="major units")],
    currency: Annotated[str, typer.Option()],
    source: Source,
) -> None:
    """An impairment of an investment on a day."""
    from entrepot.reporting.accounts import investees as service

    in_transaction(
        lambda s, _: service.add_impairment(
            s, code, day(on, "--on"), money(amount, currency, "--amount"), reason_text(source)
        )
    )
    console.print(f"{code}: impairment of {amount} {currency} on {on}")


def import_investee_results(path: Path) -> None:
    """Import investees' quarterly results (CSV: investee,period,currency,net_income,source), external."""
    from entrepot.cli.reports import _read_text
    from entrepot.reporting.accounts import investees as service

    with failures():
        text = _read_text(path)
    count = in_transaction(lambda s, now: service.import_results_csv(s, text, _fiscal(), now))
    console.print(f"{count} investee results imported (external)")


def segment_results(
    period: Period = "FY2022Q3",
    view: Annotated[str, typer.Option(help="as-reported or recast")] = "recast",
    as_json: Json = False,
) -> None:
    """Revenue and adjusted EBITA by segment, each figure with its source; investees' share below."""
    from entrepot.reporting.accounts import segments

    platform = _platform()
    report = in_transaction(
        lambda s, _: segments.public_rows(segments.segment_results(s, period, view, _fiscal(), platform))
    )
    show(report, as_json)


def cainiao_abroad(
    period: Annotated[str, typer.Option(help="FY2022, FY2022Q3, LTM2021-09, ...")] = "LTM2021-09",
    as_json: Json = False,
) -> None:
    """The share of Cainiao's revenue earned outside China: published, and from the platform's fees."""
    from entrepot.reporting.accounts import segments

    show(in_transaction(lambda s, _: segments.cainiao_abroad(s, period, _fiscal())), as_json)


def programmes(period: Period = "FY2022", as_json: Json = False) -> None:
    """Programmes by category (social flagged): commitments, spend, outcomes measured, targets."""
    from entrepot.reporting.accounts import programmes as service

    platform = _platform()
    measure = platform.measure if platform else (lambda *_: None)
    rows = in_transaction(lambda s, _: service.programmes_report(s, period, _fiscal(), measure))
    columns = list(service.COLUMNS)
    show({"metric": "programmes", "meta": {"period": period}, "columns": columns, "rows": rows}, as_json)


def programme_add(
    code: str,
    name: Annotated[str, typer.Option()],
    category: Annotated[str, typer.Option(help="one of the seven categories")],
    source: Source,
    country: Annotated[list[str] | None, typer.Option(help="a buyers' country measured (repeat)")] = None,
) -> None:
    """Add an investment programme under one of the seven categories."""
    from entrepot.reporting.accounts import programmes as service

    in_transaction(
        lambda s, now: service.add_programme(s, code, name, category, country or [], reason_text(source), now)
    )
    console.print(f"programme {code} added under {category}")


def programme_spend(
    code: str,
    period: Period,
    currency: Annotated[str, typer.Option()],
    committed: Annotated[str, typer.Option(help="major units")],
    spent: Annotated[str, typer.Option(help="major units")],
    source: Source,
) -> None:
    """Record what a programme committed and spent in a fiscal period."""
    from entrepot.reporting.accounts import programmes as service

    def work(session: Any, _: dt.datetime) -> Any:
        amounts = money(committed, currency, "--committed"), money(spent, currency, "--spent")
        return service.record_spend(session, code, period, *amounts, reason_text(source), _fiscal())

    in_transaction(work)
    console.print(f"{code}: {period} committed {committed} {currency}, spent {spent} {currency}")


def show_scenario_accounts(session: Any, fiscal: Any) -> None:
    """The scenario's accounts, one line a figure with its source: Ant Group's stake and share of results,
    the Dec-2021 quarter's segment results (recast), Cainiao's share abroad, the social programmes."""
    from entrepot.reporting.accounts import investees as investee_service
    from entrepot.reporting.accounts import programmes as programme_service
    from entrepot.reporting.accounts import segments

    for view in investee_service.investees(session):
        for stake in view.stakes:
            console.print(
                f"investee {view.name}: {(stake.share * 100).normalize():f} % equity method, results"
                f" {view.lag_quarters} quarter in arrears, from {stake.valid_from} ({stake.source})"
            )
        for row in investee_service.share_of_results(session, "FY2022", fiscal):
            figure = "-" if row.share_minor is None else f"{row.as_dict()['share_of_results']} {row.currency}"
            console.print(
                f"  share of results {row.recorded_in} (of {row.results_of}): {figure}; {row.source}"
            )
    report = segments.segment_results(session, "FY2022Q3", "recast", fiscal, None)
    for row in segments.public_rows(report)["rows"]:
        revenue = "-" if row["revenue"] is None else f"{int(float(row['revenue'])) // 1_000_000:,} m"
        console.print(
            f"segment FY2022Q3 recast {row['segment']}: revenue CNY {revenue} ({row['revenue_source']});"
            f" adjusted EBITA {row['adjusted_ebita'] or '-'} ({row['adjusted_ebita_source']})"
        )
    for line in segments.cainiao_abroad(session, "LTM2021-09", fiscal)["rows"]:
        console.print(
            f"Cainiao revenue from outside China LTM2021-09: {line['abroad_pct'] or '-'} % ({line['source']})"
        )
    rows = programme_service.programmes_report(session, "FY2022", fiscal, lambda *_: None)
    # the report has a row per programme and outcome measured: one line a programme here
    for entry in {row["programme"]: row for row in rows}.values():
        social = "social" if entry["social"] else "not social"
        console.print(
            f"programme {entry['programme']}: {entry['category']} ({social}; {entry['category_named_by']});"
            f" spend: {entry['spend_source']}"
        )
