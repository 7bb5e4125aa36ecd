"""Moving an order along from the console: each move after a confirmation page, through the API's
service (the same roles, the same 409 for an impossible move), never without the form's CSRF token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import console_as, csrf_of
from tests.world import World


def _status(api: TestClient, world: World, order_id: str) -> str:
    status: str = api.get(f"/api/v1/orders/{order_id}", headers=world.auth("operator")).json()["status"]
    return status


def test_a_seller_fulfils_its_paid_order_after_confirming(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    order_id = paid_orders["seller_a"]
    seller = console_as(world, "seller-a")
    page = seller.get(f"/orders/{order_id}").text
    assert f'href="/orders/{order_id}/fulfil"' in page and f'href="/orders/{order_id}/cancel"' in page
    assert f'href="/orders/{order_id}/complete"' not in page  # the buyer's move, and not possible yet
    confirm = seller.get(f"/orders/{order_id}/fulfil")
    assert confirm.status_code == 200 and "Fulfil the order" in confirm.text
    assert _status(api, world, order_id) == "paid"  # asking to confirm does nothing
    done = seller.post(f"/orders/{order_id}/fulfil", data={"csrf": csrf_of(confirm)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/orders/{order_id}?done=fulfil"
    assert _status(api, world, order_id) == "fulfilled"
    assert "The order is fulfilled." in seller.get(done.headers["location"]).text


def test_an_operator_cancels_a_paid_order_which_refunds_it(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    order_id = paid_orders["seller_b"]
    ops = console_as(world, "ops")
    confirm = ops.get(f"/orders/{order_id}/cancel")
    assert "refunded in full" in confirm.text
    ops.post(f"/orders/{order_id}/cancel", data={"csrf": csrf_of(confirm)})
    order = api.get(f"/api/v1/orders/{order_id}", headers=world.auth("operator")).json()
    assert order["status"] == "cancelled" and order["refunded_minor"] == order["total_minor"]


def test_moves_are_refused_as_the_api_refuses_them(
    world: World, people: dict[str, str], paid_orders: dict[str, str], api: TestClient
) -> None:
    own, other = paid_orders["seller_a"], paid_orders["seller_b"]
    buyer = console_as(world, "buyer-a")
    csrf = csrf_of(buyer.get("/orders"))
    assert buyer.get(f"/orders/{own}/fulfil").status_code == 403  # a buyer never fulfils
    assert buyer.post(f"/orders/{own}/fulfil", data={"csrf": csrf}).status_code == 403
    seller = console_as(world, "seller-a")
    csrf = csrf_of(seller.get("/orders"))
    assert seller.get(f"/orders/{other}/fulfil").status_code == 404  # another seller's order
    assert seller.get(f"/orders/{own}/ship").status_code == 409  # not fulfilled yet: no page to confirm
    assert seller.post(f"/orders/{own}/ship", data={"csrf": csrf}).status_code == 409
    assert seller.post(f"/orders/{own}/fulfil", data={}).status_code == 403  # no CSRF token
    assert seller.post(f"/orders/{own}/teleport", data={"csrf": csrf}).status_code == 422
    assert _status(api, world, own) == "paid"  # none of it changed anything
