"""Use cases of the organisation: units, effective-dated moves, markets and operator FX rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, func, select
from sqlalchemy.orm import Session, aliased

from entrepot.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.fx import FxRates, ManualRate
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import amount_problem, validate_currency
from entrepot.organization.domain import (
    KINDS,
    MarketSpec,
    Membership,
    PendingMove,
    check_code,
    check_corrected_date,
    check_market,
    check_open,
    check_parent_kind,
    parent_on,
    pending_move,
    plan_close,
    plan_move,
)
from entrepot.organization.models import FxManualRate, Market, OrgMembership, OrgMoveRevision, OrgUnit
from entrepot.platform import audit
from entrepot.platform.db import record_event


def get_unit(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(f"no organisation unit with code {code!r}")
    return unit


def find_unit(session: Session, code: str) -> OrgUnit | None:
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def create_unit(
    session: Session,
    kind: str,
    code: str,
    name: str,
    parent_code: str | None,
    valid_from: dt.date,
    now: dt.datetime,
) -> OrgUnit:
    if kind not in KINDS:
        raise ValidationFailed("invalid unit", [FieldError("kind", f"must be one of {', '.join(KINDS)}")])
    check_code(code)
    if find_unit(session, code) is not None:
        raise Conflict(f"an organisation unit with code {code!r} exists", code="duplicate")
    parent = get_unit(session, parent_code) if parent_code else None
    check_parent_kind(kind, parent.kind if parent else None)
    if parent is not None:
        check_open(parent.code, parent.closed_on)
    unit = OrgUnit(public_id=new_id("org"), kind=kind, code=code, name=name, created_at=now)
    session.add(unit)
    session.flush()
    if parent is not None:
        session.add(OrgMembership(child_id=unit.id, parent_id=parent.id, valid_from=valid_from))
    record_event(session, DomainEvent("org.unit_created", unit.public_id, {"code": code, "kind": kind}), now)
    after = {"code": code, "kind": kind, "name": name, "parent": parent_code, "from": valid_from}
    audit.record(session, "org.unit_created", unit.public_id, None, after, now)
    return unit


def memberships(session: Session, unit: OrgUnit) -> list[Membership]:
    parent = aliased(OrgUnit)
    rows = session.execute(
        select(parent.code, OrgMembership.valid_from, OrgMembership.valid_to)
        .join(parent, parent.id == OrgMembership.parent_id)
        .where(OrgMembership.child_id == unit.id)
        .order_by(OrgMembership.valid_from)
    ).all()
    return [Membership(code, start, end) for code, start, end in rows]


def move_unit(
    session: Session, code: str, new_parent_code: str, effective: dt.date, now: dt.datetime
) -> OrgUnit:
    """Move a unit under another parent from `effective` on; the old membership is closed, not erased."""
    unit = get_unit(session, code)
    new_parent = get_unit(session, new_parent_code)
    check_parent_kind(unit.kind, new_parent.kind)
    was = memberships(session, unit)
    plan_move(was, new_parent_code, effective)
    check_open(new_parent_code, new_parent.closed_on)
    current = session.scalar(
        select(OrgMembership)
        .where(OrgMembership.child_id == unit.id, OrgMembership.valid_to.is_(None))
        .with_for_update()
    )
    assert current is not None  # plan_move has checked that an open membership exists
    current.valid_to = effective
    session.add(OrgMembership(child_id=unit.id, parent_id=new_parent.id, valid_from=effective))
    payload = {"code": code, "to": new_parent_code, "effective_from": effective.isoformat()}
    record_event(session, DomainEvent("org.unit_moved", unit.public_id, payload), now)
    open_ = next(({"parent": m.parent_code, "from": m.valid_from} for m in was if m.valid_to is None), None)
    after = {"parent": new_parent_code, "from": effective}
    audit.record(session, "org.unit_moved", unit.public_id, open_, after, now)
    return unit


def close_unit(session: Session, code: str, on: dt.date, now: dt.datetime) -> OrgUnit:
    """Close a unit a reorganisation emptied, on the reorganisation's day: it stays in the tree (and in
    the as-reported view) before that day, and leaves its parent on it."""
    unit = get_unit(session, code)
    child = aliased(OrgUnit)
    members = session.execute(
        select(child.code, OrgMembership.valid_to)
        .join(child, child.id == OrgMembership.child_id)
        .where(OrgMembership.parent_id == unit.id)
    ).all()
    plan_close(code, unit.closed_on, {c: end for c, end in members if end is None or end > on}, on)
    own = session.scalar(
        select(OrgMembership).where(OrgMembership.child_id == unit.id, OrgMembership.valid_to.is_(None))
    )
    if own is not None:
        if own.valid_from >= on:
            raise ValidationFailed(
                f"{code} joined its parent on {own.valid_from.isoformat()}: it closes after that day",
                [FieldError("on", "too early")],
            )
        own.valid_to = on
    audit.record(session, "org.unit_closed", unit.public_id, {"closed_on": None}, {"closed_on": on}, now)
    unit.closed_on = on
    record_event(
        session, DomainEvent("org.unit_closed", unit.public_id, {"code": code, "on": on.isoformat()}), now
    )
    return unit


def withdraw_move(session: Session, code: str, reason: str, now: dt.datetime) -> OrgUnit:
    """Withdraw the unit's move that has not taken effect yet: the membership it ended runs on, and an
    audit record keeps what was planned."""
    unit = get_unit(session, code)
    pending = _undo_pending_move(session, unit, now.date())
    _record_revision(session, unit, pending.planned, None, reason, now)
    return unit


def correct_move(
    session: Session, code: str, new_parent_code: str, effective: dt.date, reason: str, now: dt.datetime
) -> OrgUnit:
    """Replace the unit's move that has not taken effect yet by another parent and/or day (still in the
    future); an audit record keeps what was planned and what replaced it."""
    unit = get_unit(session, code)
    pending = pending_move(memberships(session, unit), now.date())
    check_corrected_date(pending, effective, now.date())
    _undo_pending_move(session, unit, now.date())
    session.flush()
    move_unit(session, code, new_parent_code, effective, now)
    _record_revision(
        session, unit, pending.planned, Membership(new_parent_code, effective, None), reason, now
    )
    return unit


def _undo_pending_move(session: Session, unit: OrgUnit, today: dt.date) -> PendingMove:
    pending = pending_move(memberships(session, unit), today)
    rows = session.scalars(
        select(OrgMembership)
        .where(OrgMembership.child_id == unit.id, OrgMembership.valid_from >= pending.previous.valid_from)
        .order_by(OrgMembership.valid_from)
        .with_for_update()
    ).all()
    previous, planned = rows[0], rows[-1]
    session.delete(planned)
    previous.valid_to = None
    return pending


def _record_revision(
    session: Session,
    unit: OrgUnit,
    planned: Membership,
    replacement: Membership | None,
    reason: str,
    now: dt.datetime,
) -> None:
    revision = OrgMoveRevision(
        unit_code=unit.code,
        action="withdrawn" if replacement is None else "corrected",
        planned_parent=planned.parent_code,
        planned_from=planned.valid_from,
        new_parent=None if replacement is None else replacement.parent_code,
        new_from=None if replacement is None else replacement.valid_from,
        reason=reason,
        revised_at=now,
    )
    session.add(revision)
    payload = {"code": unit.code, "action": revision.action, "planned_from": planned.valid_from.isoformat()}
    record_event(session, DomainEvent("org.move_revised", unit.public_id, payload), now)
    before = {"parent": planned.parent_code, "from": planned.valid_from}
    after: dict[str, object] = {"reason": reason}  # a withdrawn move: no parent after
    if replacement is not None:
        after |= {"parent": replacement.parent_code, "from": replacement.valid_from}
    audit.record(session, f"org.move_{revision.action}", unit.public_id, before, after, now)


def move_revisions(session: Session, code: str) -> list[OrgMoveRevision]:
    """The audit records of a unit's moves corrected or withdrawn, oldest first."""
    get_unit(session, code)
    query = select(OrgMoveRevision).where(OrgMoveRevision.unit_code == code).order_by(OrgMoveRevision.id)
    return list(session.scalars(query))


def existing_codes(session: Session, codes: Collection[str]) -> set[str]:
    """Those of `codes` that name a unit of the organisation (open or closed), in one query."""
    if not codes:
        return set()
    return set(session.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(set(codes)))))


@dataclass
class TreeNode:
    code: str
    name: str
    kind: str
    children: list[TreeNode]


def tree_on(session: Session, day: dt.date) -> list[TreeNode]:
    """The organisation as it stood on `day`: the roots (groups) with their descendants."""
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    edges = session.execute(
        select(OrgMembership.child_id, OrgMembership.parent_id).where(
            OrgMembership.valid_from <= day,
            (OrgMembership.valid_to.is_(None)) | (OrgMembership.valid_to > day),
        )
    ).all()
    children: dict[int, list[int]] = {}
    for child, parent in edges:
        children.setdefault(parent, []).append(child)

    def build(unit_id: int) -> TreeNode:
        unit = units[unit_id]
        kids = sorted(children.get(unit_id, []), key=lambda i: units[i].code)
        return TreeNode(unit.code, unit.name, unit.kind, [build(k) for k in kids])

    return [build(u.id) for u in sorted(units.values(), key=lambda u: u.code) if u.kind == "group"]


def ancestry_on(session: Session, code: str, day: dt.date) -> dict[str, str]:
    """kind -> code of each ancestor of a unit on a day (division, segment, group)."""
    result: dict[str, str] = {}
    unit = get_unit(session, code)
    while True:
        parent_code = parent_on(memberships(session, unit), day)
        if parent_code is None:
            return result
        unit = get_unit(session, parent_code)
        result[unit.kind] = unit.code


@dataclass(frozen=True)
class Move:
    """A unit that left one parent for another on `effective` (its memberships meet on that day)."""

    code: str
    name: str
    kind: str
    old_parent: str
    new_parent: str
    effective: dt.date


def moves(session: Session) -> list[Move]:
    """Every move of the organisation's history, newest first, in one query: a closed membership and
    the one of the same unit that starts the day it ends."""
    old, new = aliased(OrgMembership), aliased(OrgMembership)
    unit, old_parent, new_parent = aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit)
    rows = session.execute(
        select(unit.code, unit.name, unit.kind, old_parent.code, new_parent.code, new.valid_from)
        .select_from(old)
        .join(new, (new.child_id == old.child_id) & (new.valid_from == old.valid_to))
        .join(unit, unit.id == old.child_id)
        .join(old_parent, old_parent.id == old.parent_id)
        .join(new_parent, new_parent.id == new.parent_id)
        .order_by(new.valid_from.desc(), unit.code)
    ).all()
    return [Move(*row) for row in rows]


def create_market(
    session: Session,
    business_unit_code: str,
    spec: MarketSpec,
    prices_include_tax: bool,
    shipping_domestic_minor: int,
    shipping_cross_border_minor: int,
    now: dt.datetime,
) -> Market:
    unit = get_unit(session, business_unit_code)
    if unit.kind != "business_unit":
        raise ValidationFailed(
            "markets belong to business units", [FieldError("business_unit", f"{unit.code} is a {unit.kind}")]
        )
    check_market(spec)
    fees = {
        "shipping_domestic_minor": shipping_domestic_minor,
        "shipping_cross_border_minor": shipping_cross_border_minor,
    }
    problems = [(name, amount_problem(fee, spec.currency, allow_zero=True)) for name, fee in fees.items()]
    if any(problem for _, problem in problems):
        raise ValidationFailed("invalid shipping fee", [FieldError(n, p) for n, p in problems if p])
    code = f"{unit.code}-{spec.country.lower()}"
    if session.scalar(select(Market.id).where(Market.code == code)) is not None:
        raise Conflict(f"{unit.code} already has a market in {spec.country}", code="duplicate")
    market = Market(
        public_id=new_id("mkt"),
        code=code,
        business_unit_id=unit.id,
        country=spec.country,
        currency=spec.currency,
        locale=spec.locale,
        time_zone=spec.time_zone,
        tax_rate=spec.tax_rate,
        prices_include_tax=prices_include_tax,
        shipping_domestic_minor=shipping_domestic_minor,
        shipping_cross_border_minor=shipping_cross_border_minor,
        created_at=now,
    )
    session.add(market)
    session.flush()
    after = {"country": spec.country, "currency": spec.currency, "tax_rate": spec.tax_rate, **fees}
    audit.record(session, "market.created", code, None, after, now)
    return market


@dataclass(frozen=True, slots=True)
class MarketView:
    """A market as the other contexts see it: a read-only value built from its row (they never hold
    the row itself, so no other context writes the markets table or depends on its mapping)."""

    id: int
    public_id: str
    code: str
    business_unit_id: int
    country: str
    currency: str
    locale: str
    time_zone: str
    tax_rate: Decimal
    prices_include_tax: bool
    shipping_domestic_minor: int
    shipping_cross_border_minor: int

    @classmethod
    def of(cls, market: Market) -> MarketView:
        return cls(
            market.id,
            market.public_id,
            market.code,
            market.business_unit_id,
            market.country,
            market.currency,
            market.locale,
            market.time_zone,
            market.tax_rate,
            market.prices_include_tax,
            market.shipping_domestic_minor,
            market.shipping_cross_border_minor,
        )


def get_market(session: Session, code_or_id: str) -> MarketView:
    """A market by code (`lazada-sg`) or public id (`mkt_...`); NotFound otherwise."""
    column = Market.public_id if code_or_id.startswith("mkt_") else Market.code
    market = session.scalar(select(Market).where(column == code_or_id))
    if market is None:
        raise NotFound(f"no market {code_or_id!r}")
    return MarketView.of(market)


def market_by_id(session: Session, market_id: int) -> MarketView:
    """A market by its internal id, as other contexts' rows refer to it (from the session's identity
    map when the transaction has already loaded it)."""
    market = session.get(Market, market_id)
    if market is None:
        raise NotFound(f"no market {market_id}")
    return MarketView.of(market)


def market_business_unit_code(session: Session, market: MarketView) -> str:
    code = session.scalar(select(OrgUnit.code).where(OrgUnit.id == market.business_unit_id))
    assert code is not None
    return code


def unit_codes(session: Session, unit_ids: Collection[int]) -> dict[int, str]:
    """id -> code of these units, in one query (a seller's marketplaces, say)."""
    if not unit_ids:
        return {}
    rows = session.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(unit_ids)))
    return {unit_id: code for unit_id, code in rows}


# An operator's rate: the weakest currencies trade at tens of thousands to the dollar, so a billion is a
# typo; the days run from the euro's first ECB fixing, which the other rates are crossed through.
MAX_PER_USD = Decimal(1_000_000_000)
RATE_DAYS = (dt.date(1999, 1, 4), dt.date(2100, 12, 31))


def set_manual_rate(session: Session, currency: str, on: dt.date, per_usd: Decimal, note: str) -> None:
    validate_currency(currency)
    errors = []
    if not (0 < per_usd <= MAX_PER_USD and per_usd == per_usd.quantize(Decimal("1e-8"))):
        errors.append(FieldError("per_usd", f"positive, at most {MAX_PER_USD:,} and 8 decimal places"))
    if not RATE_DAYS[0] <= on <= RATE_DAYS[1]:
        errors.append(FieldError("on", f"from {RATE_DAYS[0]} to {RATE_DAYS[1]}"))
    if errors:
        raise ValidationFailed("invalid rate", errors)
    existing = session.scalar(
        select(FxManualRate).where(FxManualRate.currency == currency, FxManualRate.on == on)
    )
    before = None if existing is None else {"per_usd": existing.per_usd, "note": existing.note}
    if existing is None:
        session.add(FxManualRate(currency=currency, on=on, per_usd=per_usd, note=note))
    else:
        existing.per_usd, existing.note = per_usd, note
    after = {"per_usd": per_usd, "note": note}
    audit.record(session, "fx_manual_rate.set", f"{currency}@{on}", before, after)


def list_manual_rates(
    session: Session, currency: str | None, after: int | None, limit: int
) -> list[FxManualRate]:
    """The operator's rates as they were set (`set_manual_rate`), a page in the order they were first
    stored, of one currency or all."""
    query = select(FxManualRate).order_by(FxManualRate.id).limit(limit)
    if currency is not None:
        query = query.where(FxManualRate.currency == currency)
    if after is not None:
        query = query.where(FxManualRate.id > after)
    return list(session.scalars(query))


def manual_rates_version(session: Session, currencies: Sequence[str]) -> tuple[int, int, Decimal]:
    """What changes when one of these currencies' rates is added or set again (set_manual_rate updates a
    day's rate in place): how many, the newest id and the sum of the rates, in one statement. For
    remembering the rates read between requests rather than reading thousands of rows each time."""
    count, newest, total = session.execute(
        select(func.count(FxManualRate.id), func.max(FxManualRate.id), func.sum(FxManualRate.per_usd)).where(
            FxManualRate.currency.in_(currencies)
        )
    ).one()
    return int(count), int(newest or 0), Decimal(total or 0)


def manual_rates(session: Session, currency: str, on_or_before: dt.date, limit: int = 1) -> list[ManualRate]:
    rows = session.scalars(
        select(FxManualRate)
        .where(FxManualRate.currency == currency, FxManualRate.on <= on_or_before)
        .order_by(FxManualRate.on.desc())
        .limit(limit)
    )
    return [ManualRate(r.currency, r.on, Decimal(r.per_usd)) for r in rows]


def rates_for(session: Session, fx: FxRates, currency: str, on: dt.date) -> FxRates:
    """ECB rates, plus the operator's rate for a currency the ECB does not publish (VND)."""
    if currency in fx.ecb_currencies() or currency == "EUR":
        return fx
    return fx.with_manual({currency: manual_rates(session, currency, on)})


# For other contexts' reads: a market's code inside their statements, and markets by id in one query.


def market_code(market_id_column: ColumnExpressionArgument[int]) -> ScalarSelect[str]:
    """The code of the market `market_id_column` refers to, as an expression for another context's
    query (a page of orders, say), so that the page stays one statement."""
    return select(Market.code).where(Market.id == market_id_column).scalar_subquery()


def market_id_with_code(code: str) -> ScalarSelect[int]:
    """The id of the market with this code (NULL when there is none), for another context's filter."""
    return select(Market.id).where(Market.code == code).scalar_subquery()


def markets_by_ids(session: Session, market_ids: Collection[int]) -> dict[int, MarketView]:
    """id -> market, in one query."""
    if not market_ids:
        return {}
    return {m.id: MarketView.of(m) for m in session.scalars(select(Market).where(Market.id.in_(market_ids)))}


def list_units(session: Session, kind: str | None, after: int | None, limit: int) -> list[OrgUnit]:
    """A page of organisation units in id order (of one kind when given), after the id `after`."""
    query = select(OrgUnit).order_by(OrgUnit.id).limit(limit)
    if kind:
        query = query.where(OrgUnit.kind == kind)
    if after is not None:
        query = query.where(OrgUnit.id > after)
    return list(session.scalars(query))


def list_markets(
    session: Session, country: str | None, after: int | None, limit: int
) -> list[tuple[Market, str]]:
    """A page of markets in id order (of one country when given), each with its business unit's code."""
    query = select(Market, OrgUnit.code).join(OrgUnit, OrgUnit.id == Market.business_unit_id)
    if country:
        query = query.where(Market.country == country)
    if after is not None:
        query = query.where(Market.id > after)
    return [(m, code) for m, code in session.execute(query.order_by(Market.id).limit(limit))]
