"""Catalog rules: catalog CSV rows and prices in a currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.catalog.domain import (
    CatalogRow,
    ProductSpec,
    SkuSpec,
    check_code_list,
    commission_for,
    parse_row,
    price_to_minor,
    unit_volume_cm3,
)
from entrepot.kernel.money import minor_unit_exponent

GOOD_ROW = {
    "product_ref": "MUG-01",
    "title": "Stoneware mug",
    "category": "kitchen",
    "hs_code": "691200",
    "origin_country": "vn",
    "sku_code": "MUG-01-BLU",
    "weight_g": "350",
    "length_mm": "120",
    "width_mm": "90",
    "height_mm": "100",
    "market": "lazada-sg",
    "price": " 12.90 ",
    "currency": "SGD",
}


def test_good_row_parses_into_specs() -> None:
    row, errors = parse_row(7, GOOD_ROW)
    assert errors == []
    assert row == CatalogRow(
        line=7,
        product=ProductSpec("MUG-01", "Stoneware mug", "kitchen", "691200", "VN"),  # country upper-cased
        sku=SkuSpec("MUG-01-BLU", 350, 120, 90, 100),
        market="lazada-sg",
        price_minor=1290,
        currency="SGD",
    )


@pytest.mark.parametrize(
    ("changes", "price_minor"),
    [
        ({"price": "250000", "currency": "VND"}, 250000),
        ({"price": "1.250", "currency": "BHD"}, 1250),
        ({"hs_code": "69120000"}, 1290),
        ({"hs_code": "6912000010"}, 1290),
        ({"extra column": "ignored"}, 1290),
    ],
)
def test_other_good_rows(changes: dict[str, str], price_minor: int) -> None:
    row, errors = parse_row(1, {**GOOD_ROW, **changes})
    assert errors == []
    assert row is not None
    assert row.price_minor == price_minor


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("product_ref", "", "product_ref"),
        ("product_ref", "-mug", "product_ref"),
        ("product_ref", "mug 01", "product_ref"),
        ("title", "   ", "title"),
        ("title", "x" * 301, "title"),
        ("category", "", "category"),
        ("hs_code", "6912", "hs_code"),
        ("hs_code", "6912000", "hs_code"),
        ("hs_code", "69120a", "hs_code"),
        ("origin_country", "XX", "origin_country"),
        ("origin_country", "", "origin_country"),
        ("sku_code", "", "sku_code"),
        ("sku_code", "a/b", "sku_code"),
        ("weight_g", "0", "weight_g"),
        ("weight_g", "1000001", "weight_g"),
        ("weight_g", "heavy", "weight_g"),
        ("weight_g", "3.5", "weight_g"),
        ("length_mm", "-1", "length_mm"),
        ("width_mm", "10001", "width_mm"),
        ("height_mm", "", "height_mm"),
        ("market", "", "market"),
        ("price", "", "price"),
        ("price", "free", "price"),
        ("price", "0", "price"),
        ("price", "-3.00", "price"),
        ("price", "12.905", "price"),
        ("currency", "XYZ", "currency"),
        ("currency", "", "currency"),
    ],
)
def test_each_bad_field_is_reported_by_name(column: str, value: str, field: str) -> None:
    row, errors = parse_row(3, {**GOOD_ROW, column: value})
    assert row is None
    assert [e.field for e in errors] == [field]
    assert errors[0].message


def test_missing_columns_are_reported() -> None:
    row, errors = parse_row(2, {"product_ref": "MUG-01"})
    assert row is None
    fields = {e.field for e in errors}
    assert {"weight_g", "length_mm", "width_mm", "height_mm", "title", "category", "hs_code"} <= fields
    assert {"origin_country", "market", "price"} <= fields


def test_bad_dimension_does_not_hide_a_bad_sku_code() -> None:
    # Both are wrong; a row should come back with both errors, not one now and the other on re-upload.
    row, errors = parse_row(4, {**GOOD_ROW, "sku_code": "a/b", "weight_g": "heavy"})
    assert row is None
    assert {e.field for e in errors} == {"sku_code", "weight_g"}


def test_bad_price_does_not_hide_a_bad_currency() -> None:
    row, errors = parse_row(5, {**GOOD_ROW, "price": "free", "currency": "XYZ"})
    assert row is None
    assert {e.field for e in errors} == {"price", "currency"}


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.90", "SGD", 1290),
        ("12.9", "SGD", 1290),
        ("12", "SGD", 1200),
        (" 0.01 ", "SGD", 1),
        ("12.900", "SGD", 1290),  # trailing zeros are not extra precision
        ("250000", "VND", 250000),
        ("250000.00", "VND", 250000),
        ("1.005", "BHD", 1005),
        ("1500", "JPY", 1500),
        ("1E+2", "SGD", 10000),
        ("100000000", "SGD", 10_000_000_000),
    ],
)
def test_price_to_minor(text: str, currency: str, minor: int) -> None:
    assert price_to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("12.905", "SGD", "SGD allows at most 2 decimal places"),
        ("1.0005", "BHD", "BHD allows at most 3 decimal places"),
        ("25000.5", "VND", "VND allows at most 0 decimal places"),
        ("0.5", "JPY", "JPY allows at most 0 decimal places"),
        ("0", "SGD", "must be positive"),
        ("0.00", "SGD", "must be positive"),
        ("-1", "SGD", "must be positive"),
        ("100000000.01", "SGD", "at most 100000000"),
        ("NaN", "SGD", "must be positive"),
        ("Infinity", "SGD", "must be positive"),
        ("twelve", "SGD", "'twelve' is not a number"),
        ("", "SGD", "'' is not a number"),
        ("12,90", "SGD", "is not a number"),
    ],
)
def test_price_to_minor_rejects(text: str, currency: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        price_to_minor(text, currency)
    assert reason in str(info.value)


@given(
    minor=st.integers(min_value=1, max_value=10**10),
    currency=st.sampled_from(["SGD", "VND", "BHD", "JPY", "CNY"]),
)
def test_price_round_trip(minor: int, currency: str) -> None:
    text = f"{Decimal(minor).scaleb(-minor_unit_exponent(currency)):f}"
    if Decimal(text) <= Decimal("100000000"):
        assert price_to_minor(text, currency) == minor


def test_commission_for() -> None:
    rates = {"kitchen": Decimal("0.12"), "*": Decimal("0.08")}
    assert commission_for(rates, "kitchen") == Decimal("0.12")
    assert commission_for(rates, "garden") == Decimal("0.08")
    assert commission_for({}, "garden") == Decimal(0)


def test_check_code_list() -> None:
    assert check_code_list([" lazada-sg", "shopee-vn", "", "lazada-sg ", "  "]) == ["lazada-sg", "shopee-vn"]


def test_a_unit_volume_is_whole_cm3_rounded_down_and_holds_the_largest_sku() -> None:
    assert unit_volume_cm3(15, 15, 15) == 3  # 3,375 mm3
    assert unit_volume_cm3(9, 10, 11) == 0  # 990 mm3: under one cm3
    assert unit_volume_cm3(10_000, 10_000, 10_000) == 10**9  # past a 4-byte integer in mm3
