"""Reports read the operator's rates (currencies the ECB does not publish) from a copy remembered between
requests: a rate added, or a day's rate set again in place, must reach the next report all the same."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from entrepot.kernel.fx import FxRates, load_ecb
from entrepot.kernel.money import Money
from entrepot.organization import service as organization
from entrepot.platform.db import Database
from entrepot.reporting import service

DAY = dt.date(2025, 11, 11)


@dataclass
class _Snapshot:
    currencies: list[str]


def _usd_of_a_million_vnd(database: Database, on: dt.date) -> Money:
    """A million dong in dollars on a day, at the rates a report would read."""
    snap = cast(Any, _Snapshot(["VND", "USD"]))  # only its currencies are read
    rates = service.with_operator_rates(database, FxRates(load_ecb()), snap)
    return rates.convert(Money(1_000_000, "VND"), "USD", on).amount


def test_a_rate_added_or_set_again_reaches_the_next_read(database: Database) -> None:
    with database.transaction() as session:
        organization.set_manual_rate(session, "VND", DAY, Decimal("25000"), "first")
    assert _usd_of_a_million_vnd(database, DAY) == Money(4000, "USD")  # 40.00 USD
    assert _usd_of_a_million_vnd(database, DAY) == Money(4000, "USD")  # read again, unchanged
    with database.transaction() as session:  # the same day again: an update in place
        organization.set_manual_rate(session, "VND", DAY, Decimal("20000"), "corrected")
    assert _usd_of_a_million_vnd(database, DAY) == Money(5000, "USD")
    next_day = DAY + dt.timedelta(days=1)
    with database.transaction() as session:
        organization.set_manual_rate(session, "VND", next_day, Decimal("10000"), "next day")
    assert _usd_of_a_million_vnd(database, next_day) == Money(10000, "USD")
