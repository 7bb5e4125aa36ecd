"""The day a console page shows when none is asked for: today in China on the injected clock; and the
fiscal year a report page opens on.

"Today" is the day in the group's home zone (Asia/Shanghai), where most of its orders are (Southeast
Asia is 0-1 hour behind): from 16:00 UTC the UTC+8 markets' new day has begun and is the one shown.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from entrepot.kernel.periods import FiscalCalendar
from entrepot.ordering import queries
from entrepot.platform.deps import AppContext

HOME = ZoneInfo("Asia/Shanghai")


def home_today(now: dt.datetime) -> dt.date:
    return now.astimezone(HOME).date()


def this_year(ctx: AppContext) -> str:
    """This fiscal year by the injected clock, as `FY2027`."""
    return f"FY{FiscalCalendar(ctx.settings.fiscal_year_end_month).fiscal_year(ctx.clock().date())}"


def year_to_open(ctx: AppContext) -> str:
    """The fiscal year a report page opens on: this one, unless the newest order is of an earlier one
    (a demo's or a restored copy's orders), which the page then opens on and says so."""
    fiscal, today = FiscalCalendar(ctx.settings.fiscal_year_end_month), ctx.clock().date()
    with ctx.db.transaction() as session:
        newest = queries.last_order_date(session)
    return f"FY{fiscal.fiscal_year(min(newest or today, today))}"
