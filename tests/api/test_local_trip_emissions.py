"""Local couriers' kilometres as emissions (issue 22, item 2): a finished on-demand trip's `local.trip_done`
is recorded once through the relay, its emissions are vehicle-km x the courier mode's factor shared by the
orders it delivered, a new factor version re-states it, and the reports (API and CLI) show the local line
by division and market beside legs and hubs, a seller seeing only its own. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from entrepot.emissions import local_trips
from entrepot.emissions import service as emissions
from entrepot.emissions.domain import per_km_mg
from entrepot.emissions.models import LocalDelivery, LocalResult, LocalTripActivity
from entrepot.emissions.reports import metric_in
from entrepot.emissions.versions import factor_set_of
from entrepot.kernel.events import DomainEvent
from entrepot.kernel.periods import FiscalCalendar, fiscal_year
from entrepot.platform.db import OutboxEvent, record_event
from entrepot.platform.outbox import Event, relay_once
from tests.api.helpers import API, assert_problem
from tests.api.local_on_demand import Town, shipped_city, town
from tests.world import World

__all__ = ["shipped_city", "town"]  # fixtures

HEADER = "mode,vehicle,energy,ttw_g_co2e_per_tkm,wtt_g_co2e_per_tkm,wtw_g_co2e_per_tkm,source,unit"
NOVEMBER = "2025-11"


def finish_trip(world: World, trip: str, mode: str, metres: int, orders: list[tuple[str, str, str]]) -> None:
    """What local services writes when a courier hands over a trip's last order: each order's
    `local.order_delivered` (its store's seller and market) and the trip's `local.trip_done`; then the
    relay runs every handler, as `entrepot serve` does."""
    now = world.clock()
    with world.db.transaction() as session:
        for order, seller, market in orders:
            sold = {"trip": trip, "seller": world.ids[seller], "market": market, "total_minor": 2500}
            record_event(session, DomainEvent("local.order_delivered", order, sold), now)
        done = {"courier": "cou_1", "mode": mode, "distance_m": metres, "orders": [o for o, _, _ in orders]}
        record_event(session, DomainEvent("local.trip_done", trip, done), now)
    while relay_once(world.db, world.relay_registry(), world.clock()):
        pass


def shares(world: World, trip: str, version: int = 1) -> list[dict[str, Any]]:
    with world.db.transaction() as session:
        found = local_trips.trip_emissions(session, trip, version)
        return [
            {
                "order": d.order_ref,
                "seller": d.seller_ref,
                "market": d.market,
                "division": d.division,
                "ttw": r.ttw_mg,
                "wtt": r.wtt_mg,
                "wtw": r.wtw_mg,
                "km": r.km,
                "factor": (r.factor_table, r.factor_row, r.factor_unit),
                "missing": r.missing_factor,
            }
            for d, r in found.shares
        ]


def counts(world: World) -> tuple[int, int, int]:
    with world.db.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (LocalTripActivity, LocalDelivery, LocalResult)
        )


LOCAL_DIVISION = "local-consumer-services-division"  # Ele.me's since the reorganisation (the seeded group)


def unit_of(world: World, trip: str) -> set[tuple[str, str]]:
    """The business units and divisions a trip's orders are accounted to."""
    with world.db.transaction() as session:
        found = local_trips.trip_emissions(session, trip)
        return {(d.marketplace, d.division) for d, _ in found.shares}


def test_a_car_trip_records_its_km_x_the_desnz_factor_once(world: World) -> None:
    finish_trip(
        world,
        "trp_car",
        "car",
        2500,
        [("lor_1", "seller_a", "lazada-sg"), ("lor_2", "seller_a", "lazada-sg")],
    )
    # by hand: 2.5 km x 162.72 g/km = 406.8 g TTW; x 45.99 g/km = 114.975 g WTT (DESNZ 2025, average petrol
    # car); 521.775 g WTW, shared by the two orders to the milligram
    got = shares(world, "trp_car")
    assert [(s["ttw"], s["wtt"], s["wtw"]) for s in got] == [
        (203_400, 57_488, 260_888),
        (203_400, 57_487, 260_887),
    ]
    assert sum(s["wtw"] for s in got) == 521_775
    assert {s["factor"] for s in got} == {("desnz-2025@1", 16, "g/km")}  # the data file's line 16
    assert [s["km"] for s in got] == [1.25, 1.25] and not any(s["missing"] for s in got)
    # the store's seller and market; the unit that delivers (on-demand delivery) and its division
    assert {(s["seller"], s["market"]) for s in got} == {(world.ids["seller_a"], "lazada-sg")}
    assert unit_of(world, "trp_car") == {("ele-me", LOCAL_DIVISION)}
    with world.db.transaction() as session:
        trip = session.scalar(select(LocalTripActivity).where(LocalTripActivity.trip_ref == "trp_car"))
        assert trip is not None and (trip.mode, trip.distance_m, trip.countries) == ("car", 2500, "SG")
    before = counts(world)
    assert before == (1, 2, 2)

    # relayed twice (a retry after a crash between the handler and the bookkeeping): nothing changes
    with world.db.transaction() as session:
        row = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "local.trip_done")).one()
        again = Event(row.public_id, row.type, row.aggregate_id, row.payload, row.occurred_at)
        local_trips.on_trip_done(session, again)
    assert counts(world) == before and shares(world, "trp_car") == got


def test_without_an_on_demand_unit_a_trip_goes_to_its_stores_marketplace(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_trips, "ON_DEMAND_UNIT", "no-such-unit")  # an organisation without Ele.me
    finish_trip(world, "trp_x", "car", 1000, [("lor_1", "seller_a", "lazada-sg")])
    assert unit_of(world, "trp_x") == {("lazada", "international-commerce-division")}


def test_a_walking_trip_records_zero_and_says_which_factor(world: World) -> None:
    finish_trip(world, "trp_walk", "walking", 900, [("lor_3", "seller_b", "taobao-cn")])
    [walked] = shares(world, "trp_walk")
    assert (walked["ttw"], walked["wtt"], walked["wtw"]) == (0, 0, 0)
    assert walked["factor"] == ("desnz-2025@1", 17, "g/km") and not walked["missing"]
    assert walked["km"] == 0.9


def test_an_e_bike_and_a_scooter_by_hand_and_an_unknown_mode_flagged(world: World) -> None:
    finish_trip(world, "trp_bike", "ebike", 3000, [("lor_4", "seller_a", "lazada-sg")])
    finish_trip(world, "trp_moped", "scooter", 1000, [("lor_5", "seller_a", "lazada-sg")])
    finish_trip(world, "trp_hover", "hoverboard", 1000, [("lor_6", "seller_a", "lazada-sg")])
    [bike] = shares(world, "trp_bike")  # 3 km x 1.947 g/km; x 0.7524 g/km (1.1 kWh/100 km x UK grid)
    assert (bike["ttw"], bike["wtt"]) == (5_841, 2_257)  # 2,257.2 mg rounds to 2,257
    [moped] = shares(world, "trp_moped")  # 1 km x 83.19 g/km + 21.48 g/km (DESNZ small motorbike)
    assert (moped["ttw"], moped["wtt"], moped["factor"][1]) == (83_190, 21_480, 15)
    [hover] = shares(world, "trp_hover")  # no table has it: zero, and flagged, never silently
    assert hover["missing"] and hover["wtw"] == 0 and hover["factor"] == (None, None, None)


def test_a_trip_whose_orders_were_not_delivered_records_nothing(world: World) -> None:
    with world.db.transaction() as session:
        payload = {"courier": "cou_1", "mode": "car", "distance_m": 1000, "orders": ["lor_never"]}
        event = Event("evt_x", "local.trip_done", "trp_ghost", payload, world.clock())
        with pytest.raises(
            local_trips.TripNotRecordable, match=r"no local\.order_delivered event for lor_never"
        ):
            local_trips.on_trip_done(session, event)
    assert counts(world) == (0, 0, 0)


def test_a_bad_trip_in_a_relays_batch_holds_up_only_itself(world: World) -> None:
    """Trips are recorded a relay's batch at a time; a trip that cannot be recorded fails its batch, whose
    events then go one by one: the others are recorded, it alone waits for its retry with the reason."""
    with world.db.transaction() as session:
        done = {"courier": "cou_1", "mode": "car", "distance_m": 1000, "orders": ["lor_never"]}
        record_event(session, DomainEvent("local.trip_done", "trp_ghost", done), world.clock())
    finish_trip(world, "trp_ok", "car", 1000, [("lor_1", "seller_a", "lazada-sg")])
    assert [s["ttw"] for s in shares(world, "trp_ok")] == [162_720]
    with world.db.transaction() as session:
        ghost = session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == "trp_ghost")).one()
        assert ghost.published_at is None and ghost.attempts == 1
        assert "no local.order_delivered event for lor_never" in (ghost.last_error or "")
    assert counts(world) == (1, 1, 1)


def load_sg_table(world: World) -> int:
    """A regional table for Singapore's couriers (an e-bike on its grid, a car at a test figure)."""
    text = (
        f"{HEADER}\n"
        "local,car,petrol,100,20,120,test SG car,g/km\n"
        "local,ebike,electricity,4.0,1.0,5.0,test SG grid x 1.1 kWh/100 km,g/km\n"
    )
    with world.db.transaction() as session:
        _, number = emissions.load_table(session, "sg-couriers", "regional", text, world.clock(), "SG")
        # what service.new_version does for shipments; idempotent, so harmless once it does it for trips
        local_trips.recompute(session, number, factor_set_of(session, number), batch=1)  # batch by batch
    return number


def test_a_new_factor_version_restates_every_trip_and_keeps_the_old(world: World) -> None:
    finish_trip(world, "trp_sg", "car", 2500, [("lor_7", "seller_a", "lazada-sg")])
    finish_trip(world, "trp_cn", "car", 2500, [("lor_8", "seller_b", "taobao-cn")])
    number = load_sg_table(world)
    assert number == 2
    [sg] = shares(world, "trp_sg", 2)
    assert (sg["ttw"], sg["wtt"], sg["factor"][0]) == (250_000, 50_000, "sg-couriers@1")  # 2.5 km x 100, x 20
    [cn] = shares(world, "trp_cn", 2)  # a table scoped to SG never prices a trip in China
    assert (cn["ttw"], cn["factor"][0]) == (406_800, "desnz-2025@1")
    [old] = shares(world, "trp_sg", 1)
    assert old["ttw"] == 406_800  # version 1 as it was reported
    with world.db.transaction() as session:
        assert local_trips.recompute(session, number, factor_set_of(session, number)) == 0  # done already
    assert counts(world) == (2, 2, 4)
    finish_trip(world, "trp_sg_2", "ebike", 1000, [("lor_9", "seller_a", "lazada-sg")])
    [later] = shares(world, "trp_sg_2", 2)  # recorded after the load: under the new version at once
    assert (later["ttw"], later["wtt"], later["factor"][0]) == (4_000, 1_000, "sg-couriers@1")


def test_loading_a_table_restates_trips_without_being_asked(world: World) -> None:
    finish_trip(world, "trp_sg", "car", 2500, [("lor_7", "seller_a", "lazada-sg")])
    with world.db.transaction() as session:
        _, number = emissions.load_table(
            session,
            "sg-couriers",
            "regional",
            f"{HEADER}\nlocal,car,petrol,100,20,120,x,g/km\n",
            world.clock(),
            "SG",
        )
    assert [s["ttw"] for s in shares(world, "trp_sg", number)] == [250_000]


def report(world: World, who: str, **query: str) -> dict[str, Any]:
    client = world.client()
    got = client.get(f"{API}/emissions/report", params={"period": NOVEMBER, **query}, headers=world.auth(who))
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def test_the_report_shows_the_local_line_by_division_and_market_to_its_seller(world: World) -> None:
    finish_trip(
        world, "trp_a", "car", 2500, [("lor_1", "seller_a", "lazada-sg"), ("lor_2", "seller_a", "lazada-sg")]
    )
    finish_trip(world, "trp_b", "scooter", 1000, [("lor_3", "seller_b", "taobao-cn")])
    total = report(world, "operator")["total"]
    assert total["local_wtw_kg"] == pytest.approx(0.521775 + 0.10467)
    assert total["wtw_kg"] == pytest.approx(
        total["legs_wtw_kg"] + total["hubs_wtw_kg"] + total["local_wtw_kg"]
    )
    assert (total["local_km"], total["local_deliveries"], total["parcels"]) == (3.5, 3, 0)
    assert total["g_per_tkm"] is None and total["g_per_parcel"] is None  # no parcel network: no intensity

    by_market = {r["key"]: r for r in report(world, "operator", by="market")["rows"]}
    assert by_market["lazada-sg"]["local_wtw_kg"] == pytest.approx(0.521775)
    assert by_market["taobao-cn"]["local_wtw_kg"] == pytest.approx(0.10467)
    assert list(by_market) == ["lazada-sg", "taobao-cn"]  # largest first
    by_division = {r["key"]: r for r in report(world, "operator", by="division")["rows"]}
    assert by_division[LOCAL_DIVISION]["local_deliveries"] == 3  # both markets' trips: one business
    assert by_division[LOCAL_DIVISION]["local_wtw_kg"] == pytest.approx(0.521775 + 0.10467)
    by_mode = {r["key"]: r["wtw_kg"] for r in report(world, "operator", by="mode")["rows"]}
    assert by_mode == pytest.approx({"car": 0.521775, "scooter": 0.10467})
    assert report(world, "operator", by="shipment")["rows"] == []  # a trip is no shipment

    own = report(world, "seller_a", by="seller")
    assert [r["key"] for r in own["rows"]] == [world.ids["seller_a"]]
    assert own["total"]["local_wtw_kg"] == pytest.approx(0.521775)

    points = (
        world.client()
        .get(
            f"{API}/emissions/series",
            params={"period": NOVEMBER, "by": "market"},
            headers=world.auth("operator"),
        )
        .json()["points"]
    )
    assert {(p["month"], p["key"]): p["local_wtw_kg"] for p in points} == pytest.approx(
        {(NOVEMBER, "lazada-sg"): 0.521775, (NOVEMBER, "taobao-cn"): 0.10467}
    )


def test_an_absolute_target_counts_trips_an_intensity_target_does_not(world: World) -> None:
    finish_trip(world, "trp_a", "car", 2500, [("lor_1", "seller_a", "lazada-sg")])
    fiscal = FiscalCalendar(3)
    year = fiscal_year(fiscal.fiscal_year(world.clock().date()), fiscal)
    with world.db.transaction() as session:
        absolute = metric_in(session, year, "absolute_t", 1)
        intensity = metric_in(session, year, "g_per_tkm", 1)
        empty = metric_in(session, fiscal_year(2020, fiscal), "absolute_t", 1)
    assert absolute == pytest.approx(0.521775 / 1000 * 365 / year.days)  # tonnes a year
    assert intensity is None and empty is None


def test_a_delivery_on_the_map_becomes_its_trips_emissions(town: Town) -> None:
    """The real flow: a seller's store, a buyer's order, a round, the courier's e-bike ride and hand-over;
    the relay then records the trip local services reported, at its route's metres."""
    assert town.ping(0).status_code == 200
    order = town.dispatched(town.ok(town.order(), 201)["id"])
    trip = town.ok(town.get(f"/local/couriers/{town.couriers[0]}/trip", "rider 1"))
    town.ok(town.post(f"/local/trips/{trip['id']}/accept", "rider 1"))
    town.world.clock.now = dt.datetime.fromisoformat(trip["stops"][0]["at"])
    town.ok(town.post(f"/local/orders/{order['id']}/pickup", "rider 1"))
    town.ok(town.post(f"/local/orders/{order['id']}/delivery", "rider 1", {"kind": "code", "reference": "1"}))
    while relay_once(town.world.db, town.world.relay_registry(), town.world.clock()):
        pass
    metres = town.event_payload(trip["id"], "local.trip_done")["distance_m"]
    [share] = shares(town.world, trip["id"])
    assert (share["order"], share["market"], share["km"]) == (order["id"], "lazada-sg", metres / 1000)
    assert (share["ttw"], share["wtt"]) == (per_km_mg(metres, 1.947), per_km_mg(metres, 0.7524))  # e-bike
    assert share["seller"] == town.world.ids["seller_a"]


def test_a_trips_audit_trail_its_factor_and_each_orders_share(world: World) -> None:
    orders = [("lor_1", "seller_a", "lazada-sg"), ("lor_2", "seller_b", "lazada-sg")]
    finish_trip(world, "trp_car", "car", 2500, orders)
    client = world.client()

    def get(who: str, **query: int) -> httpx.Response:
        response: httpx.Response = client.get(
            f"{API}/emissions/trips/trp_car", params=query, headers=world.auth(who)
        )
        return response

    trip = get("operator").json()
    assert (trip["mode"], trip["distance_km"], trip["countries"], trip["version"]) == ("car", 2.5, ["SG"], 1)
    assert trip["wtw_g"] == pytest.approx(521.775) and trip["category"] == "local/car/petrol"
    factor = trip["factor"]
    assert (factor["table"], factor["row"], factor["unit"]) == ("desnz-2025@1", 16, "g/km")
    assert factor["wtw"] == 208.71
    assert "DESNZ" in factor["source"] and not trip["missing_factor"]
    assert [(o["order"], o["km"], o["wtw_g"]) for o in trip["orders"]] == [
        ("lor_1", 1.25, 260.888),
        ("lor_2", 1.25, 260.887),
    ]
    own = get("seller_b").json()  # a seller sees its own order's share, not the other seller's
    assert [o["order"] for o in own["orders"]] == ["lor_2"] and own["wtw_g"] == pytest.approx(260.887)
    assert get("seller_a", version=1).json()["orders"][0]["order"] == "lor_1"
    assert_problem(get("buyer_a"), 403, "forbidden")
    unknown = client.get(f"{API}/emissions/trips/trp_none", headers=world.auth("operator"))
    assert_problem(unknown, 404, "not-found")
    assert_problem(get("operator", version=9), 422, "validation-failed")
