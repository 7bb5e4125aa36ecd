"""On-demand delivery over the API (issue 22, items 2 and 5): a seller's store, a buyer's order with its
promise, a dispatch round offering a trip, the courier's flow (accept, pick up, deliver with proof), the
walls between sellers, buyers, couriers and operators, the state machine's 409s, re-planning when a
courier is late or declines, live tracking by server-sent events; and bad input as precise problems
that write nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from tests.api.helpers import API, assert_problem, field_errors
from tests.api.local_on_demand import SEA, STORE_AT, Town, shipped_city, store_body, town

__all__ = ["shipped_city", "town"]  # fixtures


def test_an_order_is_promised_dispatched_carried_and_delivered(town: Town) -> None:
    assert town.ping(0).status_code == 200
    placed = town.ok(town.order(), 201)
    assert placed["state"] == "placed" and placed["total_minor"] == 2500 and placed["currency"] == "SGD"
    at = {k: dt.datetime.fromisoformat(placed[k]) for k in ("placed_at", "ready_at", "eta_at", "promised_at")}
    assert at["placed_at"] < at["ready_at"] < at["eta_at"] < at["promised_at"]
    assert placed["eta_spread_s"] > 0

    order = town.dispatched(placed["id"])
    assert order["state"] == "assigned" and order["trip"]
    trip = town.ok(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"))
    assert trip["id"] == order["trip"] and trip["state"] == "offered"
    assert [s["kind"] for s in trip["stops"]] == ["pickup", "dropoff"]
    assert [s["orders"] for s in trip["stops"]] == [[order["id"]], [order["id"]]]

    assert_problem(town.post(f"/local/orders/{order['id']}/pickup", "rider 1"), 409, "invalid-transition")
    assert town.ok(town.post(f"/local/trips/{trip['id']}/accept", "rider 1"))["state"] == "accepted"
    assert_problem(town.post(f"/local/trips/{trip['id']}/accept", "rider 1"), 409, "invalid-transition")
    proof = {"kind": "code", "reference": "4821"}
    assert_problem(
        town.post(f"/local/orders/{order['id']}/delivery", "rider 1", proof), 409, "invalid-transition"
    )
    town.world.clock.now = dt.datetime.fromisoformat(trip["stops"][0]["at"]) + dt.timedelta(minutes=4)
    picked = town.ok(town.post(f"/local/orders/{order['id']}/pickup", "rider 1"))
    assert picked["state"] == "picked_up"
    late = dt.timedelta(minutes=3)  # the pick-up's minute of handling planned, four taken
    assert dt.datetime.fromisoformat(picked["eta_at"]) == dt.datetime.fromisoformat(
        trip["stops"][1]["at"]
    ) + late + dt.timedelta(minutes=2)
    assert_problem(town.post(f"/local/orders/{order['id']}/cancel", "buyer_a"), 409, "invalid-transition")
    delivered = town.ok(town.post(f"/local/orders/{order['id']}/delivery", "rider 1", proof))
    assert delivered["state"] == "delivered" and delivered["delivered_at"]
    assert_problem(
        town.post(f"/local/orders/{order['id']}/delivery", "rider 1", proof), 409, "invalid-transition"
    )
    assert_problem(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"), 404, "not-found")  # done
    assert town.events(order["id"]) == [
        "local.order_placed",
        "local.order_assigned",
        "local.order_picked_up",
        "local.order_delivered",
    ]
    assert town.events(trip["id"]) == ["local.trip_offered", "local.trip_accepted", "local.trip_done"]
    sold = town.event_payload(order["id"], "local.order_delivered")
    assert (sold["seller"], sold["market"], sold["total_minor"], sold["currency"]) == (
        town.world.ids["seller_a"],
        "lazada-sg",
        2500,
        "SGD",
    )
    done = town.event_payload(trip["id"], "local.trip_done")
    assert done["mode"] == "ebike" and done["orders"] == [order["id"]]
    assert 100 < done["distance_m"] < 3000  # the railway station to Mikonkatu 18, by the e-bike's roads


def test_walls_between_sellers_buyers_couriers_and_operators(town: Town) -> None:
    store = f"/local/stores/{town.store}"
    assert_problem(
        town.client.patch(f"{API}{store}", json={"prep_minutes": 5}, headers=town.keys["seller_b"]),
        404,
        "not-found",
    )
    assert_problem(
        town.client.patch(f"{API}{store}", json={"prep_minutes": 5}, headers=town.keys["buyer_a"]),
        403,
        "forbidden",
    )
    assert_problem(town.post("/local/stores", "buyer_a", store_body()), 403, "forbidden")
    assert_problem(
        town.post("/local/stores", "seller_a", store_body(seller="sel_someone_else")), 403, "forbidden"
    )
    changed = town.client.patch(f"{API}{store}", json={"prep_minutes": 5}, headers=town.keys["seller_a"])
    assert town.ok(changed)["prep_minutes"] == 5
    trail = town.ok(
        town.client.get(f"{API}/audit", params={"subject": town.store}, headers=town.keys["operator"])
    )
    assert [(e["action"], e["actor"]["role"]) for e in trail["items"]] == [
        ("local_store.changed", "seller"),
        ("local_store.opened", "seller"),
    ]
    assert [s["id"] for s in town.ok(town.get("/local/stores", "seller_b"))["items"]] == []
    assert town.ok(town.get(store, "buyer_b"))["id"] == town.store  # stores are public

    rider1, rider2 = town.couriers
    assert_problem(town.post(f"/local/couriers/{rider2}/positions", "rider 1", STORE_AT), 404, "not-found")
    assert_problem(town.post(f"/local/couriers/{rider1}/positions", "buyer_a", STORE_AT), 403, "forbidden")
    assert_problem(town.get(f"/local/couriers/{rider2}", "rider 1"), 404, "not-found")
    assert [c["id"] for c in town.ok(town.get("/local/couriers", "rider 1"))["items"]] == [rider1]
    assert_problem(town.post("/local/couriers", "seller_a", {}), 403, "forbidden")
    assert_problem(town.post("/local/dispatch-rounds", "rider 1"), 403, "forbidden")

    town.ping(0)
    order = town.ok(town.order(), 201)["id"]
    assert_problem(town.order(who="seller_a"), 403, "forbidden")
    assert_problem(town.get(f"/local/orders/{order}", "buyer_b"), 404, "not-found")
    assert_problem(town.get(f"/local/orders/{order}", "seller_b"), 404, "not-found")
    assert_problem(town.get(f"/local/orders/{order}", "rider 1"), 404, "not-found")  # not its trip yet
    assert town.ok(town.get(f"/local/orders/{order}", "seller_a"))["id"] == order  # its store's
    assert [o["id"] for o in town.ok(town.get("/local/orders", "buyer_b"))["items"]] == []
    assert_problem(town.post(f"/local/orders/{order}/cancel", "buyer_b"), 404, "not-found")

    trip = town.dispatched(order)["trip"]
    assert town.ok(town.get(f"/local/orders/{order}", "rider 1"))["id"] == order  # now it carries it
    assert_problem(town.post(f"/local/trips/{trip}/accept", "rider 2"), 404, "not-found")
    assert_problem(town.post(f"/local/trips/{trip}/accept", "seller_a"), 403, "forbidden")
    assert_problem(town.post(f"/local/orders/{order}/pickup", "rider 2"), 404, "not-found")
    assert_problem(town.post(f"/local/orders/{order}/pickup", "buyer_a"), 403, "forbidden")
    assert town.ok(town.get(f"/local/orders/{order}", "operator"))["state"] == "assigned"


def test_a_cancelled_order_frees_its_courier_and_cannot_be_cancelled_twice(town: Town) -> None:
    town.ping(0)
    order = town.dispatched(town.ok(town.order(), 201)["id"])
    cancelled = town.ok(
        town.post(f"/local/orders/{order['id']}/cancel", "buyer_a", {"reason": "changed my mind"})
    )
    assert cancelled["state"] == "cancelled"
    assert_problem(town.post(f"/local/orders/{order['id']}/cancel", "buyer_a"), 409, "invalid-transition")
    assert town.events(order["trip"])[-1] == "local.trip_released"
    assert_problem(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"), 404, "not-found")
    assert_problem(town.post(f"/local/trips/{order['trip']}/accept", "rider 1"), 409, "invalid-transition")


def test_a_late_courier_or_a_declined_offer_is_planned_again(town: Town) -> None:
    town.ping(0)
    order = town.dispatched(town.ok(town.order(), 201)["id"])
    first = order["trip"]
    town.ok(town.post(f"/local/trips/{first}/decline", "rider 1"))
    again = town.ok(town.get(f"/local/orders/{order['id']}", "buyer_a"))
    assert again["state"] == "placed" and again["trip"] is None
    town.ok(town.post("/local/dispatch-rounds", "operator"))
    second = town.ok(town.get(f"/local/orders/{order['id']}", "buyer_a"))["trip"]
    assert second not in (None, first)
    town.ok(town.post(f"/local/trips/{second}/accept", "rider 1"))

    trip = town.ok(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"))
    town.world.clock.now = dt.datetime.fromisoformat(trip["eta_first_at"]) + dt.timedelta(minutes=5)
    done = town.ok(town.post("/local/dispatch-rounds", "operator"))
    assert done["released"] == 1
    assert town.events(second)[-1] == "local.trip_released"
    assert "local.order_replanned" in town.events(order["id"])
    after = town.ok(town.get(f"/local/orders/{order['id']}", "operator"))
    assert after["state"] == "placed" and after["trip"] is None  # rider 1 is offered nothing until it pings
    assert_problem(town.post(f"/local/orders/{order['id']}/pickup", "rider 1"), 404, "not-found")
    town.world.clock.advance(seconds=5)
    town.ping(0)
    town.ok(town.post("/local/dispatch-rounds", "operator"))
    third = town.ok(town.get(f"/local/orders/{order['id']}", "operator"))
    assert third["state"] == "assigned" and third["trip"] not in (first, second)


def test_bad_input_is_a_precise_problem_and_writes_nothing(town: Town) -> None:
    town.ping(0)
    before = town.counts()
    cases = [
        (
            town.post("/local/stores", "seller_a", store_body(place={"address": "Nowhere Street 999"})),
            "place.address",
        ),
        (town.post("/local/stores", "seller_a", store_body(place={"point": SEA})), "place.point"),
        (town.post("/local/stores", "seller_a", store_body(place={})), "place"),
        (town.post("/local/stores", "seller_a", store_body(opens="22:00", closes="10:00")), "closes"),
        (town.post("/local/stores", "seller_a", store_body(opens="25:00")), "opens"),
        (town.order(drop_off={"address": "Nowhere Street 999"}), "drop_off.address"),
        (town.order(drop_off={"point": SEA}), "drop_off.point"),
        (town.order(store="sto_nosuchstore"), "store"),
        (town.order(items=town.lines(soup=40)), "items"),
        (town.ping(0, SEA), "point"),
    ]
    now = town.world.clock()
    shift = {"shift_starts_at": now.isoformat(), "shift_ends_at": (now - dt.timedelta(hours=1)).isoformat()}
    body = {"name": "x", "mode": "ebike", "key": "key_unknown", **shift}
    cases.append((town.post("/local/couriers", "operator", body), "shift_ends_at"))
    for response, field in cases:
        problem = assert_problem(response, 422, "validation-failed")
        assert field in field_errors(problem), problem
    town.world.clock.now = now.replace(hour=15)  # 23:00 in Singapore: closed
    closed = assert_problem(town.order(), 422, "validation-failed")
    assert "closed at 23:00" in closed["detail"] and "10:00 to 22:00" in closed["detail"]
    assert_problem(
        town.post(f"/local/couriers/{town.couriers[1]}/positions", "rider 1", STORE_AT), 404, "not-found"
    )
    assert town.counts() == before
    assert town.ok(town.get(f"/local/couriers/{town.couriers[0]}", "operator"))["lat"] == STORE_AT["lat"]


def test_tracking_streams_the_status_to_its_buyer_and_operators_only(town: Town) -> None:
    town.ping(0)
    order = town.dispatched(town.ok(town.order(), 201)["id"])
    town.ok(town.post(f"/local/trips/{order['trip']}/accept", "rider 1"))
    town.ok(town.post(f"/local/orders/{order['id']}/pickup", "rider 1"))
    town.ok(
        town.post(f"/local/orders/{order['id']}/delivery", "rider 1", {"kind": "photo", "reference": "img-1"})
    )
    url = f"/local/orders/{order['id']}/tracking"
    streamed = town.get(url, "buyer_a")  # delivered: one event, then the stream ends
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    assert "event: status" in streamed.text and '"state":"delivered"' in streamed.text
    assert town.get(url, "operator").status_code == 200
    assert_problem(town.get(url, "buyer_b"), 404, "not-found")
    assert_problem(town.get(url, "seller_a"), 403, "forbidden")
    assert_problem(town.get(url, "rider 1"), 403, "forbidden")


def test_a_late_courier_is_released_though_an_order_of_its_trip_was_cancelled(town: Town) -> None:
    town.ping(0)
    # a slow kitchen: its promise is wide enough for two orders to share a trip (a quick one's is not)
    slow = town.open_store(prep_minutes=60)
    first = town.ok(town.order(store=slow), 201)["id"]
    second = town.ok(town.order(who="buyer_b", store=slow), 201)["id"]  # the same door
    trip = town.dispatched(first)["trip"]
    assert town.ok(town.get(f"/local/orders/{second}", "operator"))["trip"] == trip  # one store, one bag
    town.ok(town.post(f"/local/trips/{trip}/accept", "rider 1"))
    town.ok(town.post(f"/local/orders/{second}/cancel", "buyer_b"))
    planned = town.ok(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"))
    town.world.clock.now = dt.datetime.fromisoformat(planned["eta_first_at"]) + dt.timedelta(minutes=5)
    assert town.ok(town.post("/local/dispatch-rounds", "operator"))["released"] == 1
    assert town.ok(town.get(f"/local/orders/{first}", "operator"))["state"] == "placed"
