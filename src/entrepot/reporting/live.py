"""Live figures from the store, for the console's overview and the demo's table: GMV and orders by
division and market over a few days. The snapshot answers group reporting (fiscal periods, recast
views); it is taken now and then, while an operator's "today" needs the orders of this minute, so these
few aggregates are asked of ordering's own query (one grouped statement), never read row by row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from entrepot.ordering.queries import gmv_by_market
from entrepot.organization import service as organization

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
    """Orders dated in [start, end), each market under the division its business unit sat in on the
    period's last day (the organisation is effective-dated: a unit moved mid-period counts where it
    ended up)."""
    return windows_to(session, [start], end)[0]


def windows_to(session: Session, starts: Sequence[dt.date], end: dt.date) -> list[list[Row]]:
    """`gmv_rows` for windows from each of `starts` to the same `end`: the organisation on their one
    last day is looked up once for all (its ancestry costs more than the grouped orders)."""
    by_window = [gmv_by_market(session, start, end) for start in starts]
    units = organization.unit_codes(session, {m.business_unit_id for ms in by_window for m in ms})
    last_day = end - dt.timedelta(days=1)
    divisions: dict[str, str] = {}
    for code in set(units.values()):
        division = organization.ancestry_on(session, code, last_day).get("division")
        divisions[code] = organization.get_unit(session, division).name if division else "-"
    return [
        sorted(
            (
                Row(
                    divisions[units[m.business_unit_id]],
                    units[m.business_unit_id],
                    m.market,
                    m.orders,
                    m.gmv_usd_minor,
                    m.paid_gmv_usd_minor,
                )
                for m in markets
            ),
            key=lambda r: (r.division, r.market),
        )
        for markets in by_window
    ]
