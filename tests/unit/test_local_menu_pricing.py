"""delivery.price_lines, the pure rule that prices an on-demand order from its store's menu: every line
at the menu's price and name, in the order asked; a line naming an item not on the menu, or not on sale,
refused by its index, all such lines at once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel.errors import ValidationFailed
from entrepot.local_services.delivery import Item, Line, Offer, order_total, price_lines

MENU = {
    "itm_soup": Offer("itm_soup", "soup", 1250, True),
    "itm_bread": Offer("itm_bread", "bread", 349, True),
    "itm_cake": Offer("itm_cake", "cake", 600, False),
}


def test_each_line_is_priced_and_named_from_the_menu() -> None:
    priced = price_lines([Line("itm_bread", 3), Line("itm_soup", 1)], MENU)
    assert priced == [Item("bread", 3, 349, "itm_bread"), Item("soup", 1, 1250, "itm_soup")]


def test_lines_not_on_sale_are_refused_by_index_all_at_once() -> None:
    lines = [Line("itm_soup", 1), Line("itm_cake", 1), Line("itm_other_store", 2)]
    with pytest.raises(ValidationFailed) as refused:
        price_lines(lines, MENU)
    errors = {e.field: e.message for e in refused.value.field_errors}
    assert errors == {
        "items[1].item": "cake is not available now",
        "items[2].item": "itm_other_store is not on this store's menu",
    }


@given(st.lists(st.tuples(st.sampled_from(["itm_soup", "itm_bread"]), st.integers(1, 100)), min_size=1))
def test_the_total_is_the_menu_s_prices_times_the_quantities(asked: list[tuple[str, int]]) -> None:
    priced = price_lines([Line(ref, n) for ref, n in asked], MENU)
    assert order_total(priced, "SGD") == sum(MENU[ref].price_minor * n for ref, n in asked)
