"""On-demand delivery as plain values: stores, couriers, orders, the trips couriers make, and the quote a
buyer sees at checkout. No I/O and no clock: every time is a number of seconds (a day's seconds in the
simulator, epoch seconds in a service) passed in by the caller.

Places are integers: indexes into whatever table of points the caller keeps (a simulator's store and
customer doors snapped to the map). Travel between them is asked of a `Travel`, so the rules run on the
real city's tables in the benchmark and on a toy grid in the tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.local_services.roads import Mode

Places = NDArray[np.intp]
Seconds = NDArray[np.float64]

# Handling on site, seconds: at a store the bag is checked and taken; at a door the courier parks, climbs
# and hands over (a car parks farther than a bike).
PICKUP_S = 60.0
DROPOFF_S: dict[Mode, float] = {Mode.EBIKE: 120.0, Mode.SCOOTER: 120.0, Mode.CAR: 180.0, Mode.WALKING: 90.0}
# Units a courier carries: a meal is one unit, a grocery bag two.
CAPACITY: dict[Mode, int] = {Mode.EBIKE: 4, Mode.SCOOTER: 4, Mode.CAR: 6, Mode.WALKING: 2}
# The mode a quote assumes: most couriers of a centre ride e-bikes.
QUOTE_MODE = Mode.EBIKE

# How uncertain a quote's parts are (coefficients of variation, seconds): kitchens miss their estimate by a
# quarter either way, rides by a seventh; a shared trip adds a detour of about a minute and a half.
PREP_CV = 0.25
RIDE_CV = 0.15
BATCH_DETOUR_S = 90.0
BATCH_DETOUR_SD_S = 90.0
# One-sided 95 %: the promise is the time by which 19 orders in 20 should arrive.
PROMISE_Z = 1.645


class Travel(Protocol):
    """Seconds between places by a mode: every origin to every destination, or pair by pair."""

    def matrix(self, mode: Mode, origins: Places, destinations: Places) -> Seconds: ...

    def between(self, mode: Mode, origins: Places, destinations: Places) -> Seconds: ...


@dataclass(frozen=True)
class Store:
    """A restaurant or grocery at a place, taking orders from `opens` to `closes` (seconds of the day),
    ready on average `prep_s` after an order is placed."""

    id: int
    place: int
    opens: float
    closes: float
    prep_s: float
    kind: str = "restaurant"

    def open_at(self, when: float) -> bool:
        return self.opens <= when < self.closes


@dataclass(frozen=True)
class Courier:
    """A courier's fixed terms: how it moves, what it carries, when its shift runs and where it starts."""

    id: int
    mode: Mode
    shift_start: float
    shift_end: float
    place: int

    @property
    def capacity(self) -> int:
        return CAPACITY[self.mode]


@dataclass(frozen=True)
class Quote:
    """The delivery time expected (`eta`), its spread (one standard deviation) and the time promised to the
    buyer: the ETA plus the margin that 95 % of deliveries should beat."""

    eta: float
    spread_s: float
    promised_at: float

    @property
    def window(self) -> tuple[float, float]:
        return (self.eta - PROMISE_Z * self.spread_s, self.promised_at)


@dataclass(frozen=True)
class Order:
    """An order as dispatch sees it: from which store to which door, how many units, when it was placed,
    when the store expects it ready and what was promised."""

    id: int
    store: int
    place: int
    units: int
    placed_at: float
    ready_at: float
    promised_at: float


class StopKind(StrEnum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"


@dataclass(frozen=True)
class Stop:
    kind: StopKind
    place: int
    orders: tuple[int, ...]


@dataclass(frozen=True)
class Trip:
    """Orders carried together: pickups (one per store, in the order their food is ready), then drop-offs."""

    orders: tuple[int, ...]
    stops: tuple[Stop, ...]

    @property
    def first_place(self) -> int:
        return self.stops[0].place


def quote(
    store: Store,
    placed_at: float,
    ride_s: float,
    reach_s: float,
    backlog_s: float,
) -> Quote:
    """A checkout's promise from the current state: the kitchen's time, or the nearest free courier's ride
    to the store if that is longer, plus the backlog of orders waiting for a courier, the ride to the
    door, handling and the expected detour of a shared trip; the spread adds the kitchen's and the ride's
    uncertainty to the detour's. An order outside the store's opening hours is refused."""
    if not store.open_at(placed_at):
        raise ValidationFailed(
            f"store {store.id} is closed at that time: it takes orders from {clock(store.opens)} to "
            f"{clock(store.closes)}",
            [FieldError("store", "closed at that time")],
        )
    if ride_s < 0 or reach_s < 0 or backlog_s < 0:
        raise ValueError("travel times and backlog are never negative")
    pickup = placed_at + max(store.prep_s, reach_s) + backlog_s
    eta = pickup + PICKUP_S + ride_s + DROPOFF_S[QUOTE_MODE] + BATCH_DETOUR_S
    spread = math.sqrt((PREP_CV * store.prep_s) ** 2 + (RIDE_CV * ride_s) ** 2 + BATCH_DETOUR_SD_S**2)
    return Quote(eta, spread, eta + PROMISE_Z * spread)


def clock(seconds: float) -> str:
    """A day's second as hh:mm, for messages."""
    minutes = int(seconds // 60)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
