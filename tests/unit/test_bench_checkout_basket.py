"""The checkout bench's baskets (issue 18): 1 to 3 distinct SKUs an order, each size about as often."""

from __future__ import annotations

import random
from collections import Counter

from entrepot.simulation.bench_checkout import basket

SKUS = [f"sku_{i:04d}" for i in range(2000)]


def test_baskets_hold_one_to_three_distinct_skus_uniformly() -> None:
    rng = random.Random(7)
    baskets = [basket(rng, SKUS) for _ in range(3000)]
    assert all(len(set(b)) == len(b) and set(b) <= set(SKUS) for b in baskets)
    sizes = Counter(len(b) for b in baskets)
    assert set(sizes) == {1, 2, 3}
    assert all(800 <= n <= 1200 for n in sizes.values()), sizes  # 1,000 each expected
    assert len({sku for b in baskets for sku in b}) > 1500  # spread over the 2,000, not a few


def test_a_basket_never_repeats_a_sku_when_there_are_few() -> None:
    rng = random.Random(1)
    for _ in range(200):
        chosen = basket(rng, ["only"])
        assert chosen == ["only"]
