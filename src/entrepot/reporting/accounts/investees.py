"""Use cases of equity-method investees: the register (stakes dated, results a number of quarters in
arrears), imported results marked external with their source, impairments, and the group's share of
results per fiscal quarter, which enters group profit below the segments (never revenue or GMV).

Every change an operator makes here (an investee registered, a stake, an impairment, a result, an import
of results) is one entry of the audit trail, written in the change's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from entrepot.kernel.bounds import BoundedCsv
from entrepot.kernel.errors import FieldError, NotFound, ValidationFailed
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import Money, validate_currency
from entrepot.kernel.periods import FiscalCalendar, Period
from entrepot.organization.domain import check_code
from entrepot.platform import audit
from entrepot.platform.db import refuse_taken_code
from entrepot.reporting.accounts.domain import (
    NOT_SOURCED,
    Stake,
    check_lag,
    check_share,
    in_arrears,
    quarters_of,
    share_of,
    stake_on,
)
from entrepot.reporting.accounts.models import Investee, InvesteeImpairment, InvesteeResult, InvesteeStake
from entrepot.reporting.domain import parse_period
from entrepot.reporting.plans import figure_minor, plain_decimal

RESULT_COLUMNS = ("investee", "period", "currency", "net_income", "source")


def get_investee(session: Session, code: str) -> Investee:
    investee = session.scalar(select(Investee).where(Investee.code == code))
    if investee is None:
        raise NotFound(f"no investee {code!r}")
    return investee


def add_investee(
    session: Session,
    code: str,
    name: str,
    currency: str,
    lag_quarters: int,
    stake: Stake,
    now: dt.datetime,
) -> Investee:
    """Register an investee with its first stake."""
    check_code(code)
    validate_currency(currency)
    check_lag(lag_quarters)
    refuse_taken_code(session, Investee, code, "an investee")
    investee = Investee(
        public_id=new_id("inv"),
        code=code,
        name=name,
        currency=currency,
        lag_quarters=lag_quarters,
        created_at=now,
    )
    session.add(investee)
    session.flush()
    _replace_stake(session, investee, stake)  # part of the registration: its entry names the stake
    after = {"name": name, "currency": currency, "lag_quarters": lag_quarters, "stake": _stake_terms(stake)}
    audit.record(session, "investee.created", code, None, after, now)
    return investee


def set_stake(session: Session, code: str, stake: Stake) -> InvesteeStake:
    """An ownership change from a day on (the stake on that day replaced when there is one)."""
    investee = get_investee(session, code)
    row, replaced = _replace_stake(session, investee, stake)
    before = None if replaced is None else _stake_terms(replaced)
    audit.record(session, "investee_stake.set", code, before, _stake_terms(stake))
    return row


def _replace_stake(session: Session, investee: Investee, stake: Stake) -> tuple[InvesteeStake, Stake | None]:
    """Write the stake from its day on; the new row, and the stake it replaced on that day, if any."""
    check_share(stake.share)
    old = session.scalar(
        select(InvesteeStake).where(
            InvesteeStake.investee_id == investee.id, InvesteeStake.valid_from == stake.valid_from
        )
    )
    replaced = None if old is None else Stake(old.share, old.valid_from, old.source)
    session.execute(
        delete(InvesteeStake).where(
            InvesteeStake.investee_id == investee.id, InvesteeStake.valid_from == stake.valid_from
        )
    )
    row = InvesteeStake(
        investee_id=investee.id, share=stake.share, valid_from=stake.valid_from, source=stake.source
    )
    session.add(row)
    session.flush()
    return row, replaced


def _stake_terms(stake: Stake) -> dict[str, Any]:
    return {"share": plain_decimal(stake.share), "valid_from": stake.valid_from, "source": stake.source}


def add_impairment(
    session: Session, code: str, on: dt.date, amount: Money, source: str
) -> InvesteeImpairment:
    investee = get_investee(session, code)
    if amount.currency != investee.currency:
        message = f"{investee.name}'s investment is carried in {investee.currency}"
        raise ValidationFailed(message, [FieldError("currency", message)])
    if amount.minor <= 0:
        raise ValidationFailed(
            "an impairment is a positive amount", [FieldError("amount", "must be positive")]
        )
    row = InvesteeImpairment(
        investee_id=investee.id, on=on, currency=amount.currency, amount_minor=amount.minor, source=source
    )
    session.add(row)
    session.flush()
    after = {"on": on, "amount_minor": amount.minor, "currency": amount.currency, "source": source}
    audit.record(session, "investee_impairment.added", code, None, after)
    return row


def record_result(
    session: Session,
    code: str,
    period: str,
    net_income: Money,
    source: str,
    fiscal: FiscalCalendar,
    now: dt.datetime,
) -> InvesteeResult:
    """An investee's net income for a fiscal quarter (the group's calendar), marked external; a second
    figure for the same quarter replaces the first (the audit entry shows both)."""
    investee = get_investee(session, code)
    quarter = _quarter(period, fiscal, "period")
    if net_income.currency != investee.currency:
        message = f"{investee.name} reports in {investee.currency}"
        raise ValidationFailed(message, [FieldError("currency", message)])
    replaced = _result_terms(_result_of(session, investee, quarter))
    row = _store_result(session, investee, quarter, net_income, source, now)
    audit.record(session, "investee_result.recorded", f"{code}/{quarter}", replaced, _result_terms(row), now)
    return row


def _result_of(session: Session, investee: Investee, quarter: str) -> InvesteeResult | None:
    return session.scalar(
        select(InvesteeResult).where(
            InvesteeResult.investee_id == investee.id, InvesteeResult.period == quarter
        )
    )


def _result_terms(row: InvesteeResult | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"net_income_minor": row.net_income_minor, "currency": row.currency, "source": row.source}


def _store_result(
    session: Session, investee: Investee, quarter: str, net_income: Money, source: str, now: dt.datetime
) -> InvesteeResult:
    """Write a checked quarter's figure in place of the one it had (the callers record the change)."""
    session.execute(
        delete(InvesteeResult).where(
            InvesteeResult.investee_id == investee.id, InvesteeResult.period == quarter
        )
    )
    row = InvesteeResult(
        investee_id=investee.id,
        period=quarter,
        currency=net_income.currency,
        net_income_minor=net_income.minor,
        source=source,
        external=True,
        imported_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _quarter(text: str, fiscal: FiscalCalendar, field: str) -> str:
    period = parse_period(text, fiscal, field)
    if period.kind != "fiscal-quarter":
        message = f"{text!r} is not a fiscal quarter; write FY2022Q2"
        raise ValidationFailed(message, [FieldError(field, message)])
    return period.label


def import_results_csv(session: Session, text: str, fiscal: FiscalCalendar, now: dt.datetime) -> int:
    """Results as CSV (investee,period,currency,net_income,source); a bad row refuses the whole file."""
    table = BoundedCsv(text)
    missing = [c for c in RESULT_COLUMNS if c not in table.fieldnames]
    if missing:
        raise ValidationFailed(
            f"the CSV lacks the columns {', '.join(missing)}; it needs {', '.join(RESULT_COLUMNS)}"
        )
    parsed = [_result_row(session, row, line, fiscal) for line, row in table.rows()]
    replaced = 0
    for code, period, money, source in parsed:
        investee = get_investee(session, code)
        replaced += _result_of(session, investee, period) is not None
        _store_result(session, investee, period, money, source, now)
    # one entry for the one import (a file of a hundred quarters is one change an operator made)
    after = {
        "rows": len(parsed),
        "replaced": replaced,
        "investees": sorted({code for code, *_ in parsed}),
        "periods": sorted({period for _, period, *_ in parsed}),
    }
    audit.record(session, "investee_results.imported", "investee_results", None, after, now)
    return len(parsed)


def _result_row(
    session: Session, row: dict[Any, Any], line: int, fiscal: FiscalCalendar
) -> tuple[str, str, Money, str]:
    def fail(field: str, message: str) -> ValidationFailed:
        column = "net_income" if field == "value" else field
        return ValidationFailed(
            f"line {line}, column {column}: {message}", [FieldError(f"line {line}.{column}", message)]
        )

    if any(row.get(c) is None for c in RESULT_COLUMNS) or row.get(None):
        raise fail("source", f"the row does not line up with the header's {len(RESULT_COLUMNS)} columns")
    code = row["investee"].strip()
    try:
        investee = get_investee(session, code)
        period = _quarter(row["period"].strip(), fiscal, "period")
        currency = validate_currency(row["currency"].strip())
    except (NotFound, ValidationFailed) as exc:
        field = (
            "investee"
            if isinstance(exc, NotFound)
            else (exc.field_errors[0].field if exc.field_errors else "currency")
        )
        raise fail(field, exc.detail) from None
    if currency != investee.currency:
        raise fail("currency", f"{investee.name} reports in {investee.currency}")
    minor = figure_minor(row["net_income"], currency, fail, signed=True)
    return code, period, Money(minor, currency), row["source"].strip()[:200]


@dataclass(frozen=True)
class InvesteeView:
    code: str
    name: str
    currency: str
    lag_quarters: int
    stakes: list[Stake]
    results: int
    impairments: list[tuple[dt.date, int, str]]


def investees(session: Session) -> list[InvesteeView]:
    """The register: each investee with its stakes and impairments, and how many results it holds."""
    rows = list(session.scalars(select(Investee).order_by(Investee.code)))
    stakes = _by_investee(session, InvesteeStake, InvesteeStake.valid_from)
    impairments = _by_investee(session, InvesteeImpairment, InvesteeImpairment.on)
    results = _by_investee(session, InvesteeResult, InvesteeResult.period)
    return [
        InvesteeView(
            i.code,
            i.name,
            i.currency,
            i.lag_quarters,
            [Stake(Decimal(s.share), s.valid_from, s.source) for s in stakes.get(i.id, [])],
            len(results.get(i.id, [])),
            [(m.on, m.amount_minor, m.source) for m in impairments.get(i.id, [])],
        )
        for i in rows
    ]


def _by_investee(session: Session, model: Any, order: Any) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in session.scalars(select(model).order_by(model.investee_id, order)):
        grouped.setdefault(row.investee_id, []).append(row)
    return grouped


@dataclass(frozen=True)
class ShareRow:
    """The group's share of one investee's results recorded in one of the group's quarters."""

    investee: str
    recorded_in: str
    results_of: str
    share_pct: str | None
    currency: str
    net_income_minor: int | None
    share_minor: int | None
    impairment_minor: int
    source: str

    def as_dict(self) -> dict[str, Any]:
        def major(minor: int | None) -> str | None:
            return None if minor is None else f"{Money(minor, self.currency).to_decimal():f}"

        total = None if self.share_minor is None else self.share_minor - self.impairment_minor
        return {
            "investee": self.investee,
            "recorded_in": self.recorded_in,
            "results_of": self.results_of,
            "share_pct": self.share_pct,
            "currency": self.currency,
            "investee_net_income": major(self.net_income_minor),
            "group_share": major(self.share_minor),
            "impairment": major(self.impairment_minor),
            "share_of_results": major(total),
            "source": self.source,
        }


def share_of_results(session: Session, period: str, fiscal: FiscalCalendar) -> list[ShareRow]:
    """Per investee and fiscal quarter of `period`: the investee's result of the quarter `lag` earlier,
    at the stake held on that quarter's last day, less impairments dated in the recorded quarter. A
    quarter without an imported result says so rather than showing a figure."""
    quarters = quarters_of(parse_period(period, fiscal), fiscal)
    register = investees(session)
    ids = {code: investee_id for code, investee_id in session.execute(select(Investee.code, Investee.id))}
    results = {(r.investee_id, r.period): r for r in session.scalars(select(InvesteeResult))}
    rows = []
    for view in register:
        for recorded in quarters:
            rows.append(
                _share_row(
                    view,
                    recorded,
                    results.get((ids[view.code], in_arrears(recorded, view.lag_quarters, fiscal).label)),
                    fiscal,
                )
            )
    return rows


def _share_row(
    view: InvesteeView, recorded: Period, result: InvesteeResult | None, fiscal: FiscalCalendar
) -> ShareRow:
    earned = in_arrears(recorded, view.lag_quarters, fiscal)
    stake = stake_on(view.stakes, earned.last)
    impaired = sum(amount for on, amount, _ in view.impairments if recorded.start <= on < recorded.stop)
    share_pct = None if stake is None else f"{stake.share * 100:.2f}".rstrip("0").rstrip(".")
    if result is None or stake is None:
        why = (
            f"no stake held on {earned.last}"
            if stake is None
            else f"no result of {earned.label} imported ({NOT_SOURCED})"
        )
        return ShareRow(
            view.name, recorded.label, earned.label, share_pct, view.currency, None, None, impaired, why
        )
    return ShareRow(
        view.name,
        recorded.label,
        earned.label,
        share_pct,
        view.currency,
        result.net_income_minor,
        share_of(result.net_income_minor, stake.share),
        impaired,
        f"external: {result.source}; stake: {stake.source}",
    )


# The built-in scenario's investee: Ant Group at 33 % (group-facts.md), recorded a quarter in arrears.
ANT = ("ant-group", "Ant Group", "CNY", 1)
ANT_STAKE_SOURCE = (
    "33 % (group-facts.md); the reference does not date the stake: held from the scenario's first day"
)


def load_ant(session: Session, since: dt.date, now: dt.datetime) -> Investee:
    """Ant Group in the register at 33 % from `since`, once (a second load changes nothing). No quarterly
    result is seeded: group-facts.md gives none, and the reports say so."""
    code, name, currency, lag = ANT
    existing = session.scalar(select(Investee).where(Investee.code == code))
    if existing is not None:
        return existing
    return add_investee(
        session, code, name, currency, lag, Stake(Decimal("0.33"), since, ANT_STAKE_SOURCE), now
    )
