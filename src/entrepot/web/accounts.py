"""The group's accounts, for operators (as GET /api/v1/reports/segment-results, /investees,
/investees/share, /programmes and /cainiao-abroad, operators only there): revenue and adjusted EBITA by
segment as reported and recast, drawn by fiscal quarter and tabled with each figure's source; the group's
share of its equity-method investees' results (Ant Group at 33 %, a quarter in arrears) with the register
behind it; the investment programmes with their spend and outcomes; and the share of Cainiao's revenue
earned outside China, published against the platform's own. The same accounts functions as the API's
routes: no rule is restated here. A bad period or view is shown beside its field, in the API's words.

The platform's figures come from the reporting snapshot through Ibis, a tenth of a second a query to
compile: they are remembered between requests under everything they are computed from (RememberedPlatform),
as reporting.sources.REPORTS remembers the reporting page's: a warm page costs its database reads and the
opening of the snapshot and rates (reporting.sources.of_app), as the reporting page does."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.kernel import periods
from entrepot.kernel.errors import DomainError, NotFound
from entrepot.kernel.periods import FiscalCalendar
from entrepot.platform.deps import AppContext, Ctx
from entrepot.reporting import plans, sources
from entrepot.reporting.accounts import investees, programmes, segments
from entrepot.reporting.accounts.domain import quarters_of
from entrepot.reporting.accounts.platform import PlatformAccounts
from entrepot.reporting.domain import VIEWS, parse_period
from entrepot.web.auth import Viewer
from entrepot.web.charts import Chart, Series
from entrepot.web.days import this_year, year_to_open
from entrepot.web.forms import FormProblem
from entrepot.web.reporting import SCALES
from entrepot.web.routing import ConsoleRoute
from entrepot.web.templating import render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FormText = Annotated[str, Query(max_length=64)]
# segment_results' rows that are not a part of the group's revenue: left out of the stacked bars (the
# named segments and what they leave of the total, "other", add up to the total)
TOTAL, INVESTEES = "total", "equity-method-investees"
REMEMBERED = 512  # a state's answers: a few periods' quarters in both views, the programmes' outcomes
STATES = 4  # the snapshots and rates kept: the current one, and a few a refresh has just replaced
T = TypeVar("T")


@dataclass
class Accounts:
    """What the page shows; a section left empty when its input was refused (`problem` says why)."""

    segments: dict[str, dict[str, Any]] = field(default_factory=dict)  # view -> segment_results
    chart: Chart | None = None
    register: list[investees.InvesteeView] = field(default_factory=list)
    shares: list[dict[str, Any]] = field(default_factory=list)
    programmes: list[dict[str, Any]] = field(default_factory=list)
    abroad: list[dict[str, Any]] = field(default_factory=list)
    problem: FormProblem = field(default_factory=FormProblem)
    status: int = 200
    withheld: set[str] = field(default_factory=set)  # the sections whose input was refused
    published: list[str] = field(default_factory=list)  # fiscal periods with published segment figures

    def refused(self, section: str, refusal: DomainError, aliases: dict[str, str] | None = None) -> None:
        """Keep every section's field errors (the period may be refused by one and not another); the
        first refusal gives the summary and the status."""
        self.withheld.add(section)
        found = FormProblem.of(refusal, aliases)
        for name, messages in found.fields.items():
            known = self.problem.fields.setdefault(name, [])
            known.extend(m for m in messages if m not in known)
        if not self.problem.detail:
            self.problem.title, self.problem.detail, self.status = found.title, found.detail, refusal.status


@dataclass
class RememberedPlatform(PlatformAccounts):
    """The platform's figures as PlatformAccounts computes them, remembered under what they depend on
    besides the question: the snapshot's version, today's date (a snapshot's default recast day), the
    rates, the definitions and the calendar. A refresh, a rate or a definition changed asks afresh,
    never a stale answer."""

    _answers: Answers = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the state is looked up once a request: the rates' fingerprint holds every manual rate, too
        # long a key to hash again for each question
        self._answers = _answers_of(self._state())

    def _state(self) -> Hashable | None:
        if self.snap.version is None:  # not the snapshot's own DuckDB: nothing kept, as REPORTS does
            return None
        definitions = tuple(sorted(self.definitions.items()))
        return (self.snap.version, self.snap.clock().date(), self.fiscal, self.fx.fingerprint(), definitions)

    def revenue_by_segment(self, period: str, view: str, currency: str) -> tuple[dict[str, int], int] | None:
        compute = super().revenue_by_segment
        question = ("revenue", period, view, currency)
        return self._answers.answer(question, lambda: compute(period, view, currency))

    def measure(self, metric: str, countries: list[str], period: str, currency: str) -> int | None:
        compute = super().measure
        question = ("measure", metric, tuple(countries), period, currency)
        return self._answers.answer(question, lambda: compute(metric, countries, period, currency))


class Answers:
    """One state's answers, the least recently asked dropped past `size`; safe across requests."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()

    def answer(self, question: Hashable, compute: Callable[[], T]) -> T:
        with _lock:
            if question in self._answers:
                self._answers.move_to_end(question)
                known: T = self._answers[question]
                return known
        answer = compute()  # outside the lock: two asking at once both compute, neither waits
        with _lock:
            self._answers[question] = answer
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)
        return answer


_states: OrderedDict[Hashable, Answers] = OrderedDict()
_lock = threading.Lock()


def _answers_of(state: Hashable | None) -> Answers:
    """The answers kept for a state (a new, unshared set for none); the oldest states dropped."""
    if state is None:
        return Answers()
    with _lock:
        if state not in _states:
            _states[state] = Answers()
            while len(_states) > STATES:
                _states.popitem(last=False)
        _states.move_to_end(state)
        return _states[state]


def _fiscal(ctx: AppContext) -> FiscalCalendar:
    return FiscalCalendar(ctx.settings.fiscal_year_end_month)


@router.get("/reporting/accounts")
def accounts_page(
    request: Request,
    ctx: Ctx,
    viewer: Viewer,
    period: FormText = "",
    view: FormText = "recast",
    abroad: FormText = "",
) -> Response:
    viewer.principal.require("operator")
    opened_on = "" if period.strip() else year_to_open(ctx)
    values = _asked(ctx, period or opened_on, view, abroad)
    accounts, missing = _gathered(ctx, values)
    return render(
        request,
        "accounts.html",
        accounts.status,
        values=values,
        views=VIEWS,
        accounts=accounts,
        problem=accounts.problem,
        missing=missing,
        amount=amount,
        figure=figure,
        stake=stake,
        this_year=this_year(ctx),
        moved_from_this_year=bool(opened_on) and opened_on != this_year(ctx),
    )


def _asked(ctx: AppContext, period: str, view: str, abroad: str) -> dict[str, str]:
    """The form's values as typed, the period defaulting to the year the page opens on (year_to_open) and
    Cainiao's window to the period."""
    asked = period.strip() or year_to_open(ctx)
    return {"period": asked, "view": view, "abroad": abroad.strip() or asked}


def _gathered(ctx: AppContext, values: dict[str, str]) -> tuple[Accounts, str]:
    """Every section's figures for the form's values, and why the platform's own are missing if they are."""
    fiscal = _fiscal(ctx)
    platform, missing = platform_accounts(ctx)
    accounts = Accounts()
    with ctx.db.transaction() as session:
        accounts.published = _published_periods(session, fiscal)
        _segment_results(accounts, session, values, fiscal, platform)
        _investees(accounts, session, values["period"], fiscal)
        _programmes(accounts, session, values["period"], fiscal, platform)
        _abroad(accounts, session, values["abroad"], fiscal)
    return accounts, missing


def prepare(ctx: AppContext) -> None:
    """Compute the page as first opened (year_to_open) in each view, so that the first operator to open
    it after a start does not wait seconds for Ibis to compile the snapshot's queries (remembered by
    RememberedPlatform). For web.app.prepare, beside reporting.prepare."""
    for view in VIEWS:
        _gathered(ctx, _asked(ctx, "", view, ""))


def platform_accounts(ctx: AppContext) -> tuple[PlatformAccounts | None, str]:
    """The platform's figures from the snapshot, remembered between requests, or why there are none."""
    try:
        s = sources.of_app(ctx)
    except NotFound as none:
        return None, none.detail
    return RememberedPlatform(s.snap, s.fiscal, s.rates, s.definitions), ""


def _segment_results(
    accounts: Accounts,
    session: Session,
    values: dict[str, str],
    fiscal: FiscalCalendar,
    platform: PlatformAccounts | None,
) -> None:
    """Both views of the period (as GET /reports/segment-results answers each), and the view asked for
    quarter by quarter for the chart."""
    period, chosen = values["period"], values["view"]
    try:  # the view asked for first: a view not known is refused, naming the field
        for view in (chosen, *(v for v in VIEWS if v != chosen)):
            report = segments.segment_results(session, period, view, fiscal, platform)
            accounts.segments[view] = segments.public_rows(report)
    except DomainError as refused:
        accounts.segments = {}
        accounts.refused("segments", refused)
        return
    # the service took the period: a fiscal quarter or year, whose quarters the investees' rule names
    quarters = quarters_of(parse_period(period, fiscal), fiscal)
    if len(quarters) == 1:  # a quarter asked for: its bar is the report already made
        by_quarter = [accounts.segments[chosen]]
    else:
        by_quarter = [segments.segment_results(session, q.label, chosen, fiscal, platform) for q in quarters]
    accounts.chart = _revenue_chart(by_quarter, values["view"])


def _published_periods(session: Session, fiscal: FiscalCalendar) -> list[str]:
    """The fiscal years and quarters with a published revenue or adjusted EBITA (the scenario's FY2022
    and the Dec-2021 quarter), offered as links: the demo's own weeks are a later year."""
    found = set()
    for metric in ("revenue", "adjusted_ebita"):
        for actual in plans.actuals(session, metric):
            period = parse_period(actual.period, fiscal)
            if period.kind in (periods.FISCAL_YEAR, periods.FISCAL_QUARTER):
                found.add(period.label)
    return sorted(found)


def _revenue_chart(reports: list[dict[str, Any]], view: str) -> Chart:
    """Stacked bars: a bar per fiscal quarter, a part per segment (with what the named segments leave
    of the group total), in a unit that suits the figures; a segment without a figure has no part."""
    quarters = [r["meta"]["period"] for r in reports]
    names: dict[str, str] = {}
    revenue: dict[tuple[str, str], Decimal] = {}
    for quarter, report in zip(quarters, reports, strict=True):
        for row in report["rows"]:
            if row["segment"] in (TOTAL, INVESTEES):
                continue
            names.setdefault(row["segment"], row["name"])
            if row["revenue"] is not None:
                revenue[(quarter, row["segment"])] = Decimal(row["revenue"])
    currency = reports[0]["meta"]["currency"] if reports else segments.CURRENCY
    largest = max((abs(v) for v in revenue.values()), default=Decimal(0))
    scale, unit = next((s, u) for s, u in SCALES if largest >= s or s == 1)
    series = [
        Series(name, [_scaled(revenue.get((q, code)), scale) for q in quarters], stack="revenue")
        for code, name in names.items()
    ]
    title = f"Revenue by segment and fiscal quarter, {view.replace('-', ' ')}"
    unit_name = f"{unit}{currency}"
    return Chart("segment-revenue", title, "bar", quarters, series, unit_name, "Quarter", decimals=2)


def _scaled(value: Decimal | None, scale: Decimal) -> float | None:
    return None if value is None else float(value / scale)


def _investees(accounts: Accounts, session: Session, period: str, fiscal: FiscalCalendar) -> None:
    """The register (GET /reports/investees) and the period's share of results (GET
    /reports/investees/share)."""
    accounts.register = investees.investees(session)
    try:
        accounts.shares = [r.as_dict() for r in investees.share_of_results(session, period, fiscal)]
    except DomainError as refused:
        accounts.refused("shares", refused)


def _programmes(
    accounts: Accounts,
    session: Session,
    period: str,
    fiscal: FiscalCalendar,
    platform: PlatformAccounts | None,
) -> None:
    """GET /reports/programmes' rows: a programme's outcomes measured where the snapshot has data."""
    measure = platform.measure if platform else _unmeasured
    try:
        accounts.programmes = programmes.programmes_report(session, period, fiscal, measure)
    except DomainError as refused:
        accounts.refused("programmes", refused)


def _unmeasured(*_: Any) -> None:
    return None


def _abroad(accounts: Accounts, session: Session, period: str, fiscal: FiscalCalendar) -> None:
    """GET /reports/cainiao-abroad for every period with a published share, then the period asked for:
    the published share (57 %) beside the platform's own measure of the same window."""
    asked: list[dict[str, Any]] = []
    try:
        asked = segments.cainiao_abroad(session, period, fiscal)["rows"]
    except DomainError as refused:
        accounts.refused("abroad", refused, aliases={"period": "abroad"})
    shown = {r["period"] for r in asked}
    for actual in plans.actuals(session, "revenue_abroad_pct", segments.CAINIAO):
        if actual.period not in shown:
            shown.add(actual.period)
            accounts.abroad.extend(segments.cainiao_abroad(session, actual.period, fiscal)["rows"])
    accounts.abroad.extend(asked)


def amount(text: str | None) -> str:
    """A report's figure (`172226000000.00`, major units) grouped for reading; `-` for none."""
    return "-" if text is None else f"{Decimal(text):,f}"


def figure(text: str | None, currency: str | None) -> str:
    """An amount with its currency, or a count (no currency) grouped; `-` for none."""
    if text is None:
        return "-"
    return amount(text) if currency is None else f"{amount(text)} {currency}"


def stake(share: Decimal) -> str:
    """0.33 reads `33 %`."""
    return f"{(share * 100).normalize():f} %"
