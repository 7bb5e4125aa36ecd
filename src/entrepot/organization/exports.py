"""The organisation for the reporting snapshot: every membership with its dates (the history that gives
the as-reported and recast views) and the markets with their business unit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from entrepot.organization.models import Market, OrgMembership, OrgUnit

Row = dict[str, Any]


def membership_rows(session: Session) -> list[Row]:
    child, parent = aliased(OrgUnit), aliased(OrgUnit)
    query = (
        select(
            child.code.label("child"),
            child.kind.label("child_kind"),
            parent.code.label("parent"),
            parent.kind.label("parent_kind"),
            OrgMembership.valid_from,
            OrgMembership.valid_to,
        )
        .join(child, child.id == OrgMembership.child_id)
        .join(parent, parent.id == OrgMembership.parent_id)
        .order_by(OrgMembership.id)
    )
    return [dict(r) for r in session.execute(query).mappings()]


def unit_rows(session: Session) -> list[Row]:
    query = select(OrgUnit.code, OrgUnit.kind, OrgUnit.name).order_by(OrgUnit.id)
    return [dict(r) for r in session.execute(query).mappings()]


def market_rows(session: Session) -> list[Row]:
    query = (
        select(
            Market.id.label("market_id"),
            Market.code.label("market"),
            OrgUnit.code.label("business_unit"),
            Market.country,
            Market.currency,
            Market.prices_include_tax,
        )
        .join(OrgUnit, OrgUnit.id == Market.business_unit_id)
        .order_by(Market.id)
    )
    return [dict(r) for r in session.execute(query).mappings()]
