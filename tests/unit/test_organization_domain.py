"""Organisation rules: the kind hierarchy, effective-dated moves, markets and market-local days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from entrepot.kernel.errors import Conflict, ValidationFailed
from entrepot.organization.domain import (
    MarketSpec,
    Membership,
    check_code,
    check_market,
    check_parent_kind,
    local_date,
    parent_on,
    plan_move,
)

# -- hierarchy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("child", "parent"),
    [("group", None), ("segment", "group"), ("division", "segment"), ("business_unit", "division")],
)
def test_allowed_parent_kinds(child: str, parent: str | None) -> None:
    assert check_parent_kind(child, parent) is None


@pytest.mark.parametrize(
    ("child", "parent", "expected"),
    [
        ("segment", None, "group"),
        ("segment", "division", "group"),
        ("division", "group", "segment"),
        ("division", "division", "segment"),
        ("business_unit", "segment", "division"),
        ("business_unit", None, "division"),
        ("business_unit", "business_unit", "division"),
    ],
)
def test_wrong_parent_kind(child: str, parent: str | None, expected: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_parent_kind(child, parent)
    assert [(e.field, e.message) for e in info.value.field_errors] == [("parent", f"expected a {expected}")]
    assert info.value.detail == f"a {child} must sit under a {expected}, not under a {parent or 'nothing'}"


@pytest.mark.parametrize("parent", ["group", "segment", "division"])
def test_a_group_has_no_parent(parent: str) -> None:
    with pytest.raises(ValidationFailed, match="a group has no parent") as info:
        check_parent_kind("group", parent)
    assert [e.field for e in info.value.field_errors] == ["parent"]


@pytest.mark.parametrize("code", ["ab", "acme-sea", "a1", "x" * 63, "0-day"])
def test_valid_codes(code: str) -> None:
    assert check_code(code) == code


@pytest.mark.parametrize("code", ["a", "Acme", "-acme", "acme_sea", "x" * 64, "", "acme sea"])
def test_invalid_codes(code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_code(code, "parent_code")
    assert [e.field for e in info.value.field_errors] == ["parent_code"]


# -- memberships -----------------------------------------------------------------------------------

JAN, JUL = dt.date(2024, 1, 1), dt.date(2024, 7, 1)
HISTORY = [Membership("seg-retail", JAN, JUL), Membership("seg-wholesale", JUL, None)]


def test_membership_covers_half_open_interval() -> None:
    closed = HISTORY[0]
    assert closed.covers(JAN)
    assert closed.covers(JUL - dt.timedelta(days=1))
    assert not closed.covers(JUL)  # valid_to is exclusive
    assert not closed.covers(JAN - dt.timedelta(days=1))
    assert HISTORY[1].covers(dt.date(2099, 1, 1))


@pytest.mark.parametrize(
    ("day", "parent"),
    [
        (dt.date(2023, 12, 31), None),
        (JAN, "seg-retail"),
        (dt.date(2024, 6, 30), "seg-retail"),
        (JUL, "seg-wholesale"),
        (dt.date(2030, 1, 1), "seg-wholesale"),
    ],
)
def test_parent_on(day: dt.date, parent: str | None) -> None:
    assert parent_on(HISTORY, day) == parent


def test_parent_on_without_history() -> None:
    assert parent_on([], JAN) is None


def test_plan_move_returns_the_open_membership() -> None:
    assert plan_move(HISTORY, "seg-online", dt.date(2024, 7, 2)) == HISTORY[1]
    assert plan_move(HISTORY, "seg-online", dt.date(2025, 3, 1)) == HISTORY[1]


@pytest.mark.parametrize("effective", [JUL, dt.date(2024, 6, 30), JAN])
def test_plan_move_too_early(effective: dt.date) -> None:
    with pytest.raises(ValidationFailed) as info:
        plan_move(HISTORY, "seg-online", effective)
    assert "2024-07-01" in info.value.detail
    assert [(e.field, e.message) for e in info.value.field_errors] == [("effective_from", "too early")]


def test_plan_move_to_the_same_parent_is_no_change() -> None:
    with pytest.raises(Conflict) as info:
        plan_move(HISTORY, "seg-wholesale", dt.date(2024, 8, 1))
    assert info.value.code == "no-change"
    assert info.value.status == 409
    assert "seg-wholesale" in info.value.detail


def test_plan_move_to_the_former_parent_is_allowed() -> None:
    assert plan_move(HISTORY, "seg-retail", dt.date(2024, 8, 1)) == HISTORY[1]


@pytest.mark.parametrize("history", [[], [Membership("seg-retail", JAN, JUL)]])
def test_plan_move_without_an_open_membership(history: list[Membership]) -> None:
    with pytest.raises(Conflict, match="no open membership") as info:
        plan_move(history, "seg-online", dt.date(2024, 8, 1))
    assert info.value.code == "conflict"


# -- markets ---------------------------------------------------------------------------------------

GOOD = MarketSpec("SG", "SGD", "en_SG", "Asia/Singapore", Decimal("0.09"))


def _with(**changes: object) -> MarketSpec:
    values = {
        "country": GOOD.country,
        "currency": GOOD.currency,
        "locale": GOOD.locale,
        "time_zone": GOOD.time_zone,
        "tax_rate": GOOD.tax_rate,
    }
    values.update(changes)
    return MarketSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spec",
    [
        GOOD,
        MarketSpec("VN", "VND", "vi_VN", "Asia/Ho_Chi_Minh", Decimal("0.10")),
        MarketSpec("BH", "BHD", "ar_BH", "Asia/Bahrain", Decimal(0)),
        MarketSpec("MY", "MYR", "ms-MY", "Asia/Kuala_Lumpur", Decimal("0.999")),
    ],
)
def test_good_markets_pass(spec: MarketSpec) -> None:
    assert check_market(spec) is spec


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "SGP"}, "country"),
        ({"country": ""}, "country"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "sgd"}, "currency"),
        ({"locale": "zz_ZZ"}, "locale"),
        ({"locale": ""}, "locale"),
        ({"locale": "!!"}, "locale"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"tax_rate": Decimal("-0.01")}, "tax_rate"),
        ({"tax_rate": Decimal(1)}, "tax_rate"),
        ({"tax_rate": Decimal(9)}, "tax_rate"),
    ],
)
def test_bad_market_field_gives_a_field_error(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_market(_with(**changes))
    assert info.value.detail == "invalid market"
    assert [e.field for e in info.value.field_errors] == [field]


def test_lower_case_country_is_rejected() -> None:
    # Markets are stored with the country as given and compared case-sensitively with warehouse and
    # buyer countries (buyers are upper-cased by the API), so "sg" must not pass as a valid country.
    with pytest.raises(ValidationFailed) as info:
        check_market(_with(country="sg"))
    assert [e.field for e in info.value.field_errors] == ["country"]


def test_every_bad_field_is_reported_at_once() -> None:
    bad = MarketSpec("XX", "XYZ", "zz_ZZ", "Nowhere/Land", Decimal("1.5"))
    with pytest.raises(ValidationFailed) as info:
        check_market(bad)
    assert [e.field for e in info.value.field_errors] == [
        "country",
        "currency",
        "locale",
        "time_zone",
        "tax_rate",
    ]
    assert "'XYZ'" in info.value.field_errors[1].message


# -- market-local days -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "day"),
    [
        # 16:30 UTC is 00:30 the next day in Singapore (UTC+8)
        (dt.datetime(2025, 3, 31, 16, 30, tzinfo=dt.UTC), "Asia/Singapore", dt.date(2025, 4, 1)),
        (dt.datetime(2025, 3, 31, 15, 59, tzinfo=dt.UTC), "Asia/Singapore", dt.date(2025, 3, 31)),
        # 03:00 UTC on New Year's Day is still 31 December in New York (UTC-5): even the year differs
        (dt.datetime(2025, 1, 1, 3, 0, tzinfo=dt.UTC), "America/New_York", dt.date(2024, 12, 31)),
        # Kiritimati is UTC+14: 10:00 UTC is already the next day
        (dt.datetime(2025, 6, 30, 10, 0, tzinfo=dt.UTC), "Pacific/Kiritimati", dt.date(2025, 7, 1)),
        # the same instant given in another offset gives the same local day
        (
            dt.datetime(2025, 4, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            "Europe/London",
            dt.date(2025, 3, 31),
        ),
    ],
)
def test_local_date_follows_the_market_time_zone(moment: dt.datetime, zone: str, day: dt.date) -> None:
    assert local_date(moment, zone) == day
