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

The matching itself (steps 2 and 3) is `dispatch_match`. `Dispatcher` keeps the state between rounds
and hears what happens (placed, cancelled, arrived, picked up, delivered, freed); `GreedyDispatcher` is
the baseline the benchmark compares with: each order at once to the nearest free courier, alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from entrepot.kernel.errors import FieldError, ValidationFailed
from entrepot.local_services.batching import batch
from entrepot.local_services.dispatch_match import (
    Commit,
    CourierState,
    DispatchRules,
    approach_seconds,
    match,
    schedule,
)
from entrepot.local_services.ondemand import (
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


def _one(place: int) -> NDArray[np.intp]:
    return np.array([place], dtype=np.intp)
