"""A city day of on-demand delivery: a seeded generator of stores, couriers and orders on the real map
(lunch and dinner peaks), and the travel between their doors read from the city's tables.

Doors are the extract's street addresses, each snapped once per mode to the nearest node of the mode's
network; a door-to-door time is the table's road time plus the walk between each door and its node, as
`City.matrix` counts it. Only the matrix a round asks for is gathered (its couriers' places by the
round's stores and doors), never a table of every door."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from entrepot.local_services.city import City
from entrepot.local_services.city_terms import MAX_SNAP_M
from entrepot.local_services.ondemand import Courier, Places, Seconds, Store, Travel
from entrepot.local_services.roads import WALKING_KMH, Mode

COURIER_MODES = (Mode.EBIKE, Mode.SCOOTER, Mode.CAR)  # modes whose networks keep a table of every pair
HOUR = 3600.0


class CityTravel:
    """Door-to-door seconds by mode between the places of a day (row i of `lat`/`lon` is place i)."""

    def __init__(self, city: City, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> None:
        self.lat, self.lon = lat, lon
        self._city, self._xy = city, city.project(lat, lon)
        self._node: dict[Mode, NDArray[np.intp]] = {}
        self._walk: dict[Mode, NDArray[np.float64]] = {}
        self._table: dict[Mode, NDArray[np.float32]] = {}
        for mode in COURIER_MODES:
            self._snap(mode)
            self._table[mode] = city.table(mode)

    def _snap(self, mode: Mode) -> None:
        gap, node = self._city.graphs[mode].tree.query(self._xy)
        self._node[mode] = np.asarray(node, dtype=np.intp)
        self._walk[mode] = np.asarray(gap, dtype=np.float64) / (WALKING_KMH / 3.6)

    def _roads(self, mode: Mode) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float32]]:
        """The mode's snapped nodes, walks to them and table of road seconds. A mode whose network keeps
        no table of every pair (walking) gets, on first use, one between this day's places only (a
        Dijkstra from each distinct node): its "nodes" are then the places themselves."""
        if mode not in self._table:
            self._snap(mode)
            node = self._node[mode].astype(np.int32)
            self._table[mode] = self._city.road_seconds(node, node, mode).astype(np.float32)
            self._node[mode] = np.arange(len(node), dtype=np.intp)
        return self._node[mode], self._walk[mode], self._table[mode]

    def matrix(self, mode: Mode, origins: Places, destinations: Places) -> Seconds:
        node, walk, table = self._roads(mode)
        road = table[np.ix_(node[origins], node[destinations])].astype(np.float64)
        result: Seconds = road + walk[origins][:, None] + walk[destinations][None, :]
        result[origins[:, None] == destinations[None, :]] = 0.0  # already there
        return result

    def between(self, mode: Mode, origins: Places, destinations: Places) -> Seconds:
        node, walk, table = self._roads(mode)
        road = table[node[origins], node[destinations]].astype(np.float64)
        result: Seconds = road + walk[origins] + walk[destinations]
        return np.where(origins == destinations, 0.0, result)


@dataclass(frozen=True)
class PlacedOrder:
    """An order as the day will bring it: what the buyer asks and when, how long its kitchen really takes
    (dispatch only knows the store's average) and when, if ever, the buyer cancels."""

    id: int
    store: int
    place: int
    units: int
    placed_at: float
    prep_s: float
    cancel_at: float | None


@dataclass(frozen=True)
class CityDay:
    seed: int
    stores: list[Store]
    couriers: list[Courier]
    orders: list[PlacedOrder]
    travel: Travel
    places: int
    start: float
    end: float


@dataclass(frozen=True)
class DayShape:
    """The day's shape: order times between `first_order` and `last_order` (seconds of the day), a base
    rate with a lunch and a dinner peak (centre, spread in hours, height over the base)."""

    first_order: float = 10.0 * HOUR
    last_order: float = 21.5 * HOUR
    lunch: tuple[float, float, float] = (12.25, 0.85, 3.0)
    dinner: tuple[float, float, float] = (18.75, 1.0, 3.5)
    stores: int = 300
    groceries: float = 0.2  # share of stores
    cancel_rate: float = 0.03
    # couriers' modes and shifts: (share, start hour, end hour)
    modes: tuple[tuple[Mode, float], ...] = ((Mode.EBIKE, 0.65), (Mode.SCOOTER, 0.2), (Mode.CAR, 0.15))
    shifts: tuple[tuple[float, float, float], ...] = ((0.3, 10.0, 22.5), (0.3, 10.5, 15.5), (0.4, 16.0, 22.5))


def doors(city: City) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The extract's addresses near enough to every courier mode's roads to be reached by all."""
    lat, lon = city.gazetteer.lat, city.gazetteer.lon
    xy = city.project(lat, lon)
    near = np.ones(len(lat), dtype=bool)
    for mode in COURIER_MODES:
        gap, _ = city.graphs[mode].tree.query(xy)
        near &= np.asarray(gap) <= MAX_SNAP_M
    return lat[near], lon[near]


def generate(city: City, seed: int, orders: int, couriers: int, shape: DayShape | None = None) -> CityDay:
    """A seeded city day: stores at addresses with hours and kitchen times, couriers with modes and shifts
    starting at stores, orders from open stores to addresses following the day's curve."""
    shape = shape or DayShape()
    rng = np.random.default_rng(seed)
    lat, lon = doors(city)
    travel = CityTravel(city, lat, lon)
    stores = _stores(rng, len(lat), shape)
    return CityDay(
        seed,
        stores,
        _couriers(rng, stores, couriers, shape),
        _orders(rng, stores, len(lat), orders, shape),
        travel,
        len(lat),
        start=shape.first_order,
        end=shape.last_order + 2.5 * HOUR,
    )


def _stores(rng: np.random.Generator, places: int, shape: DayShape) -> list[Store]:
    at = rng.choice(places, size=shape.stores, replace=False)
    result = []
    for i, place in enumerate(at.tolist()):
        if rng.random() < shape.groceries:
            result.append(Store(i, place, 8 * HOUR, 23 * HOUR, float(rng.uniform(300, 540)), "grocery"))
            continue
        opens = (10.0 if rng.random() < 0.6 else 10.5) * HOUR
        closes = (22.0 if rng.random() < 0.7 else 21.0) * HOUR
        result.append(Store(i, place, opens, closes, float(rng.uniform(480, 1080))))
    return result


def _couriers(rng: np.random.Generator, stores: list[Store], count: int, shape: DayShape) -> list[Courier]:
    modes = [m for m, _ in shape.modes]
    mode_p = np.array([p for _, p in shape.modes])
    shift_p = np.array([s[0] for s in shape.shifts])
    chosen_mode = rng.choice(len(modes), size=count, p=mode_p / mode_p.sum())
    chosen_shift = rng.choice(len(shape.shifts), size=count, p=shift_p / shift_p.sum())
    start = rng.choice([s.place for s in stores], size=count)
    return [
        Courier(
            i,
            modes[int(chosen_mode[i])],
            shape.shifts[int(chosen_shift[i])][1] * HOUR,
            shape.shifts[int(chosen_shift[i])][2] * HOUR,
            int(start[i]),
        )
        for i in range(count)
    ]


def order_times(rng: np.random.Generator, count: int, shape: DayShape) -> NDArray[np.float64]:
    """`count` sorted order times following the day's curve (by the minute, uniform within it)."""
    minutes = np.arange(shape.first_order, shape.last_order, 60.0)
    hours = minutes / HOUR
    rate = np.ones_like(hours)
    for centre, spread, height in (shape.lunch, shape.dinner):
        rate += height * np.exp(-0.5 * ((hours - centre) / spread) ** 2)
    per_minute = rng.multinomial(count, rate / rate.sum())
    times = np.repeat(minutes, per_minute) + rng.uniform(0, 60, size=count)
    return np.sort(times)


def _orders(
    rng: np.random.Generator, stores: list[Store], places: int, count: int, shape: DayShape
) -> list[PlacedOrder]:
    popularity = rng.lognormal(0.0, 0.8, size=len(stores))
    opens = np.array([s.opens for s in stores])
    closes = np.array([s.closes for s in stores])
    grocery = np.array([s.kind == "grocery" for s in stores])
    result = []
    for i, placed in enumerate(order_times(rng, count, shape).tolist()):
        weight = popularity * ((opens <= placed) & (placed < closes))
        store = stores[int(rng.choice(len(stores), p=weight / weight.sum()))]
        units = int(rng.integers(2, 4)) if grocery[store.id] else (1 if rng.random() < 0.8 else 2)
        prep = store.prep_s * float(rng.lognormal(-0.5 * 0.25**2, 0.25))  # the kitchen misses by a quarter
        cancel = placed + float(rng.uniform(60, 900)) if rng.random() < shape.cancel_rate else None
        result.append(PlacedOrder(i, store.id, int(rng.integers(places)), units, placed, prep, cancel))
    return result
