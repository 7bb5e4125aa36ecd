"""Matching trips to couriers, the heart of a dispatch round: pure arrays, no state.

Every courier's ride to every trip's first store comes from one matrix per mode; a rough cost picks each
trip's few likely couriers and which trips are due; those couriers' timelines for the due trips are worked
out as arrays (`_timelines`, checked against the plain `schedule`), and scipy's `linear_sum_assignment`
matches them at least total cost: courier seconds plus a heavy price on lateness against each promise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from entrepot.local_services.batching import BatchRules
from entrepot.local_services.ondemand import (
    DROPOFF_S,
    PICKUP_S,
    QUOTE_MODE,
    Courier,
    Order,
    StopKind,
    Travel,
    Trip,
)
from entrepot.local_services.roads import Mode

INFEASIBLE = 1e9  # a cost no real match reaches: the pair may not be matched


@dataclass(frozen=True)
class DispatchRules:
    period_s: float = 15.0  # seconds between rounds
    horizon_s: float = 600.0  # orders ready within this are planned; later ones wait
    late_grace_s: float = 150.0  # a courier this late at its first store is released
    lateness_weight: float = 20.0  # a second late costs as much as this many courier seconds
    candidates: int = 8  # couriers considered per trip: the cheapest for it, roughly
    lookahead_s: float = 120.0  # trips matched: those a courier may have to leave for within this
    min_trip_s: float = 900.0  # a courier is not sent with less than this left of its shift
    batching: BatchRules = field(default_factory=BatchRules)


@dataclass
class CourierState:
    """What dispatch knows of a courier: where and when it will next be free, and its current trip."""

    courier: Courier
    place: int
    free_at: float
    trip: Trip | None = None
    eta_first: float = 0.0  # when it was expected at its trip's first store
    reached: bool = False  # it has reached that store
    released: bool = False  # taken off a trip while moving: not free until it stops somewhere


@dataclass(frozen=True)
class Commit:
    """A courier starts a trip: it leaves at `depart_at`, is expected at the first store at `eta_first`,
    starts the work of each stop at `starts` (a pickup never before its food is expected ready) and is free
    again at `free_at`."""

    courier: int
    trip: Trip
    depart_at: float
    eta_first: float
    starts: tuple[float, ...]
    free_at: float


def approach_seconds(
    states: Sequence[CourierState], places: NDArray[np.intp], travel: Travel
) -> NDArray[np.float64]:
    """Seconds from each courier's place (by its own mode) to each place: one matrix per mode."""
    result = np.empty((len(states), len(places)))
    modes = np.array([s.courier.mode for s in states])
    origins = np.array([s.place for s in states], dtype=np.intp)
    for mode in set(modes.tolist()):
        rows = np.flatnonzero(modes == mode)
        result[rows] = travel.matrix(Mode(mode), origins[rows], places)
    return result


def match(
    trips: Sequence[Trip],
    orders: dict[int, Order],
    couriers: Sequence[CourierState],
    travel: Travel,
    now: float,
    rules: DispatchRules,
) -> list[Commit]:
    """Trips to couriers at least total cost; the matches whose courier must leave now, committed.

    Only the trips some courier may have to leave for within `lookahead_s` are matched, each among its
    `candidates` couriers cheapest by a rough cost: a trip further off cannot be committed this round,
    and a courier beyond the cheapest few seldom wins. The assignment is solved on the couriers that are a
    candidate of some trip, a far smaller problem than every courier by every trip."""
    if not trips or not couriers:
        return []
    firsts = np.array([trip.first_place for trip in trips], dtype=np.intp)
    first_ready = np.array([max(orders[o].ready_at for o in trip.stops[0].orders) for trip in trips])
    reach = approach_seconds(couriers, firsts, travel)
    start = np.array([max(now, s.free_at) for s in couriers])
    rough = _rough_cost(trips, orders, couriers, reach, start, travel, rules)
    candidates = _cheapest(rough, rules.candidates)
    leave = np.maximum(
        start[candidates], first_ready - rules.batching.early_s - reach[candidates, np.arange(len(trips))]
    )
    due = np.flatnonzero(leave.min(axis=0) <= now + rules.lookahead_s)
    if len(due) == 0:
        return []
    rows = np.unique(candidates[:, due])
    chosen = [couriers[r] for r in rows.tolist()]
    due_trips = [trips[k] for k in due.tolist()]
    sub_reach = reach[np.ix_(rows, due)]
    plan = _timelines(_Padded.of(due_trips, orders), chosen, sub_reach, start[rows], travel, rules)
    arrive_at, cost = plan.arrive, plan.cost
    picked_rows, picked_cols = linear_sum_assignment(cost)
    commits = []
    for r, k in zip(picked_rows.tolist(), picked_cols.tolist(), strict=True):
        state = chosen[r]
        if cost[r, k] >= INFEASIBLE or state.free_at > now:
            continue  # nobody can take it, or its courier is still on a trip: planned again next round
        arrive = float(arrive_at[r, k])
        depart = max(now, arrive - float(sub_reach[r, k]))
        if depart > now + rules.period_s:
            continue  # not yet: a later round may find a better courier or a better batch
        starts, free_at = schedule(due_trips[k], orders, state.courier.mode, arrive, travel)
        commits.append(Commit(state.courier.id, due_trips[k], depart, arrive, starts, free_at))
    return commits


def _rough_cost(
    trips: Sequence[Trip],
    orders: dict[int, Order],
    couriers: Sequence[CourierState],
    reach: NDArray[np.float64],
    start: NDArray[np.float64],
    travel: Travel,
    rules: DispatchRules,
) -> NDArray[np.float64]:
    """What each courier would cost each trip, roughly, before its timeline is worked out: the ride to the
    store and through the trip by its mode, plus the weighted time its last door would be reached after
    the trip's earliest promise (a courier a little late for the food may still be in time for the
    buyer). A courier whose shift leaves no time for a trip is out."""
    first_ready = np.array([max(orders[o].ready_at for o in trip.stops[0].orders) for trip in trips])
    handling = np.array([PICKUP_S * len(t.stops) + DROPOFF_S[QUOTE_MODE] * len(t.orders) for t in trips])
    promised = np.array([min(orders[o].promised_at for o in trip.orders) for trip in trips])
    ride = _ride_seconds(trips, couriers, travel)
    there = start[:, None] + reach
    end = np.maximum(there, first_ready - rules.batching.early_s) + ride + handling
    rough = reach + ride + rules.lateness_weight * np.maximum(0.0, end - promised)
    shift_end = np.array([s.courier.shift_end for s in couriers])
    result: NDArray[np.float64] = np.where(there + rules.min_trip_s <= shift_end[:, None], rough, np.inf)
    return result


def _ride_seconds(
    trips: Sequence[Trip], couriers: Sequence[CourierState], travel: Travel
) -> NDArray[np.float64]:
    """Each courier's seconds riding each trip from its first store to its last door, by its mode."""
    places = [np.array([stop.place for stop in trip.stops], dtype=np.intp) for trip in trips]
    origins = np.concatenate([p[:-1] for p in places])
    ends = np.concatenate([p[1:] for p in places])
    owner = np.repeat(np.arange(len(trips)), [len(p) - 1 for p in places])
    modes = [c.courier.mode for c in couriers]
    result = np.empty((len(couriers), len(trips)))
    for mode in set(modes):
        per_trip = np.bincount(owner, weights=travel.between(mode, origins, ends), minlength=len(trips))
        result[[i for i, m in enumerate(modes) if m is mode]] = per_trip
    return result


def _cheapest(cost: NDArray[np.float64], per_trip: int) -> NDArray[np.intp]:
    """Per trip (column), the rows of its `per_trip` cheapest couriers (all of them if fewer)."""
    if cost.shape[0] <= per_trip:
        return np.repeat(np.arange(cost.shape[0])[:, None], cost.shape[1], axis=1)
    return np.argpartition(cost, per_trip - 1, axis=0)[:per_trip]


def schedule(
    trip: Trip, orders: dict[int, Order], mode: Mode, arrive: float, travel: Travel
) -> tuple[tuple[float, ...], float]:
    """When a courier of this mode reaching the first store at `arrive` starts each stop's work (at a store,
    not before its food is expected), and when it is done: the plain statement of what `_timelines`
    computes for every courier and trip at once."""
    places = np.array([stop.place for stop in trip.stops], dtype=np.intp)
    legs = travel.between(mode, places[:-1], places[1:]).tolist()
    t, starts = arrive, []
    for i, stop in enumerate(trip.stops):
        if i:
            t += legs[i - 1]
        if stop.kind is StopKind.PICKUP:
            t = max(t, max(orders[o].ready_at for o in stop.orders))
            starts.append(t)
            t += PICKUP_S
        else:
            starts.append(t)
            t += DROPOFF_S[mode]
    return tuple(starts), t


@dataclass(frozen=True)
class _Padded:
    """Trips as arrays (trip x stop), padded to the longest with stays at the last place (zero seconds):
    every courier's timeline for every trip is then a few array operations per stop."""

    place: NDArray[np.intp]
    pickup: NDArray[np.bool_]
    dropoff: NDArray[np.bool_]
    ready: NDArray[np.float64]  # a pickup's food expected ready (-inf elsewhere)
    promised: NDArray[np.float64]  # a drop-off's promise (+inf elsewhere)
    units: NDArray[np.int64]

    @classmethod
    def of(cls, trips: Sequence[Trip], orders: dict[int, Order]) -> _Padded:
        width = max(len(trip.stops) for trip in trips)
        shape = (len(trips), width)
        place = np.zeros(shape, dtype=np.intp)
        pickup, dropoff = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
        ready, promised = np.full(shape, -np.inf), np.full(shape, np.inf)
        for k, trip in enumerate(trips):
            for s, stop in enumerate(trip.stops):
                place[k, s] = stop.place
                if stop.kind is StopKind.PICKUP:
                    pickup[k, s] = True
                    ready[k, s] = max(orders[o].ready_at for o in stop.orders)
                else:
                    dropoff[k, s] = True
                    promised[k, s] = orders[stop.orders[0]].promised_at
            place[k, len(trip.stops) :] = trip.stops[-1].place
        units = np.array([sum(orders[o].units for o in trip.orders) for trip in trips], dtype=np.int64)
        return cls(place, pickup, dropoff, ready, promised, units)


@dataclass(frozen=True)
class _Plan:
    arrive: NDArray[np.float64]  # courier x trip: when it would be at the first store
    cost: NDArray[np.float64]


def _timelines(
    trips: _Padded,
    couriers: Sequence[CourierState],
    reach: NDArray[np.float64],
    start: NDArray[np.float64],
    travel: Travel,
    rules: DispatchRules,
) -> _Plan:
    """Every trip done by every courier (arrays courier x trip): reach the first store just before its food
    is expected, or as soon as it can; wait at each store for its food; ride; hand over. Cost: the courier's
    busy seconds plus the lateness against each promise, weighted; a trip the courier cannot carry, or
    not finish within its shift, is infeasible."""
    modes = sorted({c.courier.mode for c in couriers})
    mode_row = np.array([modes.index(c.courier.mode) for c in couriers])
    origins, ends = trips.place[:, :-1].ravel(), trips.place[:, 1:].ravel()
    legs = np.stack([travel.between(m, origins, ends).reshape(len(trips.place), -1) for m in modes])
    dropoff = np.array([DROPOFF_S[c.courier.mode] for c in couriers])[:, None]
    arrive = np.maximum(start[:, None] + reach, trips.ready[:, 0][None, :] - rules.batching.early_s)
    t, late = arrive.copy(), np.zeros_like(arrive)
    for s in range(trips.place.shape[1]):
        if s:
            t += legs[mode_row, :, s - 1]
        t = np.where(trips.pickup[:, s], np.maximum(t, trips.ready[:, s]) + PICKUP_S, t)
        t = np.where(trips.dropoff[:, s], t + dropoff, t)
        late += np.where(trips.dropoff[:, s], np.maximum(0.0, t - trips.promised[:, s]), 0.0)
    capacity = np.array([c.courier.capacity for c in couriers])[:, None]
    shift_end = np.array([c.courier.shift_end for c in couriers])[:, None]
    cost = reach + (t - arrive) + rules.lateness_weight * late
    cost = np.where((capacity < trips.units[None, :]) | (t > shift_end), INFEASIBLE, cost)
    return _Plan(arrive, cost)
