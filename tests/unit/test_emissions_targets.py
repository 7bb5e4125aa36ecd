"""Periods (in the fiscal calendar of the settings; 31 March by default), targets on a straight-line
pathway, and scenarios."""

from __future__ import annotations

import datetime as dt

import pytest

from entrepot.emissions.defaults import default_table
from entrepot.emissions.factors import FactorSet
from entrepot.emissions.periods import PeriodError, parse_period
from entrepot.emissions.reports import period_of
from entrepot.emissions.targets import Levers, ScenarioLeg, Target, Totals, project, run_scenario
from entrepot.kernel import periods
from entrepot.kernel.periods import FiscalCalendar
from entrepot.platform.settings import Settings
from entrepot.reporting import domain as reporting

DEFAULTS = FactorSet((default_table(),))
MARCH = FiscalCalendar(3)


@pytest.mark.parametrize(
    ("text", "label", "start", "stop"),
    [
        ("FY2022", "FY2022", dt.date(2021, 4, 1), dt.date(2022, 4, 1)),
        ("fy2025-q1", "FY2025Q1", dt.date(2024, 4, 1), dt.date(2024, 7, 1)),
        ("FY2025Q4", "FY2025Q4", dt.date(2025, 1, 1), dt.date(2025, 4, 1)),
        ("2025", "2025", dt.date(2025, 1, 1), dt.date(2026, 1, 1)),
        ("2025-Q4", "2025-Q4", dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
        ("2025-11", "2025-11", dt.date(2025, 11, 1), dt.date(2025, 12, 1)),
        ("2025-11-01..2025-11-15", "2025-11-01..2025-11-15", dt.date(2025, 11, 1), dt.date(2025, 11, 15)),
    ],
)
def test_periods(text: str, label: str, start: dt.date, stop: dt.date) -> None:
    period = parse_period(text, MARCH)
    assert (period.label, period.start, period.stop) == (label, start, stop)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FY25", "is not understood"),
        ("2025-13", "month 13 is not 01-12"),
        ("FY1800", "outside 1990-2100"),
        ("2025-12-01..2025-11-01", "is not after its start"),
        ("2025-02-30..2025-03-01", "not a date"),
    ],
)
def test_bad_periods_say_why(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text, MARCH)


def test_a_march_year_end_from_the_settings_puts_mid_february_in_the_last_quarter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENTREPOT_FISCAL_YEAR_END_MONTH", "3")
    fiscal = FiscalCalendar(Settings().fiscal_year_end_month)
    day = dt.date(2025, 2, 15)
    assert (fiscal.fiscal_year(day), fiscal.fiscal_quarter(day)) == (2025, 4)
    year, quarter = period_of("FY2025", fiscal), period_of("FY2025Q4", fiscal)
    assert (year.start, year.stop) == (dt.date(2024, 4, 1), dt.date(2025, 4, 1))
    assert (quarter.start, quarter.last) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert year.start <= day < year.stop and quarter.start <= day < quarter.stop
    assert not period_of("FY2026", fiscal).start <= day  # not in the fiscal year named after 2026
    assert periods.containing(periods.FISCAL_QUARTER, day, fiscal) == quarter


def test_emissions_follows_the_fiscal_year_end_of_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTREPOT_FISCAL_YEAR_END_MONTH", "12")  # fiscal years are calendar years
    fiscal = FiscalCalendar(Settings().fiscal_year_end_month)
    assert (period_of("FY2025", fiscal).start, period_of("FY2025Q1", fiscal).stop) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 4, 1),
    )
    day = dt.date(2025, 2, 15)
    assert (fiscal.fiscal_year(day), fiscal.fiscal_quarter(day)) == (2025, 1)
    for text in ("FY2025", "FY2025-Q1", "FY2025Q3"):
        assert period_of(text, fiscal) == reporting.parse_period(text, fiscal)


def test_the_default_target_halves_by_fy2030_on_a_straight_line() -> None:
    target = Target("g_per_tkm", 2022, 200.0)
    assert target.target_value == 100.0
    assert target.pathway(2026) == pytest.approx(150.0)
    assert target.pathway(2020) == 200.0 and target.pathway(2035) == 100.0
    assert target.on_track(150.0, 2026) and not target.on_track(150.1, 2026)
    with pytest.raises(ValueError, match="after the baseline"):
        Target("g_per_tkm", 2030, 1.0, 2030)


def test_totals_give_each_metric() -> None:
    totals = Totals(
        wtw_mg=5_000_000_000, ttw_mg=4_000_000_000, wtt_mg=1_000_000_000, tkm=25_000.0, parcels=500
    )
    assert totals.metric("absolute_t") == 5.0
    assert totals.metric("absolute_t", days=73) == pytest.approx(25.0)  # annualised
    assert totals.metric("g_per_tkm") == 200.0 and totals.metric("g_per_parcel") == 10_000.0
    assert Totals(0, 0, 0, 0.0, 0).metric("g_per_tkm") is None


def test_scenario_levers_by_hand() -> None:
    air = ScenarioLeg("air", "long_haul", "CN-SG", 1_000_000, 5000.0, 3_330_000_000, {"sea": 6000.0})
    other_lane = ScenarioLeg("air", "long_haul", "CN-MY", 1_000_000, 5000.0, 3_330_000_000, {"sea": 6000.0})
    van = ScenarioLeg("last_mile", "van_diesel", "CN-SG", 100_000, 10.0, 782_000)  # 1 t-km
    levers = Levers(
        shift_air_share=0.5, shift_air_to="sea", lanes=frozenset({"CN-SG"}), electric_van_share=0.5
    )
    outcome = run_scenario([air, other_lane, van], levers, DEFAULTS)
    # air: half stays (1,665 kg); half is 1 t x 6,000 km x 0.5 = 3,000 t-km by sea at 19.8 g = 59.4 kg
    # van: half at 782 g, half at 276 g per t-km = 529 g; the other lane is untouched
    assert outcome.scenario_wtw_g == pytest.approx(1_665_000 + 59_400 + 3_330_000 + 529)
    assert outcome.baseline_wtw_g == pytest.approx(6_660_000 + 782)
    assert outcome.shifted_tkm == pytest.approx(2500) and outcome.electrified_tkm == pytest.approx(0.5)
    fuller = run_scenario([van], Levers(load_factor_gain=0.25), DEFAULTS)
    assert fuller.scenario_wtw_g == pytest.approx(782 / 1.25)
    no_sea = ScenarioLeg("air", "long_haul", "CN-SG", 1000, 5000.0, 3_330_000)
    assert run_scenario([no_sea], Levers(shift_air_share=1.0), DEFAULTS).not_shiftable == 1
    with pytest.raises(ValueError, match="shift_air_share"):
        Levers(shift_air_share=1.5)


def test_projection_grows_absolute_values_only() -> None:
    assert project(100.0, "g_per_tkm", 2026, 2030, 0.1) == 100.0
    assert project(100.0, "absolute_t", 2026, 2030, 0.1) == pytest.approx(146.41)


def test_renewable_electricity_at_hubs_by_kind_or_by_a_named_site() -> None:
    # 2 kg through two sorting hubs (0.002 t x 0.6 kg/t = 1.2 g each) and a warehouse (35 g)
    sorting_sg = ScenarioLeg("hub", "sortation_hub", "CN-SG", 2000, 0.0, 1200, node="hub-sg")
    sorting_my = ScenarioLeg("hub", "sortation_hub", "CN-MY", 2000, 0.0, 1200, node="hub-my")
    warehouse = ScenarioLeg("hub", "fulfilment_warehouse", "CN-SG", 2000, 0.0, 35_000, node="cn-hangzhou")
    truck = ScenarioLeg("road", "truck", "CN-SG", 2000, 100.0, 25_000)
    levers = Levers(renewable_hubs=(("hub-sg", 0.5), ("sortation_hub", 1.0)))  # the named site wins
    outcome = run_scenario([sorting_sg, sorting_my, warehouse, truck], levers, DEFAULTS)
    assert outcome.baseline_hubs_g == pytest.approx(37.4)
    assert outcome.scenario_hubs_g == pytest.approx(0.6 + 0.0 + 35.0)
    assert outcome.scenario_wtw_g == pytest.approx(35.6 + 25.0) and outcome.baseline_tkm == pytest.approx(0.2)
    with pytest.raises(ValueError, match="renewable share"):
        Levers(renewable_hubs=(("airport", 1.5),))
