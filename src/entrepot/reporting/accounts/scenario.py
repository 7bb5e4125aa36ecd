"""The built-in group-facts scenario's accounts: the published figures (plans.load_group_facts), Ant
Group as a 33 % equity-method investee, and the social programmes issue 27 names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from entrepot.kernel.periods import FiscalCalendar
from entrepot.reporting import plans
from entrepot.reporting.accounts import investees, programmes

# The scenario's first fiscal year: the demo's history starts with it.
FIRST_FISCAL_YEAR = 2020


def load(session: Session, fiscal: FiscalCalendar, now: dt.datetime) -> dict[str, Any]:
    loaded = plans.load_group_facts(session, fiscal, now)
    investees.load_ant(session, fiscal.year_start(FIRST_FISCAL_YEAR), now)
    programmes.load_scenario(session, now)
    return loaded
