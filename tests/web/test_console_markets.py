"""Markets and FX: the markets with currency, locale and time zone for every role (as GET
/api/v1/markets); a dollar's rate in each currency on a day with the date, source and provisional flag
GET /api/v1/fx/convert gives; the freshness table (GET /api/v1/fx/status) for operators only."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.web.conftest import console_as
from tests.world import World


def _row(page: str, currency: str, table: str) -> str:
    region = page[page.index(f'aria-label="{table}') :]
    found = re.search(rf"<tr[^>]*>\s*<td>{currency}</td>.*?</tr>", region, re.S)
    assert found, region
    return found.group(0)


def test_markets_show_currency_locale_and_time_zone(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "seller-a").get("/markets")
    assert page.status_code == 200
    row = re.search(r"<tr>\s*<td class=\"mono\">lazada-sg</td>.*?</tr>", page.text, re.S)
    assert row is not None
    for shown in ("lazada", "SG", "SGD", "en_SG", "Asia/Singapore", "9.0%", "include tax"):
        assert f">{shown}<" in row.group(0), shown


def test_a_dollars_rate_on_a_day_is_the_apis_conversion(world: World, people: dict[str, str]) -> None:
    api = world.client()
    for day in ("2025-11-11", "2025-11-09"):  # a Tuesday, and a Sunday with Friday's rate
        page = console_as(world, "ops").get(f"/markets?on={day}").text
        for currency in ("SGD", "CNY"):
            expected = api.get(
                "/api/v1/fx/convert",
                params={"amount_minor": 100, "from": "USD", "to": currency, "on": day},
                headers=world.auth("seller_a"),
            ).json()
            row = _row(page, currency, "US dollar rates")
            assert f'<td class="num">{Decimal(str(expected["rate"])).normalize():,f}</td>' in row
            assert f"<td>{expected['rate_date']}</td>" in row and f"<td>{expected['source']}</td>" in row
            assert ("provisional" in row) == expected["provisional"]


def test_a_rate_older_than_the_limit_is_flagged_provisional(world: World, people: dict[str, str]) -> None:
    page = console_as(world, "ops").get("/markets?on=2100-01-01").text  # decades after the newest rate
    row = _row(page, "SGD", "US dollar rates")
    assert "provisional" in row and 'class="stale"' in row


def test_only_operators_see_the_freshness_of_rates(world: World, people: dict[str, str]) -> None:
    api = world.client()
    status = api.get("/api/v1/fx/status", headers=world.auth("operator")).json()
    page = console_as(world, "ops").get("/markets").text
    for currency in status:
        row = _row(page, currency["currency"], "Newest rate per currency")
        assert ("status-stale" in row) == currency["stale"], currency
    assert api.get("/api/v1/fx/status", headers=world.auth("seller_a")).status_code == 403
    seller = console_as(world, "seller-a").get("/markets").text
    assert "Newest rate per currency" not in seller and "US dollar rates" in seller
