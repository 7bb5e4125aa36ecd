"""The database's stock arithmetic matches the pure model for any sequence of operations, on SQLite
and PostgreSQL, and its constraints refuse a negative stock even from a careless caller."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from entrepot.catalog import service as catalog
from entrepot.inventory import service as inventory
from entrepot.inventory.domain import StockLevel
from entrepot.inventory.models import Stock
from entrepot.kernel.errors import DomainError
from tests.world import World

NOW = dt.datetime(2025, 11, 11, tzinfo=dt.UTC)
operations = st.lists(
    st.tuples(st.sampled_from(["reserve", "confirm", "release", "expire"]), st.integers(1, 6)), max_size=25
)
_refs = itertools.count()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.integers(0, 20), ops=operations)
def test_any_sequence_keeps_stock_consistent(world: World, initial: int, ops: list[tuple[str, int]]) -> None:
    with world.db.transaction() as s:
        sku = catalog.get_sku(s, world.ids["seller_b_blue"])
        changi = inventory.get_warehouse(s, "sg-changi")
        stock_id = s.scalar(select(Stock.id).where(Stock.sku_id == sku.id, Stock.warehouse_id == changi.id))
        if stock_id is None:
            stock_id = inventory.set_on_hand(s, sku, changi, 0).id
        # each example starts afresh (the row outlives examples, which share one world)
        s.execute(update(Stock).where(Stock.id == stock_id).values(on_hand=initial, reserved=0))
    model = StockLevel(initial)
    open_refs: list[tuple[str, int]] = []
    sold = 0
    for op, quantity in ops:
        if op == "reserve":
            with world.db.transaction() as s:
                took = inventory.try_reserve(s, stock_id, quantity)
                if took:
                    ref = f"ord_test{next(_refs)}"
                    inventory.add_reservations(s, ref, [(stock_id, quantity)], NOW, NOW)
                    open_refs.append((ref, quantity))
            assert took == (quantity <= model.available)
            if took:
                model = model.reserve(quantity)
        elif open_refs:
            ref, held = open_refs.pop(0)
            outcome = {"confirm": "confirmed", "release": "released", "expire": "expired"}[op]
            with world.db.transaction() as s:
                assert inventory.settle(s, ref, outcome)
                assert not inventory.settle(s, ref, outcome)  # a second settle finds nothing active
            model = model.confirm(held) if op == "confirm" else model.release(held)
            sold += held if op == "confirm" else 0
        with world.db.transaction() as s:
            on_hand, reserved = s.execute(
                select(Stock.on_hand, Stock.reserved).where(Stock.id == stock_id)
            ).one()
        assert (on_hand, reserved) == (model.on_hand, model.reserved)
        assert on_hand == initial - sold
        assert on_hand - reserved >= 0


def test_constraints_refuse_negative_or_over_reserved_stock(world: World) -> None:
    with world.db.transaction() as s:
        stock_id = s.scalar(select(Stock.id).where(Stock.on_hand == 10))
    for values in ({"on_hand": -1, "reserved": 0}, {"on_hand": 10, "reserved": 11}, {"reserved": -1}):
        with pytest.raises(IntegrityError), world.db.transaction() as s:
            s.execute(update(Stock).where(Stock.id == stock_id).values(**values))
    with world.db.transaction() as s:
        assert s.execute(select(Stock.on_hand, Stock.reserved).where(Stock.id == stock_id)).one() == (10, 0)


def test_on_hand_cannot_be_set_below_what_is_reserved(world: World) -> None:
    with world.db.transaction() as s:
        sku = catalog.get_sku(s, world.ids["seller_a_red"])
        tuas = inventory.get_warehouse(s, "sg-tuas")
        stock = s.scalar(select(Stock).where(Stock.sku_id == sku.id, Stock.warehouse_id == tuas.id))
        assert stock is not None
        assert inventory.try_reserve(s, stock.id, 7)
    with pytest.raises(DomainError) as refused, world.db.transaction() as s:
        inventory.set_on_hand(s, sku, tuas, 6)
    assert refused.value.code == "below-reserved"
    with world.db.transaction() as s:
        assert inventory.set_on_hand(s, sku, tuas, 7).on_hand == 7
