"""Planned routes kept for reuse, so that peak checkout does not plan the same journey twice.

Parcels leave a warehouse at its evening collection (`dispatch_minute`): every order of a warehouse's
service day is ready at the same minute, so a parcel's Pareto routes depend only on (origin node,
destination station, weight band, dispatch minute), and one search per such key serves every quote,
every option (service level x objective) and the shipment planned when the order is paid. Routes are
searched for the band's heaviest parcel (so no lane's weight limit is broken) and priced afterwards for
the real parcel (`priced_for`).

Bounded: an LRU of `max_entries` keys. Invalidated: entries belong to one `Network` object; when the
network is stored again or changed (`service.network` then returns a new object, within its 10-second
check), the first request that sees the new network empties the cache.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict
from zoneinfo import ZoneInfo

from entrepot.logistics.domain import Network, Parcel, lane_cost_cents, lane_emissions_g, to_minutes
from entrepot.logistics.routing import (
    SERVICE_LEVEL_DAYS,
    Leg,
    PlanningError,
    Route,
    pareto_routes,
)

# Modelling assumptions: a warehouse's carrier collects at 18:00 local time everything paid by 16:00;
# later orders leave with the next day's collection.
DISPATCH_CUTOFF = dt.time(16, 0)
DISPATCH_AT = dt.time(18, 0)
WEIGHT_BANDS_KG = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)  # then by 10 kg
LONGEST_PROMISE_MINUTES = max(SERVICE_LEVEL_DAYS.values()) * 1440
CACHE_ENTRIES = 50_000  # about 2 KB each on the demo network: a bound of the order of 100 MB

Key = tuple[str, str, float, int]  # origin node, destination station, weight band kg, dispatch minute


def dispatch_minute(now: dt.datetime, time_zone: str) -> int:
    """The UTC minute of the collection that takes a parcel paid at `now` from a warehouse in `time_zone`."""
    local = now.astimezone(ZoneInfo(time_zone))
    day = local.date() if local.time() < DISPATCH_CUTOFF else local.date() + dt.timedelta(days=1)
    return to_minutes(dt.datetime.combine(day, DISPATCH_AT, ZoneInfo(time_zone)))


def weight_band_kg(weight_g: int) -> float:
    kg = weight_g / 1000
    band = next((b for b in WEIGHT_BANDS_KG if kg <= b), None)
    return band if band is not None else math.ceil(kg / 10) * 10.0


def box(weight_g: int, volume_cm3: int, value_minor: int = 0) -> Parcel:
    """A cube of the goods' volume: the box we ship in."""
    side = max(1.0, volume_cm3 ** (1 / 3))
    return Parcel(weight_g / 1000, side, side, side, value_minor)


def priced_for(route: Route, parcel: Parcel) -> Route:
    """The same journey, its cost and emissions worked out for this parcel (air charges its volume)."""
    legs = tuple(
        Leg(
            leg.lane,
            leg.departs,
            leg.arrives,
            lane_cost_cents(leg.lane, parcel),
            lane_emissions_g(leg.lane, parcel),
        )
        for leg in route.legs
    )
    return Route(route.ready, legs)


class RouteCache:
    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self._entries: OrderedDict[Key, list[Route] | PlanningError] = OrderedDict()
        self._network: Network | None = None
        self._lock = threading.Lock()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def routes(self, net: Network, origin: str, station: str, weight_g: int, ready: int) -> list[Route]:
        """The planner's (1+epsilon) cover (the network's epsilon and rules) of the routes that deliver
        within the longest service level's promise, fastest first. Raises PlanningError (remembered,
        too) when there is none."""
        key = (origin, station, weight_band_kg(weight_g), ready)
        found = self._lookup(net, key)
        if found is None:
            found = self._search(net, key)
            self._store(net, key, found)
        if isinstance(found, PlanningError):
            raise PlanningError(found.reason, found.detail)
        return found

    def _lookup(self, net: Network, key: Key) -> list[Route] | PlanningError | None:
        with self._lock:
            if net is not self._network:
                self._entries.clear()
                self._network = net
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    @staticmethod
    def _search(net: Network, key: Key) -> list[Route] | PlanningError:
        # Outside the lock: two threads missing the same key at once both plan it (rare, harmless).
        origin, station, band_kg, ready = key
        heaviest = Parcel(band_kg, 1.0, 1.0, 1.0)
        try:
            deadline = ready + LONGEST_PROMISE_MINUTES
            return pareto_routes(net, origin, station, heaviest, ready, deadline)
        except PlanningError as error:
            return error

    def _store(self, net: Network, key: Key, found: list[Route] | PlanningError) -> None:
        with self._lock:
            if net is not self._network:
                return  # the network changed while this was planned: keep nothing of the old one
            self._entries[key] = found
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._network = None

    def __len__(self) -> int:
        return len(self._entries)


routes_cache = RouteCache()
