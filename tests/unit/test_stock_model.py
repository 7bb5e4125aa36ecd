"""The stock model (reserve/confirm/release never lose or invent units) and warehouse ranking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.inventory.domain import Candidate, StockLevel, great_circle_km, rank_for_line
from entrepot.kernel.errors import InsufficientStock, ValidationFailed

OPERATIONS = ("reserve", "confirm", "release", "expire")


def _apply(level: StockLevel, op: str, quantity: int) -> StockLevel:
    if op == "reserve":
        return level.reserve(quantity)
    if op == "confirm":
        return level.confirm(quantity)
    return level.release(quantity)  # "release" and "expire" (an expired reservation is released)


def test_reserve_confirm_release_concrete() -> None:
    level = StockLevel(10)
    assert level.available == 10
    level = level.reserve(4)
    assert (level.on_hand, level.reserved, level.available) == (10, 4, 6)
    level = level.confirm(3)
    assert (level.on_hand, level.reserved, level.available) == (7, 1, 6)
    level = level.release(1)
    assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)


def test_reserve_more_than_available_raises_with_numbers() -> None:
    with pytest.raises(InsufficientStock, match="only 2 available, 3 requested"):
        StockLevel(5, 3).reserve(3)
    assert StockLevel(5, 3).reserve(2) == StockLevel(5, 5)


@pytest.mark.parametrize("op", ["confirm", "release"])
def test_cannot_confirm_or_release_more_than_reserved(op: str) -> None:
    with pytest.raises(ValueError, match="more than is reserved"):
        _apply(StockLevel(10, 2), op, 3)


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("quantity", [0, -1])
def test_non_positive_quantities_are_rejected(op: str, quantity: int) -> None:
    with pytest.raises(ValidationFailed, match="quantity must be positive"):
        _apply(StockLevel(10, 5), op, quantity)


@given(
    initial=st.integers(min_value=0, max_value=50),
    steps=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(min_value=-2, max_value=25)), max_size=60
    ),
)
def test_stock_never_goes_negative_and_only_sales_leave_the_shelf(
    initial: int, steps: list[tuple[str, int]]
) -> None:
    level = StockLevel(initial)
    sold = 0
    reserved = 0  # the model, kept independently of StockLevel
    for op, quantity in steps:
        before = level
        if quantity <= 0:
            expected: type[Exception] | None = ValidationFailed
        elif op == "reserve":
            expected = InsufficientStock if quantity > initial - sold - reserved else None
        else:
            expected = ValueError if quantity > reserved else None
        if expected is not None:
            with pytest.raises(expected):
                level = _apply(level, op, quantity)
            assert level == before  # an invalid operation changes nothing
        else:
            level = _apply(level, op, quantity)
            if op == "reserve":
                reserved += quantity
            elif op == "confirm":
                reserved -= quantity
                sold += quantity
            else:
                reserved -= quantity
        assert level.on_hand == initial - sold
        assert level.reserved == reserved
        assert level.available == level.on_hand - level.reserved
        assert level.available >= 0
        assert level.reserved >= 0


def _candidate(warehouse: str, country: str, lat: float, lon: float, available: int) -> Candidate:
    number = int.from_bytes(warehouse.encode(), "big") % 10_000
    return Candidate(
        stock_id=number,
        sku_id=1,
        warehouse_id=number,
        warehouse_public_id=warehouse,
        country=country,
        latitude=lat,
        longitude=lon,
        available=available,
        warehouse_code=warehouse,
    )


SINGAPORE = (1.3521, 103.8198)
WH_SG = _candidate("wh-sg", "SG", 1.3331, 103.7430, 10)  # Jurong
WH_JB = _candidate("wh-jb", "MY", 1.4927, 103.7414, 50)  # Johor Bahru: nearer some SG buyers, abroad
WH_KL = _candidate("wh-kl", "MY", 3.1390, 101.6869, 50)
WH_BKK = _candidate("wh-bkk", "TH", 13.7563, 100.5018, 50)
WH_SG_SMALL = _candidate("wh-sg2", "SG", 1.3700, 103.9500, 2)  # Changi, few units


def test_great_circle_singapore_to_kuala_lumpur() -> None:
    # about 316 km as the crow flies
    assert 300 < great_circle_km(*SINGAPORE, WH_KL.latitude, WH_KL.longitude) < 330
    assert great_circle_km(1.0, 2.0, 1.0, 2.0) == 0.0


def test_buyers_country_first_then_distance() -> None:
    # A buyer on the north coast of Singapore is closer to Johor Bahru than to Jurong,
    # but domestic warehouses still come first.
    woodlands = (1.4382, 103.7890)
    assert great_circle_km(*woodlands, WH_JB.latitude, WH_JB.longitude) < great_circle_km(
        *woodlands, WH_SG.latitude, WH_SG.longitude
    )
    ranked = rank_for_line([WH_BKK, WH_KL, WH_JB, WH_SG], 1, "SG", woodlands)
    assert [c.warehouse_public_id for c in ranked] == ["wh-sg", "wh-jb", "wh-kl", "wh-bkk"]


def test_only_warehouses_with_enough_stock_for_the_whole_line() -> None:
    ranked = rank_for_line([WH_SG_SMALL, WH_SG, WH_KL], 3, "SG", SINGAPORE)
    assert [c.warehouse_public_id for c in ranked] == ["wh-sg", "wh-kl"]
    ranked = rank_for_line([WH_SG_SMALL, WH_SG, WH_KL], 11, "SG", SINGAPORE)
    assert [c.warehouse_public_id for c in ranked] == ["wh-kl"]
    assert rank_for_line([WH_SG_SMALL, WH_SG], 51, "SG", SINGAPORE) == []
    # exactly the available quantity is enough
    assert [c.warehouse_public_id for c in rank_for_line([WH_SG_SMALL], 2, "SG", SINGAPORE)] == ["wh-sg2"]


def test_nearest_domestic_warehouse_wins() -> None:
    changi_buyer = (1.3644, 103.9915)
    ranked = rank_for_line([WH_SG, WH_SG_SMALL], 1, "SG", changi_buyer)
    assert [c.warehouse_public_id for c in ranked] == ["wh-sg2", "wh-sg"]


def test_without_a_point_country_first_then_most_stock() -> None:
    ranked = rank_for_line([WH_SG_SMALL, WH_BKK, WH_SG, WH_KL], 1, "MY", None)
    # the MY warehouse first, then the others by available stock, most first
    assert [c.warehouse_public_id for c in ranked] == ["wh-kl", "wh-bkk", "wh-sg", "wh-sg2"]
    ranked = rank_for_line([WH_SG_SMALL, WH_SG, WH_BKK], 1, "SG", None)
    assert [c.warehouse_public_id for c in ranked] == ["wh-sg", "wh-sg2", "wh-bkk"]
