"""Segment results (revenue and adjusted EBITA by segment, as reported and recast) with the group's
share of its equity-method investees below them, and the share of Cainiao's revenue earned outside
China: each figure labelled with where it comes from, published (external) or the platform's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from entrepot.kernel.money import Money
from entrepot.kernel.periods import FiscalCalendar, Period
from entrepot.logistics import service as logistics
from entrepot.organization import service as organization
from entrepot.reporting import plans
from entrepot.reporting.accounts import investees
from entrepot.reporting.accounts.domain import NOT_SOURCED, remainder, share_pct
from entrepot.reporting.accounts.platform import PlatformAccounts
from entrepot.reporting.domain import VIEWS, check_choice, parse_period
from entrepot.reporting.models import ExternalActual

GROUP = "commerce-group"
CURRENCY = "CNY"  # the group reports in renminbi
NO_COSTS = "not produced: the platform records no costs, and no published figure is imported"
EXTERNAL = "external"


@dataclass(frozen=True)
class Figure:
    minor: int | None
    source: str


def segment_results(
    session: Session, period: str, view: str, fiscal: FiscalCalendar, platform: PlatformAccounts | None
) -> dict[str, Any]:
    """Revenue and adjusted EBITA per segment (as reported: the structure on the period's last day;
    recast: the segments open now), the group total, what the named segments leave of it, and the
    group's share of its investees' results below."""
    check_choice("view", view, VIEWS)
    window = parse_period(period, fiscal)
    segments = _segments(session, window, view)
    published = _published(session, window.label)
    measured = platform.revenue_by_segment(window.label, view, CURRENCY) if platform else None
    rows = [_segment_row(code, name, published, measured) for code, name in segments]
    total = _total_row(published, measured)
    rows.append(_remainder_row(rows, total))
    rows.append(total)
    rows.append(_investees_row(session, window.label, fiscal))
    return {
        "metric": "segment-results",
        "meta": {
            "period": window.label,
            "from": window.start.isoformat(),
            "to": window.last.isoformat(),
            "view": view,
            "currency": CURRENCY,
            "structure": "segments on the period's last day"
            if view == "as-reported"
            else "the segments open now",
            "recast_rule": "prior periods recast to the seven segments (US GAAP ASC 280-10-50-34)",
            "source_rule": "a published figure where one is imported, else the platform's own",
        },
        "columns": [
            "segment",
            "name",
            "revenue",
            "revenue_source",
            "adjusted_ebita",
            "adjusted_ebita_source",
        ],
        "rows": rows,
    }


def _segments(session: Session, window: Period, view: str) -> list[tuple[str, str]]:
    if view == "as-reported":
        tree = organization.tree_on(session, window.last)
        return [(s.code, s.name) for group in tree for s in group.children if s.kind == "segment"]
    units = organization.list_units(session, "segment", None, 1000)
    return [(u.code, u.name) for u in units if u.closed_on is None]


def _published(session: Session, label: str) -> dict[tuple[str, str], ExternalActual]:
    return {
        (a.metric, a.scope): a for a in plans.actuals(session) if a.period == label and a.currency == CURRENCY
    }


def _money(minor: int | None) -> str | None:
    return None if minor is None else f"{Money(minor, CURRENCY).to_decimal():f}"


def _figure(
    published: dict[tuple[str, str], ExternalActual],
    metric: str,
    scope: str,
    platform: int | None,
    otherwise: str,
) -> Figure:
    actual = published.get((metric, scope))
    if actual is not None:
        return Figure(actual.value_minor, f"{EXTERNAL}: {actual.source}")
    if platform is not None:
        return Figure(platform, "platform: commission and logistics fees (the revenue report)")
    return Figure(None, otherwise)


def _segment_row(
    code: str,
    name: str,
    published: dict[tuple[str, str], ExternalActual],
    measured: tuple[dict[str, int], int] | None,
) -> dict[str, Any]:
    platform = measured[0].get(code) if measured else None
    revenue = _figure(published, "revenue", code, platform, NOT_SOURCED)
    ebita = _figure(published, "adjusted_ebita", code, None, NO_COSTS)
    return _row(code, name, revenue, ebita)


def _row(code: str, name: str, revenue: Figure, ebita: Figure) -> dict[str, Any]:
    return {
        "segment": code,
        "name": name,
        "revenue": _money(revenue.minor),
        "revenue_source": revenue.source,
        "adjusted_ebita": _money(ebita.minor),
        "adjusted_ebita_source": ebita.source,
        "_revenue_minor": revenue.minor,
    }


def _total_row(
    published: dict[tuple[str, str], ExternalActual], measured: tuple[dict[str, int], int] | None
) -> dict[str, Any]:
    revenue = _figure(published, "revenue", GROUP, measured[1] if measured else None, NOT_SOURCED)
    ebita = _figure(published, "adjusted_ebita", GROUP, None, NO_COSTS)
    return _row("total", "Group total", revenue, ebita)


def _remainder_row(rows: list[dict[str, Any]], total: dict[str, Any]) -> dict[str, Any]:
    """What the segments shown leave of the group total, from figures of one source only: the segments
    the reference does not publish, unallocated revenue and inter-segment eliminations."""
    known = [r["_revenue_minor"] for r in rows if r["_revenue_minor"] is not None]
    same_source = {r["revenue_source"].split(":")[0] for r in rows if r["_revenue_minor"] is not None}
    total_source = total["revenue_source"].split(":")[0]
    if total["_revenue_minor"] is None or (same_source and same_source != {total_source}):
        left, source = None, "not reconciled: the total and the segments come from different sources"
    else:
        left = remainder(total["_revenue_minor"], known)
        missing = [r["segment"] for r in rows if r["_revenue_minor"] is None]
        named = f"segments without a figure ({', '.join(missing)}), " if missing else ""
        source = f"{total_source}: the total less the segments shown: {named}unallocated and eliminations"
    return _row("other", "Others, unallocated and eliminations", Figure(left, source), Figure(None, NO_COSTS))


def _investees_row(session: Session, label: str, fiscal: FiscalCalendar) -> dict[str, Any]:
    shares = investees.share_of_results(session, label, fiscal)
    sourced = [s for s in shares if s.share_minor is not None and s.currency == CURRENCY]
    names = sorted({s.investee for s in shares})
    if not shares:
        figure = Figure(None, "no equity-method investee registered")
    elif not sourced:
        figure = Figure(
            None, f"{', '.join(names)}: no result imported for the quarters recorded ({NOT_SOURCED})"
        )
    else:
        total = sum((s.share_minor or 0) - s.impairment_minor for s in sourced)
        figure = Figure(total, f"{EXTERNAL}: {len(sourced)} of {len(shares)} investee quarters sourced")
    row = _row(
        "equity-method-investees",
        "Share of results of equity-method investees",
        Figure(None, "not revenue"),
        figure,
    )
    row["adjusted_ebita_source"] = "below the segments, in group profit: " + figure.source
    return row


def public_rows(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the rows' working columns (those starting with _)."""
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in report["rows"]]
    return report | {"rows": rows}


# --- Cainiao's revenue from outside China -------------------------------------------------------------

CAINIAO = "cainiao"


def cainiao_abroad(session: Session, period: str, fiscal: FiscalCalendar) -> dict[str, Any]:
    """The share of Cainiao's revenue earned outside China over a period: the published share where one
    is imported (57 %, investor day Dec 2021), and the platform's own from shipments' fees by where they
    are earned (overseas: any leg outside China)."""
    window = parse_period(period, fiscal)
    rows = []
    for actual in plans.actuals(session, "revenue_abroad_pct", CAINIAO):
        if actual.period == window.label:
            rows.append(
                _share_row(
                    window.label, Decimal(actual.value_minor), None, None, f"{EXTERNAL}: {actual.source}"
                )
            )
    start = dt.datetime.combine(window.start, dt.time(), dt.UTC)
    stop = dt.datetime.combine(window.stop, dt.time(), dt.UTC)
    fees = logistics.revenue(session, start, stop)
    total = fees.domestic_cents + fees.overseas_cents
    measured = share_pct(fees.overseas_cents, total)
    source = (
        f"platform: fees of {fees.shipments} shipments by revenue origin"
        if measured is not None
        else "platform: no shipment fee in the period"
    )
    rows.append(_share_row(window.label, measured, fees.overseas_cents, total, source))
    if len(rows) == 1:
        rows.insert(
            0, _share_row(window.label, None, None, None, f"no published share for {window.label} imported")
        )
    return {
        "metric": "cainiao-revenue-abroad",
        "meta": {
            "period": window.label,
            "from": window.start.isoformat(),
            "to": window.last.isoformat(),
            "unit": CAINIAO,
        },
        "columns": ["period", "abroad_pct", "abroad_fees", "all_fees", "source"],
        "rows": rows,
    }


def _share_row(
    label: str, pct: Decimal | None, abroad: int | None, whole: int | None, source: str
) -> dict[str, Any]:
    def usd(cents: int | None) -> str | None:
        return None if cents is None else f"{Money(cents, 'USD').to_decimal():f}"

    return {
        "period": label,
        "abroad_pct": None if pct is None else str(pct),
        "abroad_fees": usd(abroad),
        "all_fees": usd(whole),
        "source": source,
    }
