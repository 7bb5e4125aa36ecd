"""Prices, numbers and dates in a market's locale (Babel's CLDR data) with the currency's decimals, and
the storefront's text from message catalogues: a language is a compiled catalogue, not code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from entrepot.web import locale
from entrepot.web.locale import MarketFormat, format_money


@pytest.mark.parametrize(
    ("minor", "currency", "code", "shown"),
    [
        (15_000_000, "IDR", "id_ID", "Rp150.000"),  # IDR keeps 2 decimals in money, none on the screen
        (15_000_050, "IDR", "id_ID", "Rp150.000,50"),  # never rounded: sen shown when there are some
        (1990, "SGD", "en_SG", "$19.90"),
        (123_450, "THB", "th_TH", "฿1,234.50"),
        (1_990_000, "VND", "vi_VN", "1.990.000\xa0₫"),  # no minor unit; dots group thousands
        (6900, "CNY", "zh_CN", "¥69.00"),
        (123_456_789, "MYR", "ms_MY", "RM1,234,567.89"),
    ],
)
def test_a_price_in_the_market_locale_with_the_currency_decimals(
    minor: int, currency: str, code: str, shown: str
) -> None:
    assert format_money(minor, currency, code) == shown


def test_numbers_dates_and_moments_follow_the_locale_and_the_market_clock() -> None:
    vietnam = MarketFormat("vi_VN", "VND", "Asia/Ho_Chi_Minh")
    thailand = MarketFormat("th_TH", "THB", "Asia/Bangkok")
    assert vietnam.number(1_234_567) == "1.234.567" and thailand.number(1_234_567) == "1,234,567"
    assert vietnam.kg_co2e(1234) == "1,23" and thailand.kg_co2e(1234) == "1.23"
    assert vietnam.grams_co2e(0.94) == "0,9" and thailand.grams_co2e(312.4) == "312"  # under a kilogram
    assert vietnam.day(dt.date(2025, 11, 13)) == "13 thg 11, 2025"
    moment = dt.datetime(2025, 11, 11, 17, 30, tzinfo=dt.UTC)  # already the 12th in Bangkok
    assert thailand.moment(moment).startswith("12 ")
    assert MarketFormat("en_SG", "SGD", "Asia/Singapore").moment(moment) == "12 Nov 2025, 1:30\u202fam"


def test_a_language_is_added_with_a_catalogue_and_no_code(tmp_path: Path) -> None:
    catalog = Catalog(locale="th")
    catalog.add("Add to cart", "หยิบใส่ตะกร้า")
    target = tmp_path / "th" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{locale.DOMAIN}.mo").open("wb") as out:
        write_mo(out, catalog)
    thai = MarketFormat("th_TH", "THB", "Asia/Bangkok", tmp_path)
    assert thai.translations().gettext("Add to cart") == "หยิบใส่ตะกร้า"
    assert thai.translations().gettext("Checkout") == "Checkout"  # not translated yet: English
    assert MarketFormat("en_SG", "SGD", "Asia/Singapore", tmp_path).translations().gettext("Add to cart") == (
        "Add to cart"
    )


def test_the_shipped_template_holds_every_text_of_the_code(tmp_path: Path) -> None:
    """shop.pot, which translators start from, is extracted from the code as it stands: a text added
    without extracting again (babel.cfg says how) fails here, before a translator misses it."""
    root = Path(__file__).parents[2]
    fresh = tmp_path / "shop.pot"
    extract = [
        "pybabel",
        "-q",
        "extract",
        "-F",
        str(root / "babel.cfg"),
        "-k",
        "N_",
        "-o",
        str(fresh),
        str(root),
    ]
    CommandLineInterface().run(extract)
    assert _ids(fresh) == _ids(locale.CATALOGUES / f"{locale.DOMAIN}.pot")
    assert {"Add to cart", "Greenest", "Order placed", ("item", "items")} <= _ids(fresh)


def _ids(path: Path) -> set[object]:
    with path.open("rb") as pot:
        return {m.id for m in read_po(pot) if m.id}


def test_a_time_left_reads_in_two_whole_units_never_rounded_up() -> None:
    assert locale.format_duration(5400, "en_SG") == "1 hour, 30 minutes"  # not "2 hours"
    assert locale.format_duration(86_405, "en_SG") == "1 day"
    assert locale.format_duration(720, "vi_VN") == "12 phút"
    assert locale.format_duration(-3, "en_SG") == "0 seconds"
