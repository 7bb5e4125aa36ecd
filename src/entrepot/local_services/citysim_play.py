"""Play a city day through a dispatcher with a simulated clock.

The simulator holds the truth dispatch does not see: how long each kitchen really takes, how long each
ride really takes (the table's time times a random factor, and now and then an incident that makes a
courier late), when buyers cancel. Between rounds it moves time forward event by event (orders placed,
cancelled, couriers arriving and handing over), telling the dispatcher what happened; at each round it
asks the dispatcher for its decisions (timed: the only wall-clock reading) and carries them out."""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from entrepot.kernel.errors import ValidationFailed
from entrepot.local_services.citysim import CityDay, PlacedOrder
from entrepot.local_services.dispatch import Dispatcher
from entrepot.local_services.dispatch_match import Commit
from entrepot.local_services.ondemand import DROPOFF_S, PICKUP_S, Stop, StopKind


@dataclass(frozen=True)
class Roads:
    """How rides differ from the table: a factor per ride (lognormal, mean 1) and incidents (a flat tyre,
    a closed street) that delay a trip's first ride."""

    ride_sigma: float = 0.12
    incident_rate: float = 0.03
    incident_s: tuple[float, float] = (240.0, 900.0)


class Event(IntEnum):
    DONE = 0  # a courier finished at a stop
    ARRIVE = 1
    CANCEL = 2
    PLACE = 3


@dataclass
class _Rider:
    at: int
    stops: deque[Stop] = field(default_factory=deque)
    target: Stop | None = None
    busy_since: float | None = None
    first_leg: bool = False
    first_store_pending: bool = False


@dataclass
class Played:
    """What a day gave: counts, each delivered order's lateness against its promise, courier busy seconds
    (from leaving for a trip to being free again) and the wall-clock milliseconds of each round that had
    orders to dispatch."""

    name: str
    placed: int = 0
    refused: int = 0
    cancelled: int = 0
    delivered: int = 0
    on_time: int = 0
    courier_s: float = 0.0
    released: int = 0
    trips: int = 0
    round_ms: list[float] = field(default_factory=list)
    promise_s: list[float] = field(default_factory=list)

    @property
    def on_time_share(self) -> float:
        return self.on_time / max(1, self.placed - self.cancelled)

    @property
    def courier_minutes_per_order(self) -> float:
        return self.courier_s / 60.0 / max(1, self.delivered)

    @property
    def p95_round_ms(self) -> float:
        return float(np.percentile(self.round_ms, 95)) if self.round_ms else 0.0


class Player:
    Progress = Callable[[float, Played], None]  # told the clock and the tally after every round

    def __init__(
        self,
        day: CityDay,
        dispatcher: Dispatcher,
        name: str,
        roads: Roads | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.day, self.dispatcher, self.roads = day, dispatcher, roads or Roads()
        self.progress = progress
        self.rng = np.random.default_rng(day.seed + 1)
        self.riders = {c.id: _Rider(c.place) for c in day.couriers}
        self.modes = {c.id: c.mode for c in day.couriers}
        self.ready_at: dict[int, float] = {}
        self.assigned: dict[int, int | None] = {}
        self.picked: set[int] = set()
        self.gone: set[int] = set()  # cancelled
        self.promised: dict[int, float] = {}
        self.events: list[tuple[float, int, int, int, object]] = []
        self.sequence = itertools.count()
        self.played = Played(name)

    def play(self) -> Played:
        for order in self.day.orders:
            self._push(order.placed_at, Event.PLACE, order)
            if order.cancel_at is not None:
                self._push(order.cancel_at, Event.CANCEL, order)
        period = self.dispatcher.rules.period_s
        now = self.day.start
        while now <= self.day.end:
            self._run_until(now)
            has_work = self.dispatcher.waiting > 0
            started = time.perf_counter()
            decided = self.dispatcher.round(now)
            if has_work:
                self.played.round_ms.append((time.perf_counter() - started) * 1000)
            for courier in decided.released:
                self._release(courier)
            for commit in decided.commits:
                self._start(commit)
            if self.progress is not None:
                self.progress(now, self.played)
            if now > self.day.orders[-1].placed_at and not self.events and not self.dispatcher.waiting:
                break  # every order placed, every courier done, nothing waiting
            now += period
        return self.played

    # -- events ------------------------------------------------------------------------------------------
    def _push(self, when: float, kind: Event, payload: object) -> None:
        heapq.heappush(self.events, (when, int(kind), next(self.sequence), 0, payload))

    def _run_until(self, now: float) -> None:
        while self.events and self.events[0][0] <= now:
            when, kind, _, _, payload = heapq.heappop(self.events)
            if kind == Event.PLACE:
                assert isinstance(payload, PlacedOrder)
                self._place(payload)
            elif kind == Event.CANCEL:
                assert isinstance(payload, PlacedOrder)
                self._cancel(payload, when)
            elif kind == Event.ARRIVE:
                assert isinstance(payload, int)
                self._arrive(payload, when)
            else:
                assert isinstance(payload, int)
                self._done(payload, when)

    def _place(self, placed: PlacedOrder) -> None:
        self.played.placed += 1
        try:
            order = self.dispatcher.place(
                placed.id, placed.store, placed.place, placed.units, placed.placed_at
            )
        except ValidationFailed:
            self.played.refused += 1
            self.gone.add(placed.id)
            return
        self.ready_at[placed.id] = placed.placed_at + placed.prep_s
        self.promised[placed.id] = order.promised_at
        self.played.promise_s.append(order.promised_at - placed.placed_at)

    def _cancel(self, placed: PlacedOrder, when: float) -> None:
        if placed.id in self.gone or placed.id in self.picked:
            return  # refused at checkout, or already on its way: too late to cancel
        self.dispatcher.cancel(placed.id, when)
        self.gone.add(placed.id)
        self.assigned[placed.id] = None
        self.played.cancelled += 1

    # -- couriers ----------------------------------------------------------------------------------------
    def _start(self, commit: Commit) -> None:
        rider = self.riders[commit.courier]
        rider.stops = deque(commit.trip.stops)
        rider.busy_since, rider.first_leg, rider.first_store_pending = commit.depart_at, True, True
        for order_id in commit.trip.orders:
            self.assigned[order_id] = commit.courier
        self.played.trips += 1
        self._go(commit.courier, commit.depart_at)

    def _release(self, courier: int) -> None:
        """Taken off its trip: it finishes the ride it is on and stops there."""
        rider = self.riders[courier]
        rider.stops.clear()
        for order_id, holder in self.assigned.items():
            if holder == courier and order_id not in self.picked:
                self.assigned[order_id] = None
        self.played.released += 1

    def _live(self, courier: int, stop: Stop) -> list[int]:
        return [o for o in stop.orders if self.assigned.get(o) == courier and o not in self.gone]

    def _go(self, courier: int, now: float) -> None:
        rider = self.riders[courier]
        while rider.stops and not self._live(courier, rider.stops[0]):
            rider.stops.popleft()  # every order of this stop was cancelled or taken off the trip
        if not rider.stops:
            self._free(courier, now)
            return
        rider.target = rider.stops.popleft()
        mode = self.modes[courier]
        here, there = np.array([rider.at]), np.array([rider.target.place])
        ride = float(self.day.travel.between(mode, here, there)[0])
        ride *= float(self.rng.lognormal(-0.5 * self.roads.ride_sigma**2, self.roads.ride_sigma))
        if rider.first_leg and self.rng.random() < self.roads.incident_rate:
            ride += float(self.rng.uniform(*self.roads.incident_s))
        rider.first_leg = False
        self._push(now + ride, Event.ARRIVE, courier)

    def _arrive(self, courier: int, now: float) -> None:
        rider = self.riders[courier]
        stop = rider.target
        assert stop is not None
        rider.at = stop.place
        if stop.kind is StopKind.PICKUP and rider.first_store_pending:
            rider.first_store_pending = False
            self.dispatcher.arrived(courier, now)
        live = self._live(courier, stop)
        if not live:
            self._go(courier, now)
            return
        if stop.kind is StopKind.PICKUP:
            done = max(now, max(self.ready_at[o] for o in live)) + PICKUP_S  # the food is ready when it is
        else:
            done = now + DROPOFF_S[self.modes[courier]]
        self._push(done, Event.DONE, courier)

    def _done(self, courier: int, now: float) -> None:
        rider = self.riders[courier]
        stop = rider.target
        assert stop is not None
        live = self._live(courier, stop)
        if stop.kind is StopKind.PICKUP:
            self.picked.update(live)
            self.dispatcher.picked_up(live, now)
        else:
            for order_id in live:
                self.dispatcher.delivered(order_id, now)
                self.played.delivered += 1
                self.played.on_time += now <= self.promised[order_id]
        rider.target = None
        self._go(courier, now)

    def _free(self, courier: int, now: float) -> None:
        rider = self.riders[courier]
        if rider.busy_since is not None:
            self.played.courier_s += now - rider.busy_since
        rider.busy_since = None
        self.dispatcher.freed(courier, rider.at, now)
