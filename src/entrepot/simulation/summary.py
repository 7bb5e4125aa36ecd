"""GMV by division and market in USD, as the demo prints it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.ordering.queries import gmv_by_market
from entrepot.organization import service as organization
from entrepot.organization.models import OrgUnit

GMV_DEFINITION = (
    "GMV here = subtotals of all placed orders, paid or not, cancelled or returned, taxes included as"
    " priced, shipping excluded, in USD at the ECB rate of each order date (a quick look at the store;"
    " `entrepot report gmv` gives each unit's own labelled definition)"
)


@dataclass(frozen=True)
class Row:
    division: str
    business_unit: str
    market: str
    orders: int
    gmv_usd: int
    paid_gmv_usd: int


def gmv_rows(session: Session, start: dt.date, end: dt.date) -> list[Row]:
    """Each market under the division its business unit sat in at the end of the period."""
    rows = []
    for market in gmv_by_market(session, start, end):
        unit = session.get(OrgUnit, market.business_unit_id)
        assert unit is not None
        code = organization.ancestry_on(session, unit.code, end - dt.timedelta(days=1)).get("division")
        division = organization.get_unit(session, code).name if code else "-"
        rows.append(
            Row(
                division,
                unit.code,
                market.market,
                market.orders,
                market.gmv_usd_minor,
                market.paid_gmv_usd_minor,
            )
        )
    return sorted(rows, key=lambda r: (r.division, r.market))
