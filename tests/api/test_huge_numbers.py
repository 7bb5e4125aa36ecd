"""Numbers too large for any price, fee or stock are refused as bad input naming the field, before they
reach the database (where a 64-bit column would turn them into a 500), and nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text

from entrepot.catalog import service as catalog
from entrepot.catalog.domain import MAX_SIDE_MM, MAX_WEIGHT_G, ProductSpec, SkuSpec
from entrepot.inventory import service as inventory
from tests.api.helpers import API, assert_problem, basket, field_errors, place
from tests.api.test_catalog_api import TMALL_CN
from tests.api.test_flash_api import sale_body
from tests.api.test_livestream_api import go_live
from tests.world import T0, World

HUGE = 2**70
# 100 million Singapore dollars is the ceiling of a price or fee: one cent more is refused
JUST_OVER = 10_000_000_001


def _sale(world: World, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "/flash-sales", sale_body(world, **changes)


def _group_buy(world: World, **changes: Any) -> tuple[str, dict[str, Any]]:
    body = {
        "sku": world.ids["seller_a_red"],
        "market": "lazada-sg",
        "team_price_minor": 990,
        "team_size": 2,
        "team_window_seconds": 600,
        "stock": 4,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
    }
    return "/group-buys", {**body, **changes}


def _market(world: World, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "/markets", {**TMALL_CN, **changes}


CASES = [
    ("seller_a", _sale, "sale_price_minor", HUGE),
    ("seller_a", _sale, "sale_price_minor", JUST_OVER),
    ("seller_a", _sale, "stock", HUGE),
    ("seller_a", _group_buy, "team_price_minor", HUGE),
    ("seller_a", _group_buy, "stock", HUGE),
    ("operator", _market, "shipping_domestic_minor", HUGE),
    ("operator", _market, "shipping_cross_border_minor", 2**63),
]


@pytest.mark.parametrize(("who", "make", "field", "value"), CASES)
def test_a_huge_number_is_422_on_its_field_and_writes_nothing(
    world: World, who: str, make: Any, field: str, value: int
) -> None:
    client = world.client()
    path, body = make(world, **{field: value})
    before = _rows(world, TABLES[path])
    response = client.post(f"{API}{path}", json=body, headers=world.auth(who))
    assert field in field_errors(assert_problem(response, 422, "validation-failed"))
    assert _rows(world, TABLES[path]) == before
    accepted = client.post(f"{API}{path}", json=make(world)[1], headers=world.auth(who))
    assert accepted.status_code == 201, accepted.text  # the same body with a sane number is taken
    assert _rows(world, TABLES[path]) == before + 1


TABLES = {"/flash-sales": "flash_sales", "/group-buys": "group_buys", "/markets": "markets"}


def _rows(world: World, table: str) -> int:
    with world.db.transaction() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_huge_price_on_a_sku_is_422(world: World) -> None:
    client = world.client()
    url = f"{API}/skus/{world.ids['seller_a_red']}/prices/lazada-sg"
    for amount in (2**63, JUST_OVER):
        response = client.put(
            url, json={"amount_minor": amount, "currency": "SGD"}, headers=world.auth("seller_a")
        )
        errors = field_errors(assert_problem(response, 422, "validation-failed"))
        assert "amount_minor" in errors
    ceiling = client.put(
        url, json={"amount_minor": JUST_OVER - 1, "currency": "SGD"}, headers=world.auth("seller_a")
    )
    assert ceiling.status_code == 200, ceiling.text


@pytest.mark.parametrize(("field", "value"), [("sale_price_minor", HUGE), ("stock", HUGE)])
def test_a_huge_number_in_a_drop_is_422(world: World, field: str, value: int) -> None:
    client = world.client()
    live = go_live(client, world)
    body = {"sku": world.ids["seller_a_red"], "sale_price_minor": 500, "stock": 2, "per_buyer_limit": 1}
    url = f"{API}/live-sessions/{live['id']}/drops"
    response = client.post(url, json={**body, field: value}, headers=world.auth("seller_a"))
    assert field in field_errors(assert_problem(response, 422, "validation-failed"))
    assert (
        client.get(f"{API}/live-sessions/{live['id']}", headers=world.auth("seller_a")).json()["drops"] == []
    )


def test_the_largest_sku_the_catalog_takes_can_be_quoted_and_ordered(world: World) -> None:
    """Three 10 m sides make 10^12 mm3: more than a 4-byte integer holds, so packing the basket must
    not multiply them out in SQL (PostgreSQL stopped checkout with 'integer out of range'; SQLite's
    8-byte integers never did, so only the PostgreSQL case guards this)."""
    with world.db.transaction() as s:
        seller = catalog.get_seller(s, world.ids["seller_a"])
        side = MAX_SIDE_MM
        spec = ProductSpec("shed", "Garden shed", "home", "940610", "CN")
        catalog.create_product(s, seller, spec, [SkuSpec("shed-1", MAX_WEIGHT_G, side, side, side)], T0)
        sku = next(sku for sku in catalog.seller_skus(s, seller.id) if sku.code == "shed-1")
        world.ids["shed"] = sku.public_id
        catalog.set_price(s, sku, "lazada-sg", 99_000, "SGD")
        inventory.set_on_hand(s, sku, inventory.get_warehouse(s, "sg-tuas"), 2)
    client = world.client()
    shed = basket(world, ("shed", 1))
    quoted = client.post(f"{API}/checkout/quote", json=shed, headers=world.auth("buyer_a"))
    assert quoted.status_code == 200, quoted.text
    placed = place(client, world, shed)
    assert placed.status_code == 201, placed.text
