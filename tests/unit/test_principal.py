"""Whose things a principal sees, and the 403 of a role that may never use a route (identity.domain)."""

from __future__ import annotations

import pytest

from entrepot.kernel.errors import Forbidden, not_found
from entrepot.platform.principal import Principal

OPERATOR = Principal("operator", "key_ops")
SELLER = Principal("seller", "key_s", seller_id=1)
BUYER = Principal("buyer", "key_b", buyer_id=7)
CARRIER = Principal("carrier", "key_c", carrier="Ninja Van")


def test_an_operator_sees_everything_and_anyone_else_only_what_names_it() -> None:
    assert OPERATOR.sees() and OPERATOR.sees(seller_id=2, buyer_id=8)
    assert SELLER.sees(seller_id=1, buyer_id=8) and not SELLER.sees(seller_id=2, buyer_id=7)
    assert BUYER.sees(seller_id=2, buyer_id=7) and not BUYER.sees(seller_id=1, buyer_id=8)
    assert CARRIER.sees(carriers={"Ninja Van", "test"}) and not CARRIER.sees(seller_id=1, carriers={"test"})


def test_nobody_but_an_operator_sees_a_thing_naming_no_one() -> None:
    for principal in (SELLER, BUYER, CARRIER, Principal("seller", "key_x"), Principal("carrier", "key_y")):
        assert not principal.sees(), principal
    assert not Principal("seller", "key_x").sees(seller_id=None, buyer_id=None)


@pytest.mark.parametrize(
    ("roles", "detail"),
    [
        (("operator",), "this needs an operator key"),
        (("seller", "operator"), "this needs a seller or operator key"),
        (("buyer", "seller", "operator"), "this needs a buyer, seller or operator key"),
    ],
)
def test_a_role_that_may_never_use_a_route_is_told_which_key_it_needs(
    roles: tuple[str, ...], detail: str
) -> None:
    with pytest.raises(Forbidden) as refused:
        CARRIER.require(*roles)
    assert str(refused.value) == detail
    OPERATOR.require("operator")  # allowed: nothing raised


def test_not_yours_reads_as_unknown() -> None:
    problem = not_found("order", "ord_x")
    assert (problem.status, problem.code, problem.detail) == (404, "not-found", "no order ord_x")
