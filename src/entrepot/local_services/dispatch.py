"""Dispatch of on-demand orders in rounds: the rules, pure (no I/O; `now` is always passed in).

Each round (every `period_s`):
1. orders whose food is ready within the horizon and that no courier has started on are batched into trips
   (`batching.batch`: same or near stores, ready times close enough, room in the bag, no promise broken);
2. those trips are matched to couriers who are free or soon free with a minimum-cost assignment (scipy's
   `linear_sum_assignment`) on courier seconds plus a heavy price on lateness;
3. a match is committed only when its courier must leave now to reach the store as the food is ready;
   every other match is thrown away and planned again next round with what has changed since
   (new orders, cancellations, couriers freed), so nothing waits on a decision taken too early;
4. a courier that has not reached its first store well after it was expected is released: its orders go
   back to be planned again, and it is free once it gets somewhere.

`Dispatcher` keeps the state between rounds and hears what happens (placed, cancelled, arrived, picked up,
delivered, freed); `GreedyDispatcher` is the baseline the benchmark compares with: each order at once to
the nearest free courier, alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.local_services.batching import BatchRules, batch
from entrepot.local_services.ondemand import (
    DROPOFF_S,
    PICKUP_S,
    QUOTE_MODE,
    Courier,
    Order,
    Quote,
    Stop,
    StopKind,
    Store,
    Travel,
    Trip,
    quote,
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


class Status(StrEnum):
    PENDING = "pending"  # waiting for a courier
    COMMITTED = "committed"  # a courier is on its way to the store
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


@dataclass
class OrderState:
    order: Order
    status: Status = Status.PENDING
    courier: int | None = None


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


@dataclass(frozen=True)
class Round:
    commits: list[Commit]
    released: list[int]  # couriers taken off their trips (late): they stop at their next place


class Dispatcher:
    def __init__(
        self,
        stores: Sequence[Store],
        couriers: Sequence[Courier],
        travel: Travel,
        rules: DispatchRules | None = None,
    ) -> None:
        self.stores = {store.id: store for store in stores}
        self.couriers = {c.id: CourierState(c, c.place, c.shift_start) for c in couriers}
        self.travel = travel
        self.rules = rules or DispatchRules()
        self.orders: dict[int, OrderState] = {}
        self._pending: dict[int, Order] = {}
        self._backlog_s = 0.0
        biggest = max((c.capacity for c in couriers), default=0)
        self._max_units = min(biggest, self.rules.batching.max_units)  # the most one order may carry
        self._pool: dict[Mode, tuple[NDArray[np.intp], NDArray[np.float64]]] | None = None

    @property
    def waiting(self) -> int:
        """Orders waiting for a courier."""
        return len(self._pending)

    # -- what happens between rounds -------------------------------------------------------------------
    def place(self, order_id: int, store_id: int, place: int, units: int, now: float) -> Order:
        """Quote an order from the current state and take it; a closed store or an order no courier can
        carry is refused (nothing is recorded)."""
        store = self.stores.get(store_id)
        if store is None:
            raise ValidationFailed(f"no store {store_id}", [FieldError("store", "unknown")])
        if not 1 <= units <= self._max_units:
            raise ValidationFailed(
                f"an order carries 1 to {self._max_units} units, not {units}",
                [FieldError("units", "more than a courier carries")],
            )
        if order_id in self.orders:
            raise ValidationFailed(f"order {order_id} exists", [FieldError("id", "taken")])
        promise = self.quote(store, place, now)
        order = Order(order_id, store_id, place, units, now, now + store.prep_s, promise.promised_at)
        self.orders[order_id] = OrderState(order)
        self._pending[order_id] = order
        return order

    def quote(self, store: Store, place: int, now: float) -> Quote:
        """The promise for an order from this store to this door now: the nearest free courier's ride to
        the store, the backlog seen at the last round, the ride to the door."""
        ride = float(self.travel.between(QUOTE_MODE, _one(store.place), _one(place))[0])
        return quote(store, now, ride, self._reach_s(store.place, now), self._backlog_s)

    def _reach_s(self, store_place: int, now: float) -> float:
        """Seconds until the nearest courier could be at the store (free now, or soon free), among the
        couriers as the last round left them: quotes between rounds cost a column of lookups each."""
        if self._pool is None:
            self._pool = self._free_pool(now)
        best = float("inf")
        for mode, (places, free_at) in self._pool.items():
            reach = np.maximum(free_at - now, 0.0) + self.travel.matrix(mode, places, _one(store_place))[:, 0]
            best = min(best, float(reach.min()))
        return best if best < float("inf") else self.rules.horizon_s

    def _free_pool(self, now: float) -> dict[Mode, tuple[NDArray[np.intp], NDArray[np.float64]]]:
        """Per mode, where the couriers free within the horizon will be, and from when."""
        return {
            mode: (
                np.array([s.place for s in states], dtype=np.intp),
                np.array([s.free_at for s in states]),
            )
            for mode, states in self._by_mode(self._available(now, now + self.rules.horizon_s)).items()
        }

    def cancel(self, order_id: int, now: float) -> int | None:
        """Cancel an order not yet picked up; returns the courier that was on its way for it, if any (its
        trip loses the order). An order already picked up or delivered is not cancelled."""
        state = self.orders.get(order_id)
        if state is None:
            raise ValidationFailed(f"no order {order_id}", [FieldError("order", "unknown")])
        if state.status not in (Status.PENDING, Status.COMMITTED):
            raise ValidationFailed(
                f"order {order_id} is {state.status}: too late to cancel", [FieldError("order", "too late")]
            )
        courier, state.status, state.courier = state.courier, Status.CANCELLED, None
        self._pending.pop(order_id, None)
        return courier

    def arrived(self, courier_id: int, now: float) -> None:
        """A courier reached its trip's first store."""
        self.couriers[courier_id].reached = True

    def picked_up(self, order_ids: Sequence[int], now: float) -> None:
        for order_id in order_ids:
            self.orders[order_id].status = Status.PICKED_UP

    def delivered(self, order_id: int, now: float) -> None:
        self.orders[order_id].status = Status.DELIVERED

    def freed(self, courier_id: int, place: int, now: float) -> None:
        """A courier has nothing more to do and waits at `place`."""
        state = self.couriers[courier_id]
        state.place, state.free_at, state.trip = place, now, None
        state.released = state.reached = False

    # -- a round -----------------------------------------------------------------------------------------
    def round(self, now: float) -> Round:
        released = self._release_late(now)
        commits = self._plan(now)
        for commit in commits:
            self._commit(commit)
        self._backlog_s = self._backlog(now)
        self._pool = self._free_pool(now)
        return Round(commits, released)

    def _release_late(self, now: float) -> list[int]:
        """Couriers that have not reached their first store `late_grace_s` after they were expected: their
        orders not yet picked up are planned again."""
        released = []
        for state in self.couriers.values():
            trip = state.trip
            if trip is None or state.reached or now <= state.eta_first + self.rules.late_grace_s:
                continue
            for order_id in trip.orders:
                order = self.orders[order_id]
                if order.status is Status.COMMITTED and order.courier == state.courier.id:
                    order.status, order.courier = Status.PENDING, None
                    self._pending[order_id] = order.order
            state.trip, state.released = None, True
            released.append(state.courier.id)
        return released

    def _commit(self, commit: Commit) -> None:
        state = self.couriers[commit.courier]
        state.trip, state.eta_first, state.reached = commit.trip, commit.eta_first, False
        state.free_at, state.place = commit.free_at, commit.trip.stops[-1].place
        for order_id in commit.trip.orders:
            self.orders[order_id].status, self.orders[order_id].courier = Status.COMMITTED, commit.courier
            del self._pending[order_id]

    def _available(self, now: float, until: float) -> list[CourierState]:
        """Couriers on shift who are free by `until` and not moving off a released trip."""
        return [
            s
            for s in self.couriers.values()
            if not s.released
            and s.courier.shift_start <= now < s.courier.shift_end
            and s.free_at <= until
            and (s.trip is None or s.free_at > now)
        ]

    @staticmethod
    def _by_mode(states: Sequence[CourierState]) -> dict[Mode, list[CourierState]]:
        grouped: dict[Mode, list[CourierState]] = {}
        for state in states:
            grouped.setdefault(state.courier.mode, []).append(state)
        return grouped

    def _backlog(self, now: float) -> float:
        """How long a new order should expect to wait for a courier beyond its kitchen time: the orders due
        within the horizon that outnumber the couriers free to take them, spread over the couriers on
        shift, each taking a typical trip's time."""
        due = sum(1 for o in self._pending.values() if o.ready_at <= now + self.rules.horizon_s)
        free = len(self._available(now, now))
        on_shift = sum(
            1 for s in self.couriers.values() if s.courier.shift_start <= now < s.courier.shift_end
        )
        shortfall = max(0.0, due / self.rules.batching.typical_orders_per_trip - free)
        return shortfall * self.rules.batching.typical_trip_s / max(1, on_shift)

    def _plan(self, now: float) -> list[Commit]:
        due = [o for o in self._pending.values() if o.ready_at <= now + self.rules.horizon_s]
        if not due:
            return []
        couriers = self._available(now, now + self.rules.horizon_s)
        if not couriers:
            return []
        trips = batch(due, self.stores, self.travel, now, self.rules.batching)
        orders = {o.id: o for o in due}
        return match(trips, orders, couriers, self.travel, now, self.rules)


class GreedyDispatcher(Dispatcher):
    """The baseline: each waiting order, oldest first, to the nearest free courier that can carry it,
    alone and at once (the courier waits at the store if the food is not ready)."""

    def _plan(self, now: float) -> list[Commit]:
        waiting = sorted(self._pending.values(), key=lambda o: o.placed_at)
        free = self._available(now, now)
        if not waiting or not free:
            return []
        stores = np.array([self.stores[o.store].place for o in waiting], dtype=np.intp)
        reach = approach_seconds(free, stores, self.travel)
        capacity = np.array([s.courier.capacity for s in free])
        taken = np.zeros(len(free), dtype=bool)
        commits = []
        for column, order in enumerate(waiting):
            cost = np.where(taken | (capacity < order.units), np.inf, reach[:, column])
            row = int(np.argmin(cost))
            if not np.isfinite(cost[row]):
                continue
            taken[row] = True
            trip = single_trip(order, self.stores[order.store])
            at_store = now + float(reach[row, column])
            starts, free_at = schedule(trip, {order.id: order}, free[row].courier.mode, at_store, self.travel)
            commits.append(Commit(free[row].courier.id, trip, now, at_store, starts, free_at))
        return commits


def single_trip(order: Order, store: Store) -> Trip:
    return Trip(
        (order.id,),
        (Stop(StopKind.PICKUP, store.place, (order.id,)), Stop(StopKind.DROPOFF, order.place, (order.id,))),
    )


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


def _one(place: int) -> NDArray[np.intp]:
    return np.array([place], dtype=np.intp)
