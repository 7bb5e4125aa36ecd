"""Customs: hand-worked assessments against the packaged table, the bundled ECB rates and operator rates.

ECB rates used below (units per EUR): Tuesday 2025-11-11: USD 1.1575, CNY 8.2397, IDR 19362.25,
BRL 6.1196, PLN 4.23; Friday 2025-11-14 (used for Saturday 2025-11-15): CNY 8.2655.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.fx import FxRates, ManualRate, load_ecb
from entrepot.kernel.money import Money
from entrepot.logistics.customs import (
    Assessment,
    Declaration,
    DeclarationLine,
    assess,
    build_declaration,
)
from entrepot.logistics.customs_tables import (
    THRESHOLD_COLUMNS,
    CustomsTable,
    ThresholdRow,
    default_table,
    load_table,
    load_thresholds,
    parse_duty_rates,
    parse_thresholds,
)

TUESDAY = dt.date(2025, 11, 11)
SATURDAY = dt.date(2025, 11, 15)
FRIDAY = dt.date(2025, 11, 14)
REQUIRED = {"SG", "MY", "TH", "VN", "ID", "PH", "CN", "ES", "FR", "DE", "NL", "PL", "SA", "AE", "BR"}
REQUIRED |= {"MX", "US", "GB"}
TSHIRT, PHONE, HEADPHONES, TOY = "610910", "851713", "851830", "950300"


def operator_rates(start: dt.date, days: int) -> dict[str, list[ManualRate]]:
    """Daily operator rates per USD for currencies the ECB does not publish (SAR and AED are pegged)."""
    per_usd = {"VND": Decimal("26300"), "SAR": Decimal("3.75"), "AED": Decimal("3.6725")}
    return {
        c: [ManualRate(c, start + dt.timedelta(days=d), rate) for d in range(days)]
        for c, rate in per_usd.items()
    }


@pytest.fixture(scope="module")
def fx() -> FxRates:
    return FxRates(load_ecb()).with_manual(operator_rates(dt.date(2025, 11, 1), 30))


def line(
    hs: str, quantity: int, unit: Money, weight_g: int = 500, what: str = "cotton T-shirt"
) -> DeclarationLine:
    return DeclarationLine(hs, what, "CN", quantity, unit, weight_g)


def parcel(
    *lines: DeclarationLine,
    shipping: Money,
    insurance: Money | None = None,
    on: dt.date = TUESDAY,
    dispatch: str = "CN",
) -> Declaration:
    return build_declaration(
        list(lines), dispatch_country=dispatch, shipping=shipping, insurance=insurance, declared_on=on
    )


def eur(text: str) -> Money:
    return Money.from_decimal(text, "EUR")


# ------------------------------------------------------------------------------------------- the table


def test_the_packaged_table_covers_the_markets_and_cites_every_row() -> None:
    table = default_table()
    assert set(table.thresholds) >= REQUIRED
    for row in table.thresholds.values():
        assert row.source and row.as_of.year >= 2016
        assert row.threshold_rule in ("at_or_below", "below")
    # one customs territory for the EU members, with one duty rate table
    assert {table.thresholds[c].tariff_area for c in ("ES", "FR", "DE", "NL", "PL")} == {"EU"}
    eu = table.thresholds["FR"]
    assert (eu.duty_de_minimis, eu.tax_de_minimis, eu.seller_scheme) == (eur("150"), eur("0"), "IOSS")
    assert table.thresholds["GB"].duty_de_minimis == Money(13500, "GBP")
    assert table.thresholds["ID"].duty_de_minimis == Money(300, "USD")
    assert table.thresholds["US"].duty_de_minimis == Money(0, "USD")  # suspended from 29 Aug 2025
    assert table.thresholds["US"].as_of == dt.date(2025, 8, 29)


def test_duty_rates_take_the_longest_hs_prefix_else_the_default() -> None:
    table = default_table()
    fr = table.thresholds["FR"]
    assert table.duty_rate(fr, "6403991000")[0] == Decimal("0.08")  # heading 6403 beats chapter 64
    assert table.duty_rate(fr, "640299")[0] == Decimal("0.17")
    assert table.duty_rate(fr, TSHIRT)[0] == Decimal("0.12")
    rate, source = table.duty_rate(fr, "420222")
    assert (rate, source) == (Decimal("0.04"), "default duty rate of row FR")


# ------------------------------------------------------------------------------------- hand-worked: EU


def test_eur_40_parcel_to_spain_pays_vat_on_value_with_shipping_and_no_duty(fx: FxRates) -> None:
    # goods 2 x 20.00 = 40.00 EUR (intrinsic value, the EU threshold basis) <= 150: no duty
    # customs value is CIF: 40.00 + 5.00 shipping = 45.00; IVA 21 % x 45.00 = 9.45, through IOSS
    declaration = parcel(line(TSHIRT, 2, eur("20")), shipping=eur("5"))
    result = assess(declaration, "ES", fx)
    assert (result.goods_value, result.cif_value, result.threshold_value) == (eur("40"), eur("45"), eur("40"))
    assert not result.duty_due and result.duty == eur("0")
    assert result.tax_collection == "point_of_sale"
    assert "IOSS" in result.tax_reason
    assert (result.customs_value, result.tax_base, result.tax) == (eur("45"), eur("45"), eur("9.45"))
    assert result.total == eur("9.45")
    # a seller outside IOSS: the same VAT, collected at import (no VAT de minimis since July 2021)
    unregistered = assess(declaration, "ES", fx, seller_registered=False)
    assert (unregistered.tax_collection, unregistered.tax) == ("import", eur("9.45"))


def test_eur_200_apparel_parcel_to_france_pays_chapter_duty_and_vat_on_value_plus_duty(fx: FxRates) -> None:
    # goods 2 x 100.00 = 200.00 > 150: duty due; customs value CIF 200 + 10 = 210.00
    # duty chapter 61 at 12 %: 25.20; TVA 20 % x (210.00 + 25.20) = 47.04; total 72.24
    result = assess(parcel(line(TSHIRT, 2, eur("100")), shipping=eur("10")), "FR", fx)
    assert result.duty_due
    assert result.lines[0].duty_rate == Decimal("0.12")
    assert "HS 61" in result.lines[0].duty_rate_source
    assert (result.customs_value, result.duty) == (eur("210"), eur("25.20"))
    assert (result.tax_collection, result.tax_base, result.tax) == ("import", eur("235.20"), eur("47.04"))
    assert result.total == eur("72.24")


def test_shipping_and_insurance_are_shared_over_lines_by_weight(fx: FxRates) -> None:
    # shirts 2 x 60.00 (400 g) and a phone 150.00 (200 g): goods 270.00 > 150, duty due
    # shipping 12.00 + insurance 3.00 = 15.00 shared 400:200 -> 10.00 and 5.00
    # shirts 130.00 x 12 % = 15.60; phone 155.00 x 0 % (ITA) = 0; TVA 20 % x (285.00 + 15.60) = 60.12
    declaration = parcel(
        line(TSHIRT, 2, eur("60"), 400),
        line(PHONE, 1, eur("150"), 200, "mobile phone"),
        shipping=eur("12"),
        insurance=eur("3"),
    )
    result = assess(declaration, "FR", fx)
    assert [a.customs_value for a in result.lines] == [eur("130"), eur("155")]
    assert [a.duty for a in result.lines] == [eur("15.60"), eur("0")]
    assert (result.duty, result.tax, result.total) == (eur("15.60"), eur("60.12"), eur("75.72"))


def test_leather_shoes_to_germany_take_the_heading_rate(fx: FxRates) -> None:
    # 180.00 > 150; heading 6403 at 8 %: 14.40; USt 19 % x 194.40 = 36.936 -> 36.94 (half up)
    shoes = line("640399", 1, eur("180"), 900, "leather shoes")
    result = assess(parcel(shoes, shipping=eur("0")), "DE", fx)
    assert (result.duty, result.tax, result.total) == (eur("14.40"), eur("36.94"), eur("51.34"))


# ------------------------------------------------------------------------------- hand-worked: CNY values


def test_cny_parcel_to_spain_converts_at_the_tuesday_ecb_rate(fx: FxRates) -> None:
    # toys 4 x 250.00 = 1,000.00 CNY; EUR per CNY = 1 / 8.2397
    # threshold: 1000.00 / 8.2397 = 121.3636 -> 121.36 EUR <= 150: no duty, IOSS
    # customs: 121.36 + shipping 80.00 / 8.2397 = 9.7091 -> 9.71 = 131.07 EUR; IVA 21 % = 27.5247 -> 27.52
    toys = line(TOY, 4, Money(25000, "CNY"), 800, "plastic building blocks")
    result = assess(parcel(toys, shipping=Money(8000, "CNY")), "ES", fx)
    assert result.threshold_value == eur("121.36")
    assert (result.threshold_fx.as_of, result.threshold_fx.source) == (TUESDAY, "ECB/identity")
    assert result.threshold_fx.rate == (1 / Decimal("8.2397")).quantize(Decimal("1e-10"))
    assert not result.duty_due
    assert (result.customs_value, result.tax) == (eur("131.07"), eur("27.52"))
    assert any("rate of 2025-11-11" in text for text in result.explain())


def test_cny_parcel_on_a_saturday_uses_fridays_rate(fx: FxRates) -> None:
    # Friday 2025-11-14: 8.2655 CNY per EUR
    # 1000.00 / 8.2655 = 120.9848 -> 120.98; 80.00 / 8.2655 = 9.6788 -> 9.68; customs 130.66
    # IVA 21 % x 130.66 = 27.4386 -> 27.44
    toys = line(TOY, 4, Money(25000, "CNY"), 800, "plastic building blocks")
    result = assess(parcel(toys, shipping=Money(8000, "CNY"), on=SATURDAY), "ES", fx)
    assert result.declared_on == SATURDAY
    assert result.threshold_fx.as_of == result.customs_fx.as_of == FRIDAY
    assert (result.threshold_value, result.customs_value, result.tax) == (
        eur("120.98"),
        eur("130.66"),
        eur("27.44"),
    )


def test_cny_parcel_above_eur_150_pays_the_toy_rate(fx: FxRates) -> None:
    # 6 x 250.00 = 1,500.00 CNY / 8.2397 = 182.0455 -> 182.05 EUR > 150 (and above the IOSS ceiling)
    # customs 182.05 + 9.71 = 191.76; duty 4.7 % = 9.01272 -> 9.01; IVA 21 % x 200.77 = 42.1617 -> 42.16
    toys = line(TOY, 6, Money(25000, "CNY"), 800, "plastic building blocks")
    result = assess(parcel(toys, shipping=Money(8000, "CNY")), "ES", fx)
    assert (result.threshold_value, result.customs_value) == (eur("182.05"), eur("191.76"))
    assert (result.duty, result.tax_collection, result.tax) == (eur("9.01"), "import", eur("42.16"))


def test_cny_parcel_to_poland_tests_in_eur_and_taxes_in_pln(fx: FxRates) -> None:
    # threshold 121.36 EUR as above: no duty. PLN per CNY = 4.23 / 8.2397 = 0.513368...
    # 1000.00 CNY -> 513.3682 -> 513.37 PLN; 80.00 CNY -> 41.0695 -> 41.07 PLN; customs 554.44 PLN
    # VAT 23 % x 554.44 = 127.5212 -> 127.52 PLN
    toys = line(TOY, 4, Money(25000, "CNY"), 800, "plastic building blocks")
    result = assess(parcel(toys, shipping=Money(8000, "CNY")), "PL", fx)
    assert result.threshold_value == eur("121.36")
    assert (result.customs_value, result.tax) == (Money(55444, "PLN"), Money(12752, "PLN"))


# --------------------------------------------------------------------------------- hand-worked: markets


def sgd(text: str) -> Money:
    return Money.from_decimal(text, "SGD")


def test_singapore_below_the_sgd_400_relief(fx: FxRates) -> None:
    # CIF 300.00 + 20.00 = 320.00 <= 400: no import GST; a registered (OVR) seller charges 9 % at sale
    declaration = parcel(line(HEADPHONES, 1, sgd("300"), what="headphones"), shipping=sgd("20"))
    registered = assess(declaration, "SG", fx)
    assert (registered.tax_collection, registered.tax) == ("point_of_sale", sgd("28.80"))
    unregistered = assess(declaration, "SG", fx, seller_registered=False)
    assert (unregistered.tax_collection, unregistered.tax, unregistered.total) == ("none", sgd("0"), sgd("0"))


def test_singapore_above_the_relief_pays_gst_at_import(fx: FxRates) -> None:
    # CIF 450.00 + 20.00 = 470.00 > 400: GST 9 % x 470.00 = 42.30 at import; duty 0 % (none on these goods)
    declaration = parcel(line(HEADPHONES, 1, sgd("450"), what="headphones"), shipping=sgd("20"))
    result = assess(declaration, "SG", fx)
    assert (result.duty, result.tax_collection, result.tax) == (sgd("0"), "import", sgd("42.30"))


def test_singapore_at_exactly_sgd_400_is_relieved(fx: FxRates) -> None:
    declaration = parcel(line(HEADPHONES, 1, sgd("380"), what="headphones"), shipping=sgd("20"))
    assert assess(declaration, "SG", fx, seller_registered=False).tax_collection == "none"


def test_usd_parcel_to_indonesia_above_usd_3_pays_duty(fx: FxRates) -> None:
    # FOB 2 x 10.00 = 20.00 USD > 3: duty due. IDR per USD = 19362.25 / 1.1575 = 16727.645788...
    # goods 20.00 USD -> 334,552.9158 -> 334,552.92 IDR; shipping 5.00 USD -> 83,638.2289 -> 83,638.23
    # customs (CIF) 418,191.15; duty 7.5 % = 31,364.33625 -> 31,364.34
    # VAT 11 % x (418,191.15 + 31,364.34 = 449,555.49) = 49,451.1039 -> 49,451.10; total 80,815.44 IDR
    usd = Money(1000, "USD")
    result = assess(parcel(line(HEADPHONES, 2, usd, what="headphones"), shipping=Money(500, "USD")), "ID", fx)
    assert result.duty_due and result.threshold_value == Money(2000, "USD")
    assert [a.customs_value for a in result.lines] == [Money(41819115, "IDR")]
    assert (result.duty, result.tax, result.total) == (
        Money(3136434, "IDR"),
        Money(4945110, "IDR"),
        Money(8081544, "IDR"),
    )
    assert result.customs_fx.rate == Decimal("16727.6457883369")


def test_indonesia_at_exactly_usd_3_is_duty_free_but_pays_vat(fx: FxRates) -> None:
    # FOB 3.00 USD: at or below the de minimis. CIF 3.00 + 2.00: 50,182.94 + 33,455.29 = 83,638.23 IDR
    # VAT 11 % x 83,638.23 = 9,200.2053 -> 9,200.21 IDR
    at = assess(parcel(line(HEADPHONES, 1, Money(300, "USD")), shipping=Money(200, "USD")), "ID", fx)
    assert (at.duty_due, at.duty, at.tax) == (False, Money(0, "IDR"), Money(920021, "IDR"))
    above = assess(parcel(line(HEADPHONES, 1, Money(301, "USD")), shipping=Money(200, "USD")), "ID", fx)
    assert above.duty_due and above.duty.minor > 0


def myr(text: str) -> Money:
    return Money.from_decimal(text, "MYR")


def test_low_value_parcel_to_malaysia_pays_lvg_sales_tax(fx: FxRates) -> None:
    # FOB 120.00 <= 500: no duty; LVG sales tax 10 % x CIF (120.00 + 10.00) = 13.00 charged by the seller
    result = assess(parcel(line(HEADPHONES, 1, myr("120"), what="headphones"), shipping=myr("10")), "MY", fx)
    assert (result.duty_due, result.tax_collection, result.tax) == (False, "point_of_sale", myr("13"))
    assert "LVG" in result.tax_reason
    # above MYR 500: default duty 5 % x 610.00 = 30.50; sales tax 10 % x 640.50 = 64.05 at import
    above = assess(parcel(line(HEADPHONES, 1, myr("600"), what="headphones"), shipping=myr("10")), "MY", fx)
    assert (above.duty, above.tax_collection, above.tax) == (myr("30.50"), "import", myr("64.05"))


def brl(text: str) -> Money:
    return Money.from_decimal(text, "BRL")


def test_brazil_within_usd_50_pays_the_reduced_20_percent_and_icms_on_an_inclusive_base(fx: FxRates) -> None:
    # CIF 40.00 + 5.00 = 45.00 USD <= 50. BRL per USD = 6.1196 / 1.1575 = 5.28691144...
    # 40.00 -> 211.4765 -> 211.48; 5.00 -> 26.4346 -> 26.43; customs 237.91 BRL; duty 20 % = 47.582 -> 47.58
    # ICMS 17 % inside its own base: 285.49 x 0.17 / 0.83 = 58.4737 -> 58.47; total 106.05 BRL
    declaration = parcel(line(TSHIRT, 2, Money(2000, "USD")), shipping=Money(500, "USD"))
    result = assess(declaration, "BR", fx)
    assert (result.customs_value, result.duty, result.tax, result.total) == (
        brl("237.91"),
        brl("47.58"),
        brl("58.47"),
        brl("106.05"),
    )
    assert result.effective_tax_rate == Decimal("0.17") / Decimal("0.83")
    # outside Remessa Conforme: 60 % x 237.91 = 142.746 -> 142.75
    # ICMS 380.66 x 0.17 / 0.83 = 77.9665 -> 77.97
    plain = assess(declaration, "BR", fx, seller_registered=False)
    assert (plain.duty, plain.tax, plain.tax_collection) == (brl("142.75"), brl("77.97"), "import")


def test_brazil_above_usd_50_pays_60_percent_less_usd_20(fx: FxRates) -> None:
    # CIF 100.00 + 10.00 = 110.00 USD > 50: 528.69 + 52.87 = 581.56 BRL; 60 % = 348.936 -> 348.94
    # relief: USD 50 -> 264.3456 -> 264.35 BRL x (60 % - 20 %) = 105.74; duty 243.20 BRL
    # (check: 60 % x 110 - 20 = 46.00 USD = 243.198 BRL). ICMS 824.76 x 0.17 / 0.83 = 168.9266 -> 168.93
    declaration = parcel(line(TSHIRT, 1, Money(10000, "USD")), shipping=Money(1000, "USD"))
    result = assess(declaration, "BR", fx)
    assert (result.customs_value, result.duty_relief, result.duty, result.tax) == (
        brl("581.56"),
        brl("105.74"),
        brl("243.20"),
        brl("168.93"),
    )


def test_united_states_after_the_de_minimis_suspension(fx: FxRates) -> None:
    # FOB basis: shipping is not dutiable. 50.00 x 10 % default = 5.00; computers (8471) free; no import tax
    usd = Money(5000, "USD")
    result = assess(
        parcel(line(HEADPHONES, 1, usd), line("847130", 1, usd, 300, "laptop"), shipping=usd), "US", fx
    )
    assert [a.duty for a in result.lines] == [Money(500, "USD"), Money(0, "USD")]
    assert (result.customs_value, result.tax_collection, result.total) == (
        Money(10000, "USD"),
        "none",
        Money(500, "USD"),
    )


def test_vietnam_needs_operator_rates_and_has_no_de_minimis(fx: FxRates) -> None:
    # 26,300 VND per USD: 40.00 USD -> 1,052,000; 5.00 -> 131,500; customs 1,183,500 VND
    # duty 10 % = 118,350; VAT 10 % x 1,301,850 = 130,185; total 248,535 VND (no minor unit)
    declaration = parcel(line(HEADPHONES, 1, Money(4000, "USD")), shipping=Money(500, "USD"))
    result = assess(declaration, "VN", fx)
    assert (result.duty, result.tax, result.total) == (
        Money(118350, "VND"),
        Money(130185, "VND"),
        Money(248535, "VND"),
    )
    assert result.customs_fx.source == "ECB/operator"
    with pytest.raises(ValidationFailed, match="VND"):
        assess(declaration, "VN", FxRates(load_ecb()))


def test_saudi_arabia_with_a_pegged_operator_rate(fx: FxRates) -> None:
    # CIF 200.00 + 20.00 USD x 3.75 = 825.00 SAR <= 1,000: no duty; VAT 15 % x 825.00 = 123.75 SAR
    declaration = parcel(line(HEADPHONES, 1, Money(20000, "USD")), shipping=Money(2000, "USD"))
    result = assess(declaration, "SA", fx)
    assert (result.threshold_value, result.duty_due, result.tax) == (
        Money(82500, "SAR"),
        False,
        Money(12375, "SAR"),
    )


def test_thailand_at_exactly_thb_1500_cif_is_duty_free_but_pays_vat(fx: FxRates) -> None:
    # CIF 1,400.00 + 100.00 = 1,500.00: at or below; VAT 7 % x 1,500.00 = 105.00
    thb = Money(140000, "THB")
    at = assess(parcel(line(HEADPHONES, 1, thb), shipping=Money(10000, "THB")), "TH", fx)
    assert (at.duty_due, at.tax) == (False, Money(10500, "THB"))
    # 1,501.00: duty 10 % x 1,501.00 = 150.10; VAT 7 % x 1,651.10 = 115.577 -> 115.58
    above = assess(parcel(line(HEADPHONES, 1, Money(140100, "THB")), shipping=Money(10000, "THB")), "TH", fx)
    assert (above.duty, above.tax) == (Money(15010, "THB"), Money(11558, "THB"))


def test_philippines_fob_php_10000_is_free_of_duty_and_vat(fx: FxRates) -> None:
    at = assess(parcel(line(HEADPHONES, 1, Money(1000000, "PHP")), shipping=Money(50000, "PHP")), "PH", fx)
    assert (at.duty_due, at.tax_collection, at.total) == (False, "none", Money(0, "PHP"))
    above = assess(parcel(line(HEADPHONES, 1, Money(1000001, "PHP")), shipping=Money(50000, "PHP")), "PH", fx)
    assert above.duty_due and above.tax_collection == "import"


def test_the_result_traces_every_figure(fx: FxRates) -> None:
    result = assess(parcel(line(TSHIRT, 2, eur("100")), shipping=eur("10")), "FR", fx)
    text = "\n".join(result.explain())
    for needle in ("2017/2455", "as of 2021-07-01", "not at or below the duty de minimis 150.00 EUR"):
        assert needle in text
    for needle in ("HS 61", "duty 25.20 EUR", "47.04 EUR on 235.20 EUR", "total due 72.24 EUR"):
        assert needle in text
    assert any("to verify" in w for w in result.warnings)


def test_a_declaration_older_than_the_row_is_warned(fx: FxRates) -> None:
    older = parcel(line(HEADPHONES, 1, eur("40")), shipping=eur("5"), on=dt.date(2025, 1, 10))
    result = assess(
        older, "VN", fx.with_manual({"VND": [ManualRate("VND", dt.date(2025, 1, 10), Decimal(25000))]})
    )
    assert any("as of 2025-02-18" in w for w in result.warnings)


# -------------------------------------------------------------------------------------- operator tables


def write_row(tmp_path: Path, **changes: str) -> Path:
    values = {
        "country": "JP",
        "tariff_area": "JP",
        "currency": "JPY",
        "tax_currency": "JPY",
        "duty_de_minimis": "10000",
        "tax_de_minimis": "10000",
        "threshold_rule": "below",
        "threshold_basis": "FOB",
        "valuation_basis": "CIF",
        "tax_name": "consumption tax",
        "tax_rate": "0.10",
        "tax_gross_up": "no",
        "default_duty_rate": "0.05",
        "reduced_duty_up_to": "",
        "reduced_duty_rate": "",
        "seller_collects_up_to": "",
        "seller_scheme": "",
        "as_of": "2024-01-01",
        "source": "operator's own reading",
        "note": "",
    } | changes
    path = tmp_path / "thresholds.csv"
    header = ",".join(THRESHOLD_COLUMNS)
    path.write_text(header + "\n" + ",".join(values[c] for c in THRESHOLD_COLUMNS) + "\n", encoding="utf-8")
    return path


def test_an_operator_row_with_a_strictly_below_rule(fx: FxRates, tmp_path: Path) -> None:
    table = CustomsTable(load_thresholds(write_row(tmp_path)), {})
    at = assess(parcel(line(HEADPHONES, 1, Money(10000, "JPY")), shipping=Money(0, "JPY")), "JP", fx, table)
    # exactly JPY 10,000 is not below 10,000: duty 5 % = 500 and consumption tax 10 % x 10,500 = 1,050
    assert (at.duty_due, at.duty, at.tax) == (True, Money(500, "JPY"), Money(1050, "JPY"))
    below = assess(parcel(line(HEADPHONES, 1, Money(9999, "JPY")), shipping=Money(0, "JPY")), "JP", fx, table)
    assert (below.duty_due, below.tax_collection) == (False, "none")


def test_load_table_with_an_operator_duty_rates_file(fx: FxRates, tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("tariff_area,hs_prefix,rate,as_of,source,note\nJP,8518,0,2024-01-01,JP tariff,\n")
    table = load_table(write_row(tmp_path), rates)
    result = assess(
        parcel(line(HEADPHONES, 1, Money(20000, "JPY")), shipping=Money(0, "JPY")), "JP", fx, table
    )
    assert (result.duty, result.tax) == (Money(0, "JPY"), Money(2000, "JPY"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"currency": "JPX"}, "line 2: currency", "unknown ISO 4217"),
        ({"duty_de_minimis": "-1"}, "line 2: duty_de_minimis", "non-negative"),
        ({"duty_de_minimis": "10.5"}, "line 2: duty_de_minimis", "minor unit"),  # JPY has no decimals
        ({"tax_rate": "21"}, "line 2: tax_rate", "fraction"),
        ({"threshold_rule": "under"}, "line 2: threshold_rule", "at_or_below, below"),
        ({"valuation_basis": "DDP"}, "line 2: valuation_basis", "FOB, CIF"),
        ({"as_of": "2024-13-01"}, "line 2: as_of", "month"),
        ({"country": "XX"}, "line 2: country", "unknown ISO 3166"),
        ({"source": ""}, "line 2: source", "required"),
        ({"reduced_duty_up_to": "5000"}, "line 2: reduced_duty_up_to", "both"),
        ({"seller_scheme": "JP LVG"}, "line 2: seller_scheme", "both"),
        (
            {"reduced_duty_up_to": "5000", "reduced_duty_rate": "0.5"},
            "line 2: reduced_duty_rate",
            "must not exceed",
        ),
    ],
)
def test_a_bad_operator_row_is_refused_with_the_line_and_column(
    tmp_path: Path, changes: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_thresholds(write_row(tmp_path, **changes))
    assert [e.field for e in info.value.field_errors] == [field]
    assert message in info.value.field_errors[0].message


def test_tables_refuse_missing_columns_and_duplicates() -> None:
    with pytest.raises(ValidationFailed, match="missing columns"):
        parse_thresholds("country,currency\nFR,EUR\n")
    header = ",".join(THRESHOLD_COLUMNS)
    row = "FR,EU,EUR,EUR,150,0,at_or_below,FOB,CIF,TVA,0.2,no,0.04,,,,,2021-07-01,src,"
    with pytest.raises(ValidationFailed) as info:
        parse_thresholds(f"{header}\n{row}\n{row}\n")
    assert info.value.field_errors[0].message == "FR appears twice"
    with pytest.raises(ValidationFailed) as bad:
        parse_duty_rates("tariff_area,hs_prefix,rate,as_of,source,note\nEU,615,0.1,2025-01-01,src,\n")
    assert "2, 4, 6, 8 or 10 digits" in bad.value.field_errors[0].message


# ------------------------------------------------------------------------------------------ bad input


def test_unknown_and_uncovered_destinations(fx: FxRates) -> None:
    declaration = parcel(line(TSHIRT, 1, eur("10")), shipping=eur("1"))
    with pytest.raises(ValidationFailed, match="unknown ISO 3166 country 'XX'"):
        assess(declaration, "XX", fx)
    with pytest.raises(ValidationFailed, match="upper-case"):
        assess(declaration, "fr", fx)
    with pytest.raises(ValidationFailed, match="no customs row for JP") as info:
        assess(declaration, "JP", fx)
    assert "load an operator table" in info.value.detail


def test_parcels_inside_one_customs_territory_are_not_imports(fx: FxRates) -> None:
    with pytest.raises(ValidationFailed, match="no import"):
        assess(parcel(line(TSHIRT, 1, eur("10")), shipping=eur("1"), dispatch="DE"), "FR", fx)
    with pytest.raises(ValidationFailed, match="no import"):
        assess(parcel(line(TSHIRT, 1, eur("10")), shipping=eur("1"), dispatch="ES"), "ES", fx)


@pytest.mark.parametrize(
    ("hs", "message"),
    [
        ("61091", "6, 8 or 10 digits"),
        ("6109100", "6, 8 or 10 digits"),
        ("61091000001", "6, 8 or 10 digits"),
        ("6109a0", "6, 8 or 10 digits"),
        ("000000", "chapter 00"),
        ("770000", "77 is reserved"),
        ("990100", "chapter 99"),
    ],
)
def test_bad_hs_codes_are_refused(hs: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parcel(line(hs, 1, eur("10")), shipping=eur("1"))
    assert info.value.field_errors[0].field == "lines[0].hs_code"
    assert message in info.value.field_errors[0].message


def test_every_problem_of_a_declaration_is_reported_at_once() -> None:
    bad = DeclarationLine("12", "gift", "ZZ", 0, Money(-100, "EUR"), 0)
    absurd = DeclarationLine(TSHIRT, "cotton T-shirt", "CN", 1, Money(10**11, "EUR"), 100)
    usd = DeclarationLine(TSHIRT, "cotton T-shirt", "CN", 1, Money(100, "USD"), 100)
    with pytest.raises(ValidationFailed) as info:
        build_declaration([bad, absurd, usd], dispatch_country="cn", shipping=eur("-1"), declared_on=TUESDAY)
    fields = [e.field for e in info.value.field_errors]
    assert fields == [
        "lines[0].hs_code",
        "lines[0].description",
        "lines[0].origin_country",
        "lines[0].quantity",
        "lines[0].unit_value",
        "lines[0].net_weight_g",
        "lines[1].unit_value",
        "lines[2].unit_value",
        "dispatch_country",
        "shipping",
    ]
    messages = {e.field: e.message for e in info.value.field_errors}
    assert "too vague" in messages["lines[0].description"]
    assert "positive" in messages["lines[0].unit_value"]
    assert "at most 100000000 EUR" in messages["lines[1].unit_value"]
    assert "in EUR" in messages["lines[2].unit_value"]


def test_a_declaration_needs_lines_and_a_zero_value_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="1 problem"):
        build_declaration([], dispatch_country="CN", shipping=eur("1"), declared_on=TUESDAY)
    with pytest.raises(ValidationFailed) as info:
        parcel(line(TSHIRT, 1, eur("0")), shipping=eur("1"))
    assert "even for gifts and samples" in info.value.field_errors[0].message


# ---------------------------------------------------------------------------------------- properties

DATES = st.dates(min_value=dt.date(2025, 11, 3), max_value=dt.date(2025, 11, 28))
CURRENCIES = ["EUR", "USD", "CNY", "GBP", "SGD", "IDR", "VND", "BRL"]
HS_CODES = [TSHIRT, "6204620010", "640399", "640299", TOY, PHONE, "847130", HEADPHONES, "420222"]
COUNTRIES = sorted(REQUIRED)
PROPERTY_FX = FxRates(load_ecb()).with_manual(operator_rates(dt.date(2025, 10, 25), 40))


@st.composite
def declarations(draw: st.DrawFn) -> Declaration:
    currency = draw(st.sampled_from(CURRENCIES))
    scale = 1000 if currency in ("IDR", "VND") else 1  # so that values reach the thresholds
    lines = [
        DeclarationLine(
            draw(st.sampled_from(HS_CODES)),
            "assorted consumer goods",
            "CN",
            draw(st.integers(1, 5)),
            Money(draw(st.integers(1, 50_000)) * scale, currency),
            draw(st.integers(1, 5_000)),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    shipping = Money(draw(st.integers(0, 5_000)) * scale, currency)
    insurance = Money(draw(st.integers(0, 500)) * scale, currency)
    return build_declaration(
        lines, dispatch_country="HK", shipping=shipping, insurance=insurance, declared_on=draw(DATES)
    )


def consistent(result: Assessment) -> None:
    assert result.duty.minor >= 0 and result.tax.minor >= 0 and result.duty_relief.minor >= 0
    assert result.total == result.duty + result.tax
    assert sum(a.customs_value.minor for a in result.lines) == result.customs_value.minor
    assert sum(a.duty.minor for a in result.lines) - result.duty_relief.minor == result.duty.minor
    assert result.tax_due == (result.tax_collection != "none")


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    declaration=declarations(),
    destination=st.sampled_from(COUNTRIES),
    registered=st.booleans(),
    which=st.integers(0, 2),
    raise_by=st.integers(1, 2_000_000),
)
def test_duty_and_tax_are_never_negative_and_more_value_never_costs_less(
    declaration: Declaration, destination: str, registered: bool, which: int, raise_by: int
) -> None:
    result = assess(declaration, destination, PROPERTY_FX, seller_registered=registered)
    consistent(result)
    i = which % len(declaration.lines)
    lines = list(declaration.lines)
    old = lines[i]
    lines[i] = DeclarationLine(
        old.hs_code,
        old.description,
        old.origin_country,
        old.quantity,
        Money(old.unit_value.minor + raise_by, old.unit_value.currency),
        old.net_weight_g,
    )
    richer = Declaration(
        tuple(lines), "HK", declaration.shipping, declaration.insurance, declaration.declared_on
    )
    raised = assess(richer, destination, PROPERTY_FX, seller_registered=registered)
    consistent(raised)
    assert raised.total.minor >= result.total.minor
    assert raised.duty.minor + raised.tax.minor >= result.duty.minor + result.tax.minor


RELIEVING_ROWS = sorted(
    (row.country, name)
    for row in default_table().thresholds.values()
    for name in ("duty_de_minimis", "tax_de_minimis")
    if getattr(row, name).minor > 0
)


@settings(deadline=None, max_examples=200)
@given(which=st.sampled_from(RELIEVING_ROWS), shipping_share=st.integers(0, 99), registered=st.booleans())
def test_a_value_at_exactly_the_threshold_follows_the_rows_rule(
    which: tuple[str, str], shipping_share: int, registered: bool
) -> None:
    """Declared in the threshold currency (no conversion), the threshold-basis value equals the threshold;
    relieved when the row says "at_or_below", not when it says "below"; one minor unit more: never."""
    country, name = which
    row: ThresholdRow = default_table().thresholds[country]
    threshold: Money = getattr(row, name)
    shipping = threshold.minor * shipping_share // 100 if row.threshold_basis == "CIF" else 0

    def at(value: int) -> Assessment:
        goods = DeclarationLine(HEADPHONES, "headphones", "CN", 1, Money(value - shipping, row.currency), 300)
        declaration = parcel(goods, shipping=Money(shipping, row.currency), dispatch="HK", on=TUESDAY)
        result = assess(declaration, country, PROPERTY_FX, seller_registered=registered)
        assert result.threshold_value == Money(value, row.currency)
        return result

    def relieved(result: Assessment) -> bool:
        return not result.duty_due if name == "duty_de_minimis" else result.tax_collection != "import"

    assert relieved(at(threshold.minor)) == (row.threshold_rule == "at_or_below")
    assert relieved(at(threshold.minor - 1))
    assert not relieved(at(threshold.minor + 1))
