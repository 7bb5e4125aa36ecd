"""Pure rules of the group's accounts: results in arrears at the stake then held, the share rounded to
the minor unit, categories, and segment figures that reconcile to the group total to the cent whatever
the structure they are recast to (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.periods import FiscalCalendar, fiscal_quarter
from entrepot.reporting.accounts.domain import (
    CATEGORIES,
    Stake,
    by_segment,
    check_category,
    in_arrears,
    quarters_of,
    remainder,
    share_of,
    share_pct,
    stake_on,
)
from entrepot.reporting.domain import Edge, ancestor_at, parse_period

FISCAL = FiscalCalendar(3)


def test_ant_s_quarter_is_recorded_one_quarter_later() -> None:
    dec_2021 = fiscal_quarter(2022, 3, FISCAL)
    assert in_arrears(dec_2021, 1, FISCAL).label == "FY2022Q2"
    assert in_arrears(fiscal_quarter(2022, 1, FISCAL), 1, FISCAL).label == "FY2021Q4"
    assert in_arrears(dec_2021, 0, FISCAL) == dec_2021


def test_a_fiscal_year_is_four_quarters_and_a_month_is_refused() -> None:
    assert [q.label for q in quarters_of(parse_period("FY2022", FISCAL), FISCAL)] == [
        "FY2022Q1",
        "FY2022Q2",
        "FY2022Q3",
        "FY2022Q4",
    ]
    with pytest.raises(ValidationFailed):
        quarters_of(parse_period("2021-12", FISCAL), FISCAL)


def test_the_stake_held_on_a_day_is_the_latest_begun() -> None:
    stakes = [
        Stake(Decimal("0.33"), dt.date(2019, 9, 23), "a"),
        Stake(Decimal("0.30"), dt.date(2023, 1, 1), "b"),
    ]
    assert stake_on(stakes, dt.date(2019, 9, 22)) is None
    assert stake_on(stakes, dt.date(2022, 12, 31)) == stakes[0]
    assert stake_on(stakes, dt.date(2023, 1, 1)) == stakes[1]


def test_the_share_is_rounded_half_to_even_and_keeps_a_loss_negative() -> None:
    assert share_of(100_001, Decimal("0.33")) == 33_000  # 33000.33
    assert share_of(-150, Decimal("0.33")) == -50  # -49.5 to even
    assert share_of(50, Decimal("0.5")) == 25


def test_seven_categories_four_social() -> None:
    assert len(CATEGORIES) == 7 and sum(CATEGORIES.values()) == 4
    assert check_category("rural-revitalisation") is True
    with pytest.raises(ValidationFailed):
        check_category("charity")


def test_cainiao_share_in_per_cent() -> None:
    assert share_pct(57, 100) == Decimal("57.0")
    assert share_pct(1, 3) == Decimal("33.3")
    assert share_pct(0, 0) is None


def test_the_published_segments_leave_the_rest_of_the_total() -> None:
    dec_2021 = [172_226, 16_449, 12_141, 19_539]
    assert remainder(242_580, dec_2021) == 22_225


UNITS = [f"bu-{i}" for i in range(6)]
SEGMENTS = ["core", "china", "intl", "cloud"]
REORG = dt.date(2021, 10, 1)


@given(
    figures=st.dictionaries(st.sampled_from(UNITS), st.integers(-(10**15), 10**15), min_size=1),
    before=st.lists(st.sampled_from(SEGMENTS), min_size=len(UNITS), max_size=len(UNITS)),
    after=st.lists(st.sampled_from(SEGMENTS), min_size=len(UNITS), max_size=len(UNITS)),
    unassigned=st.sets(st.sampled_from(UNITS)),
    day=st.dates(dt.date(2020, 1, 1), dt.date(2023, 12, 31)),
)
def test_segments_reconcile_to_the_group_total_to_the_cent_as_reported_and_recast(
    figures: dict[str, int], before: list[str], after: list[str], unassigned: set[str], day: dt.date
) -> None:
    """Units move between segments on the reorganisation's day, some sit in none: on any day's
    structure the segments (unallocated included) add up to the group's total exactly."""
    edges = [
        edge
        for unit, old, new in zip(UNITS, before, after, strict=True)
        if unit not in unassigned
        for edge in (
            Edge(unit, old, "segment", dt.date(2019, 4, 1), REORG),
            Edge(unit, new, "segment", REORG, None),
        )
    ]
    segment_of = {unit: ancestor_at(edges, unit, "segment", day) for unit in figures}
    segment_of = {u: (None if s == "(unassigned)" else s) for u, s in segment_of.items()}
    totals = by_segment(figures, segment_of)
    assert sum(totals.values()) == sum(figures.values())
    recast = by_segment(figures, {u: ancestor_at(edges, u, "segment", dt.date(2024, 1, 1)) for u in figures})
    assert sum(recast.values()) == sum(totals.values())
