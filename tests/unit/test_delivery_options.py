"""Delivery options without a database: dispatch times, weight bands, the route cache, one option per
distinct route set, the default and greenest marks, and choosing an option."""

from __future__ import annotations

import datetime as dt

import pytest

from entrepot.logistics.domain import Lane, Network, Node, to_minutes
from entrepot.logistics.rate_cache import RouteCache, dispatch_minute, weight_band_kg
from entrepot.logistics.rates import choices
from entrepot.logistics.routing import PlanningError
from entrepot.ordering.shipping import (
    FLAT_ZONE_FEES,
    NETWORK,
    DeliveryOption,
    DeliveryOptionUnavailable,
    UnknownDeliveryOption,
    mark,
    pick,
)
from tests.api.test_delivery_options import three_ways_network

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_parcels_leave_with_the_evening_collection_of_their_service_day() -> None:
    # 15:59 in Shanghai: today's 18:00 collection; 16:00: tomorrow's
    assert dispatch_minute(at("2025-11-11T07:59"), "Asia/Shanghai") == to_minutes(at("2025-11-11T10:00"))
    assert dispatch_minute(at("2025-11-11T08:00"), "Asia/Shanghai") == to_minutes(at("2025-11-12T10:00"))
    # Madrid in winter is UTC+1: 18:00 there is 17:00 UTC
    assert dispatch_minute(at("2025-11-11T09:00"), "Europe/Madrid") == to_minutes(at("2025-11-11T17:00"))


def test_weight_bands() -> None:
    assert [weight_band_kg(g) for g in (1, 500, 501, 1999, 30_000, 30_001, 45_000)] == [
        0.5,
        0.5,
        1.0,
        2.0,
        30.0,
        40.0,
        50.0,
    ]


def test_the_cache_plans_a_journey_once_per_key_and_forgets_an_old_network() -> None:
    cache, net = RouteCache(max_entries=2), three_ways_network()
    ready = to_minutes(at("2025-11-11T10:00"))
    first = cache.routes(net, "cn-hangzhou", "ds-sg-central", 120, ready)
    assert cache.routes(net, "cn-hangzhou", "ds-sg-central", 400, ready) is first  # same band
    assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)
    cache.routes(net, "cn-hangzhou", "ds-sg-central", 1500, ready)  # another band
    cache.routes(net, "cn-hangzhou", "ds-sg-central", 120, ready + 1440)  # the next day
    assert len(cache) == 2 and cache.misses == 3  # bounded: the least recently used went
    cache.routes(net, "cn-hangzhou", "ds-sg-central", 120, ready)
    assert cache.misses == 4
    cache.routes(three_ways_network(), "cn-hangzhou", "ds-sg-central", 120, ready)  # the network changed
    assert len(cache) == 1 and cache.misses == 5


def test_the_cache_remembers_an_impossible_journey() -> None:
    cache, net = RouteCache(), three_ways_network()
    for _ in range(2):
        with pytest.raises(PlanningError) as raised:
            cache.routes(net, "ds-sg-central", "cn-hangzhou", 100, 0)
    assert raised.value.reason in ("no_lane", "unknown_node") and cache.misses == 1 and cache.hits == 1


def test_one_option_per_distinct_route_set_tightest_service_first() -> None:
    net = three_ways_network()
    routes = RouteCache().routes(net, "cn-hangzhou", "ds-sg-central", 120, to_minutes(at("2025-11-11T10:00")))
    found = {answers: picks for picks, answers in choices([routes])}
    assert set(found) == {
        ("express-cheapest",),
        ("express-greenest",),
        ("standard-cheapest", "standard-greenest", "economy-cheapest", "economy-greenest"),
    }
    lanes = {answers[0]: [leg.lane.id for leg in picks[0].legs] for answers, picks in found.items()}
    assert "flight-hgh-sin" in lanes["express-cheapest"] and "road-hz-sg" in lanes["express-greenest"]
    assert "ship-ngb-sin" in lanes["standard-cheapest"]


def test_a_route_too_slow_for_every_level_gives_no_option() -> None:
    net = Network()
    for code, kind in (("w", "fulfilment_warehouse"), ("d", "delivery_station")):
        net.add_node(Node(code, kind, "SG", 1.3, 103.8, "Asia/Singapore"))
    net.add_lane(Lane("slow", "w", "d", "road", "truck", "t", 10.0, 21 * 1440, 100, 1, 30.0, 100.0))
    with pytest.raises(PlanningError):
        RouteCache().routes(net, "w", "d", 100, 0)


def option(answers: tuple[str, ...], days: int | None, grams: int | None, fee: int = 100) -> DeliveryOption:
    service = answers[0].split("-")[0]
    source = NETWORK if days is not None else FLAT_ZONE_FEES
    return DeliveryOption(service, answers, fee, (fee,), None, days, grams, source)


def test_the_default_is_the_cheapest_standard_else_the_fastest() -> None:
    marked = mark([option(("express-cheapest",), 3, 900), option(("standard-cheapest",), 8, 50)])
    assert [(o.id, o.default, o.greenest) for o in marked] == [
        ("express-cheapest", False, False),
        ("standard-cheapest", True, True),
    ]
    no_standard = mark([option(("economy-greenest",), 15, 10), option(("express-cheapest",), 4, 700)])
    assert [o.id for o in no_standard if o.default] == ["express-cheapest"]
    assert [o.id for o in no_standard if o.greenest] == ["economy-greenest"]


def test_choosing_an_option() -> None:
    options = mark(
        [option(("express-cheapest", "express-greenest"), 3, 9), option(("standard-cheapest",), 8, 5)]
    )
    assert pick(options, None).id == "standard-cheapest"
    assert pick(options, "express-greenest").id == "express-cheapest"  # one route answers both
    with pytest.raises(UnknownDeliveryOption):
        pick(options, "by-pigeon")
    with pytest.raises(DeliveryOptionUnavailable) as raised:
        pick(options, "economy-cheapest")
    assert raised.value.extra["available"] == ["express-cheapest", "express-greenest", "standard-cheapest"]
