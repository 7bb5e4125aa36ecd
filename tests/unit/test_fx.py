"""FX on the ECB reference history bundled with RateBook (no network) plus operator rates:
a stale rate is used and marked provisional, never refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrepot.kernel.ecb import PublishedRate, parse_ecb
from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.fx import FxRates, ManualRate, RateBook, load_ecb
from entrepot.kernel.money import Money, minor_unit_exponent
from entrepot.kernel.periods import FISCAL_YEAR, RANGE, Period
from entrepot.reporting.domain import Bucket
from entrepot.reporting.rates import period_average_factors, transaction_date_factors

# ECB euro reference rates published for Tuesday 2025-11-11 (units per EUR).
TUESDAY = dt.date(2025, 11, 11)
USD_PER_EUR = Decimal("1.1575")
JPY_PER_EUR = Decimal("178.46")
FRIDAY = dt.date(2025, 11, 14)


@pytest.fixture(scope="module")
def converter() -> RateBook:
    return load_ecb()


@pytest.fixture(scope="module")
def rates(converter: RateBook) -> FxRates:
    return FxRates(converter)


def test_bundled_history_holds_the_reference_rates(rates: FxRates) -> None:
    usd = rates.rate("USD", TUESDAY)
    assert (usd.per_eur, usd.as_of, usd.source) == (USD_PER_EUR, TUESDAY, "ECB")
    assert rates.rate("JPY", TUESDAY).per_eur == JPY_PER_EUR
    eur = rates.rate("EUR", TUESDAY)
    assert (eur.per_eur, eur.as_of) == (Decimal(1), TUESDAY)


def test_eur_to_usd_on_a_weekday(rates: FxRates) -> None:
    # 100.00 EUR * 1.1575 = 115.75 USD
    conversion = rates.convert(Money(10000, "EUR"), "USD", TUESDAY)
    assert conversion.amount == Money(11575, "USD")
    assert conversion.rate == USD_PER_EUR
    assert conversion.as_of == TUESDAY
    assert conversion.source == "identity/ECB"


def test_usd_to_jpy_is_the_cross_rate_rounded_half_up(rates: FxRates) -> None:
    # cross rate JPY per USD = 178.46 / 1.1575 = 154.17710583...
    # 100.00 USD -> 100 * 154.17710583 = 15417.710583 JPY -> 15418 JPY (JPY has no minor unit)
    conversion = rates.convert(Money(10000, "USD"), "JPY", TUESDAY)
    assert conversion.amount == Money(15418, "JPY")
    assert conversion.rate == (JPY_PER_EUR / USD_PER_EUR).quantize(Decimal("1e-10"))
    assert conversion.as_of == TUESDAY
    # and the reverse: 15418 JPY / 154.17710583 = 100.0019... USD -> 100.00 USD
    back = rates.convert(Money(15418, "JPY"), "USD", TUESDAY)
    assert back.amount == Money(10000, "USD")


@pytest.mark.parametrize("minor", [1, 99, 12345, 10**9])
def test_weekday_conversion_equals_amount_times_rate_within_half_a_minor_unit(
    rates: FxRates, minor: int
) -> None:
    conversion = rates.convert(Money(minor, "SGD"), "CNY", TUESDAY)
    exact = Decimal(minor) * rates.rate("CNY", TUESDAY).per_eur / rates.rate("SGD", TUESDAY).per_eur
    assert abs(Decimal(conversion.amount.minor) - exact) <= Decimal("0.5")
    # the stored (10-decimal) rate gives the same figure up to its own precision
    rate_slack = minor * Decimal("1e-10")
    assert abs(Decimal(conversion.amount.minor) - minor * conversion.rate) <= Decimal("0.5") + rate_slack


def test_same_currency_is_the_identity(rates: FxRates) -> None:
    conversion = rates.convert(Money(777, "JPY"), "JPY", dt.date(2025, 11, 15))
    assert (conversion.amount, conversion.rate, conversion.source) == (Money(777, "JPY"), 1, "identity")


@pytest.mark.parametrize("weekend_day", [dt.date(2025, 11, 15), dt.date(2025, 11, 16)])
def test_weekend_uses_the_previous_friday_rate(rates: FxRates, weekend_day: dt.date) -> None:
    assert weekend_day.weekday() in (5, 6)
    assert rates.rate("USD", weekend_day).as_of == FRIDAY
    on_weekend = rates.convert(Money(10000, "EUR"), "USD", weekend_day)
    on_friday = rates.convert(Money(10000, "EUR"), "USD", FRIDAY)
    assert on_weekend.as_of == FRIDAY
    assert on_weekend.amount == on_friday.amount == Money(11648, "USD")  # 1.1648 USD per EUR on Friday
    assert on_weekend.rate == on_friday.rate


def test_cross_rate_on_a_weekend_reports_friday(rates: FxRates) -> None:
    conversion = rates.convert(Money(10000, "USD"), "SGD", dt.date(2025, 11, 16))
    assert conversion.as_of == FRIDAY


def test_christmas_holidays_fall_back_to_the_last_publication(rates: FxRates) -> None:
    # 25 and 26 December are TARGET holidays; the weekend follows: the 24th is the last rate
    for day in (25, 26, 27, 28):
        assert rates.rate("USD", dt.date(2025, 12, day)).as_of == dt.date(2025, 12, 24)


def test_zero_staleness_marks_a_weekend_provisional(converter: RateBook) -> None:
    strict = FxRates(converter, max_staleness_days=0)
    friday = strict.rate("USD", FRIDAY)
    assert (friday.as_of, friday.provisional) == (FRIDAY, False)
    saturday = strict.rate("USD", dt.date(2025, 11, 15))
    assert (saturday.as_of, saturday.per_eur, saturday.provisional) == (FRIDAY, friday.per_eur, True)


def test_beyond_the_staleness_window_the_last_rate_is_used_and_marked_provisional(
    converter: RateBook,
) -> None:
    rates = FxRates(converter, max_staleness_days=7)
    last = converter.newest_day("USD")
    assert last is not None
    # exactly 7 days after the last publication is still fresh, and says which date it used
    on_limit = rates.convert(Money(10000, "EUR"), "USD", last + dt.timedelta(days=7))
    assert (on_limit.as_of, on_limit.provisional) == (last, False)
    late = rates.convert(Money(10000, "EUR"), "USD", last + dt.timedelta(days=8))
    assert (late.as_of, late.provisional, late.amount) == (last, True, on_limit.amount)


@pytest.mark.parametrize("day", [dt.date(2026, 12, 15), dt.date(2027, 6, 1), dt.date(2030, 12, 31)])
def test_no_day_ahead_stops_a_conversion(converter: RateBook, day: dt.date) -> None:
    # The bundled history ends in 2026; every later day converts with its newest rate, provisionally.
    rates = FxRates(converter, 45, {"VND": [ManualRate("VND", TUESDAY, Decimal("26300"))]})
    for currency in ("USD", "CNY", "SGD", "VND"):
        conversion = rates.convert(Money(10**6, currency), "USD" if currency != "USD" else "CNY", day)
        assert conversion.provisional
        assert conversion.amount.minor > 0


def test_a_rate_added_later_reaches_every_rates_object_sharing_the_book() -> None:
    book = RateBook(
        [PublishedRate("USD", TUESDAY, USD_PER_EUR), PublishedRate("CNY", TUESDAY, Decimal("8.2"))]
    )
    rates = FxRates(book, 7)
    with_vnd = rates.with_manual({"VND": [ManualRate("VND", TUESDAY, Decimal("26300"))]})
    later = TUESDAY + dt.timedelta(days=30)
    assert rates.convert(Money(100, "USD"), "CNY", later).provisional
    book.add([PublishedRate("USD", later, Decimal("1.2")), PublishedRate("CNY", later, Decimal("8.4"))])
    fresh = rates.convert(Money(10000, "USD"), "CNY", later)
    assert (fresh.provisional, fresh.as_of, fresh.amount) == (False, later, Money(70000, "CNY"))
    assert not with_vnd.rate("USD", later).provisional
    assert with_vnd.rate("VND", later).provisional  # the operator's VND rate itself is 30 days old


def test_a_day_before_the_first_rate_is_refused(converter: RateBook) -> None:
    with pytest.raises(ValidationFailed, match="no ECB rate for USD on or before 1998-12-31"):
        FxRates(converter).rate("USD", dt.date(1998, 12, 31))


ECB_CSV = "Date,USD,JPY,CYP,\n2026-11-03,1.1500,175.10,N/A,\n2026-11-02,1.1480,174.90,N/A,\n"
ECB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
  xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-11-03"><Cube currency="USD" rate="1.1500"/><Cube currency="JPY" rate="175.10"/></Cube>
    <Cube time="2026-11-02"><Cube currency="USD" rate="1.1480"/><Cube currency="JPY" rate="174.90"/></Cube>
  </Cube>
</gesmes:Envelope>"""


def test_the_ecb_csv_and_xml_give_the_same_rates() -> None:
    from_csv, from_xml = parse_ecb(ECB_CSV.encode()), parse_ecb(ECB_XML.encode())
    assert sorted(from_csv, key=repr) == sorted(from_xml, key=repr)
    assert PublishedRate("USD", dt.date(2026, 11, 3), Decimal("1.1500")) in from_csv
    assert len(from_csv) == 4  # N/A is no rate


def test_a_zipped_ecb_file_reads_like_the_file_inside() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("eurofxref-hist.csv", ECB_CSV)
    assert parse_ecb(buffer.getvalue()) == parse_ecb(ECB_CSV.encode())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Day,USD\n2026-11-03,1.15\n", "starts with a Date column"),
        ("Date,USD\n2026-13-03,1.15\n", "line 2: '2026-13-03' is not a date"),
        ("Date,USD\n2026-11-03,abc\n", "line 2, USD: 'abc' is not a number"),
        ("Date,USD\n2026-11-03,NaN\n", "not a plausible rate"),
        ("Date,USD\n2026-11-03,-1\n", "not a plausible rate"),
        ("Date,USD\n0001-01-01,1.1\n", "outside 1990-01-01 to 2100-12-31"),
        ("Date,USD\n", "no rates found"),
        ("<Envelope><Cube", "not well-formed XML"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DTD"),
    ],
)
def test_a_bad_ecb_file_is_refused_with_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValidationFailed, match=problem):
        parse_ecb(text.encode(), "rates.csv")


def test_vnd_needs_operator_rates(rates: FxRates) -> None:
    assert not rates.publishes("VND")
    with pytest.raises(ValidationFailed, match="no FX rate source for VND"):
        rates.convert(Money(10000, "USD"), "VND", TUESDAY)
    with pytest.raises(ValidationFailed, match="VND"):
        rates.convert(Money(100000, "VND"), "EUR", TUESDAY)


def test_vnd_converts_with_a_manual_rate_per_usd(rates: FxRates) -> None:
    vnd = rates.with_manual({"VND": [ManualRate("VND", TUESDAY, Decimal("26300"))]})
    assert vnd.publishes("VND")
    # VND per EUR = 26300 VND/USD * 1.1575 USD/EUR = 30442.25
    rate = vnd.rate("VND", TUESDAY)
    assert (rate.per_eur, rate.as_of, rate.source) == (Decimal("30442.25"), TUESDAY, "operator")
    # 100.00 USD -> 100 * 26300 = 2,630,000 VND (VND has no minor unit)
    usd_to_vnd = vnd.convert(Money(10000, "USD"), "VND", TUESDAY)
    assert usd_to_vnd.amount == Money(2_630_000, "VND")
    assert usd_to_vnd.source == "ECB/operator"
    # 100.00 EUR -> 100 * 30442.25 = 3,044,225 VND
    assert vnd.convert(Money(10000, "EUR"), "VND", TUESDAY).amount == Money(3_044_225, "VND")
    # 1,000,000 VND -> 1,000,000 / 26300 = 38.0228... USD -> 38.02 USD
    assert vnd.convert(Money(1_000_000, "VND"), "USD", TUESDAY).amount == Money(3802, "USD")
    # the original FxRates is untouched
    assert not rates.publishes("VND")


def test_manual_rate_uses_the_newest_rate_on_or_before_the_day(rates: FxRates) -> None:
    vnd = rates.with_manual(
        {
            "VND": [
                ManualRate("VND", dt.date(2025, 11, 3), Decimal("26000")),
                ManualRate("VND", FRIDAY, Decimal("26350")),
                ManualRate("VND", TUESDAY, Decimal("26300")),
            ]
        }
    )
    assert vnd.rate("VND", dt.date(2025, 11, 12)).as_of == TUESDAY
    saturday = vnd.rate("VND", dt.date(2025, 11, 15))
    # Friday's operator rate with Friday's ECB USD rate: 26350 * 1.1648
    assert (saturday.as_of, saturday.per_eur) == (FRIDAY, Decimal("26350") * Decimal("1.1648"))
    assert vnd.rate("VND", dt.date(2025, 11, 5)).as_of == dt.date(2025, 11, 3)


def test_manual_rate_too_old_is_provisional_and_one_in_the_future_fails(rates: FxRates) -> None:
    vnd = rates.with_manual({"VND": [ManualRate("VND", TUESDAY, Decimal("26300"))]})
    old = vnd.rate("VND", TUESDAY + dt.timedelta(days=8))
    assert (old.as_of, old.provisional) == (TUESDAY, True)
    fresh = vnd.rate("VND", TUESDAY + dt.timedelta(days=7))
    assert (fresh.as_of, fresh.provisional) == (TUESDAY, False)
    with pytest.raises(ValidationFailed, match="no operator rate for VND on or before"):
        vnd.rate("VND", TUESDAY - dt.timedelta(days=1))


def _published_throughout(converter: RateBook, currency: str) -> bool:
    first, newest = converter.first_day(currency), converter.newest_day(currency)
    in_iso_4217 = pycountry.currencies.get(alpha_3=currency) is not None  # BGN left it with the euro
    return in_iso_4217 and first is not None and newest is not None and first <= START and newest >= END


START, END = dt.date(2024, 1, 1), dt.date(2025, 10, 31)
# ECB currencies published over the whole window and still in ISO 4217 (not RUB, HRK, BGN, ...)
ECB_ACTIVE = sorted(c for c in load_ecb().currencies if c == "EUR" or _published_throughout(load_ecb(), c))
ACTIVE = [*ECB_ACTIVE, "VND"]  # VND through operator rates
VND_RATES = [ManualRate("VND", START + dt.timedelta(days=d), Decimal("25000") + d) for d in range(0, 700, 3)]


@settings(deadline=None, max_examples=300)
@given(
    minor=st.integers(min_value=0, max_value=10**12),
    source=st.sampled_from(ACTIVE),
    target=st.sampled_from(ACTIVE),
    on=st.dates(min_value=START, max_value=END),
)
def test_round_trip_stays_within_rounding(minor: int, source: str, target: str, on: dt.date) -> None:
    rates = FxRates(load_ecb(), manual={"VND": VND_RATES})
    forward = rates.convert(Money(minor, source), target, on)
    back = rates.convert(forward.amount, source, on)
    assert back.amount.currency == source
    if source == target:
        assert back.amount.minor == minor
        return
    # k = target minor units per source minor unit = (target per EUR / source per EUR) * 10^(e_t - e_s).
    # Forward: y = round(x*k), so |y - x*k| <= 1/2. Backward: x' = round(y/k), and
    # |y/k - x| = |y - x*k| / k <= 1/(2k), so |x' - x| <= 1/2 + 1/(2k): one minor unit of the source
    # scaled by how coarse the target is relative to it (within one unit when k >= 1, more when the
    # target's minor unit is worth more than the source's, e.g. IDR -> BHD-like). 1e-9 absorbs
    # the 28-digit Decimal context.
    k = (rates.rate(target, on).per_eur / rates.rate(source, on).per_eur) * Decimal(10) ** (
        minor_unit_exponent(target) - minor_unit_exponent(source)
    )
    assert abs(Decimal(forward.amount.minor) - minor * k) <= Decimal("0.5") + Decimal("1e-9")
    tolerance = Decimal("0.5") + 1 / (2 * k) + Decimal("1e-9")
    assert abs(back.amount.minor - minor) <= tolerance


def test_a_report_looks_up_rates_only_on_the_days_a_currency_has_amounts(
    converter: RateBook,
) -> None:
    # The operator prices SAR from 1 November only; a fiscal year from April needs no SAR rate before it.
    fx = FxRates(converter, 45, {"SAR": [ManualRate("SAR", dt.date(2025, 11, 1), Decimal("3.75"))]})
    start, end = dt.date(2025, 4, 1), dt.date(2026, 3, 31)
    with pytest.raises(ValidationFailed, match="no operator rate for SAR"):
        transaction_date_factors(fx, ["SAR", "USD"], "USD", start, end)
    held = {"SAR": (dt.date(2025, 11, 3), dt.date(2025, 11, 5))}
    table = transaction_date_factors(fx, ["SAR", "USD"], "USD", start, end, held=held)
    sar = [r for r in table.to_pylist() if r["currency"] == "SAR"]
    assert [r["rate_key"] for r in sar] == [20251103, 20251104, 20251105]
    assert all(r["factor"] == Decimal("0.2666666667") for r in sar)  # 1 / 3.75, crossed through USD
    assert table.num_rows == 3 + 365  # USD, with no span given, on every day of the year


def test_a_period_average_counts_the_days_from_a_currencys_first_rate(converter: RateBook) -> None:
    fx = FxRates(converter, 45, {"SAR": [ManualRate("SAR", dt.date(2025, 11, 1), Decimal("3.75"))]})
    autumn = Bucket(2025, Period("Oct-Nov", RANGE, dt.date(2025, 10, 15), dt.date(2025, 12, 1)))
    early = Bucket(2021, Period("FY2021", FISCAL_YEAR, dt.date(2020, 4, 1), dt.date(2021, 4, 1)))
    # SAR's average counts only the days from 1 November, when the operator's rates start
    table = period_average_factors(
        fx, ["SAR"], "USD", [autumn], {"SAR": (dt.date(2025, 11, 3), dt.date(2025, 11, 5))}
    )
    assert [r["factor"] for r in table.to_pylist()] == [Decimal("0.2666666667")]
    # a bucket without SAR amounts needs no SAR rate, and gets none
    held = {"SAR": (dt.date(2025, 11, 3), dt.date(2025, 11, 5))}
    assert period_average_factors(fx, ["SAR"], "USD", [early], held).num_rows == 0
    # with SAR amounts in a period before any SAR rate, the missing rate is named
    with pytest.raises(ValidationFailed, match="no operator rate for SAR"):
        period_average_factors(
            fx, ["SAR"], "USD", [early], {"SAR": (dt.date(2020, 5, 1), dt.date(2020, 5, 1))}
        )
    assert fx.first_day("SAR") == dt.date(2025, 11, 1) and fx.first_day("USD") == dt.date(1999, 1, 4)
